"""Cross-request dynamic batching per engine: streams admitted by real-time feasibility, jobs run
earliest playback deadline first (see ``scheduler`` and ``state``)."""

from ttsgate.scheduler.deadline import Playback
from ttsgate.scheduler.guard import MemoryGuard
from ttsgate.scheduler.lane import EngineLimits
from ttsgate.scheduler.scheduler import Scheduler
from ttsgate.scheduler.state import Job, QueueState, Work

__all__ = ["EngineLimits", "Job", "MemoryGuard", "Playback", "QueueState", "Scheduler", "Work"]
