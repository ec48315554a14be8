"""Cross-request dynamic batching with a bounded queue per engine (see ``scheduler``)."""

from ttsgate.scheduler.guard import MemoryGuard
from ttsgate.scheduler.scheduler import EngineLimits, Scheduler
from ttsgate.scheduler.state import Job, QueueState

__all__ = ["EngineLimits", "Job", "MemoryGuard", "QueueState", "Scheduler"]
