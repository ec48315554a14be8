"""The queue and batch state of one engine: pure, synchronous, driven by an explicit ``now``.

In the style of text-generation-inference's ``backends/v3/src/queue.rs``: the asyncio batcher owns
one ``QueueState`` per engine and asks it for the next batch whenever a worker is free; everything
about *which* jobs go together lives here, so it is testable with a fake clock and no event loop.

Rules (Triton / Ray Serve semantics for the timing):

* Only jobs with equal ``key`` (the engine's ``batch_key(item)``) share a batch.
* A group is released when it holds ``max_batch_size`` jobs, or when its oldest job has waited
  ``max_wait_ms``; with ``max_wait_ms == 0`` whatever is waiting goes at once.
* Order is by *virtual start time*, earliest first: a job of a request that started at ``since``
  with ``speech_before_s`` seconds of its speech ahead of it ranks at ``since + pace ×
  speech_before_s`` — when the segment would start if its request ran alone (the engine's pace
  measured by ``WorkEstimate``). So requests are served in order of arrival, segment by segment,
  and a long request's tail (its later segments are "due" far ahead) gives way to new requests'
  first segments instead of holding the engine until it ends; nothing starves, since every rank is
  a fixed time. Jobs without ``since``: arrival time, minus a head start of ``head_start_s`` for
  priority 0 (a request's first segment). Among ready groups the one holding the earliest job goes
  first.
* A job whose waiter is already done (the client left, the call was cancelled) is dropped, never
  synthesized. A job past its deadline is failed with ``RequestTimeoutError`` instead of run.
* At most ``max_queue`` jobs wait. A new request's first job (``admit=True``) finding the queue full
  gets ``OverloadedError`` with ``retry_after_s`` estimated from the recent drain rate; follow-up
  jobs of an accepted request (``admit=False``) are always accepted, so nothing accepted is lost.
* With ``max_queue_wait_s`` > 0, a new request is also refused when the work ahead of it (queued
  jobs' expected speech × the engine's measured pace, plus what is left of the running batches;
  ``WorkEstimate``) would keep it waiting longer than that: admission by time, not by count.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Protocol

from ttsgate.audio.chunk import AudioChunk
from ttsgate.engines.base import SynthesisInput
from ttsgate.exceptions import OverloadedError, RequestTimeoutError
from ttsgate.scheduler.estimate import WorkEstimate, expected_speech_s

# Drain-rate window, and the per-job time assumed before any batch has been released.
RATE_WINDOW_S = 30.0
FALLBACK_JOB_S = 0.25
RETRY_AFTER_MIN_S = 1.0
RETRY_AFTER_MAX_S = 60.0
# How far ahead of later segments a request's first segment may jump (seconds of their waiting):
# about one segment's synthesis. 2 s made the second clause of a request wait ~2 s under load
# (benchmarks/overload.md); 0.3 s kept time to first audio low with half the tail.
HEAD_START_S = 0.3


class Waiter(Protocol):
    """What the state needs of a job's future (``asyncio.Future`` and ``concurrent.futures.Future`` fit)."""

    def done(self) -> bool: ...

    def set_result(self, result: AudioChunk, /) -> None: ...

    def set_exception(self, exception: BaseException, /) -> None: ...


@dataclass(eq=False, slots=True)
class Job:
    """One segment waiting for an engine. ``enqueued`` and ``deadline`` are on the state's clock."""

    item: SynthesisInput
    key: Hashable
    waiter: Waiter
    enqueued: float
    priority: int = 1
    deadline: float | None = None
    since: float | None = None  # its request's start; None: order by arrival (minus the head start)
    speech_before_s: float = 0.0  # expected seconds of its request's speech before this job
    seq: int = field(default=0, compare=False)
    rank: float = field(default=0.0, compare=False)  # the virtual start time that orders it, set on append
    speech_s: float = field(default=0.0, compare=False)  # expected seconds of speech, set on append

    def order(self) -> tuple[float, int]:
        return (self.rank, self.seq)


class QueueState:
    def __init__(
        self,
        *,
        max_queue: int,
        max_batch_size: int,
        max_wait_ms: float,
        name: str = "",
        head_start_s: float = HEAD_START_S,
        max_queue_wait_s: float = 0.0,
        workers: int = 1,
        pace: float | None = None,
    ) -> None:
        if max_queue < 1 or max_batch_size < 1 or max_wait_ms < 0:
            raise ValueError("max_queue and max_batch_size must be >= 1, max_wait_ms >= 0")
        self.name = name
        self.max_queue = max_queue
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000.0
        self.head_start_s = head_start_s
        self.max_queue_wait_s = max_queue_wait_s
        self.work = WorkEstimate(workers, pace)
        self._jobs: list[Job] = []  # kept sorted by Job.order()
        self._seq = itertools.count()
        self._released: deque[tuple[float, int]] = deque()  # (time, jobs) of recent batches
        self._released_jobs = 0  # sum of the jobs in _released
        self.released_total = 0
        self.rejected_total = 0
        self.dropped_total = 0  # waiter done before its turn (client left)
        self.expired_total = 0

    def __len__(self) -> int:
        return len(self._jobs)

    # -- admission -----------------------------------------------------------------------------

    def append(self, job: Job, *, admit: bool = True) -> None:
        """Queue ``job`` (at ``job.enqueued``); raise ``OverloadedError`` when full and ``admit``."""
        self._drop_done()
        if admit:
            self._admit(job.enqueued)
        job.speech_s = expected_speech_s(job.item.text, job.item.speed)
        job.seq = next(self._seq)
        if job.since is not None:
            job.rank = job.since + self.work.cost(job.speech_before_s)
        else:
            job.rank = job.enqueued - (self.head_start_s if job.priority == 0 else 0.0)
        bisect.insort(self._jobs, job, key=Job.order)

    def expected_wait(self, now: float) -> float | None:
        """Seconds a job queued now would wait before it runs (None until the pace is known)."""
        return self.work.wait(sum(j.speech_s for j in self._jobs), now)

    def finished(self, batch: list[Job], now: float, *, ok: bool = True) -> None:
        """A batch returned by ``next_batch`` has ended (its time measures the engine's pace)."""
        self.work.finished(batch[0].seq, now, ok=ok)

    def discard(self, job: Job) -> bool:
        """Remove a waiting job (its caller left); False when it is no longer waiting."""
        try:
            self._jobs.remove(job)
        except ValueError:
            return False
        return True

    def drain(self) -> list[Job]:
        """Remove and return every waiting job (shutdown)."""
        jobs, self._jobs = self._jobs, []
        return jobs

    # -- batching ------------------------------------------------------------------------------

    def next_batch(self, now: float) -> list[Job] | None:
        """The next batch to run now, removed from the queue; None when no group is ready yet."""
        self._expire(now)
        best: list[Job] | None = None
        for members in self._groups().values():
            if self._ready(members, now) and (best is None or members[0].order() < best[0].order()):
                best = members
        if best is None:
            return None
        batch = best[: self.max_batch_size]
        taken = set(map(id, batch))
        self._jobs = [j for j in self._jobs if id(j) not in taken]
        self.work.started(batch[0].seq, now, sum(j.speech_s for j in batch))
        self._released.append((now, len(batch)))
        self._released_jobs += len(batch)
        self.released_total += len(batch)
        return batch

    def next_wakeup(self, now: float) -> float | None:
        """Seconds until ``next_batch`` may return something new (a group ripens or a deadline
        passes); 0 when something is ready now, None when the queue is empty."""
        if not self._jobs:
            return None
        times: list[float] = []
        for members in self._groups().values():
            if len(members) >= self.max_batch_size:
                return 0.0
            times.append(min(j.enqueued for j in members) + self.max_wait_s)
        times.extend(j.deadline for j in self._jobs if j.deadline is not None)
        return max(0.0, min(times) - now)

    # -- load estimates ------------------------------------------------------------------------

    def drain_rate(self, now: float) -> float:
        """Jobs released per second over the recent window (0 when none were)."""
        while self._released and self._released[0][0] < now - RATE_WINDOW_S:
            self._released_jobs -= self._released.popleft()[1]
        if not self._released:
            return 0.0
        return self._released_jobs / max(now - self._released[0][0], 1.0)

    def retry_after(self, now: float) -> float:
        """Seconds a refused client should wait: queued jobs / drain rate, clamped to [1, 60]."""
        rate = self.drain_rate(now)
        return _retry_s(len(self._jobs) / rate if rate > 0 else len(self._jobs) * FALLBACK_JOB_S)

    # -- internals -----------------------------------------------------------------------------

    def _admit(self, now: float) -> None:
        if len(self._jobs) >= self.max_queue:
            why = f"{len(self._jobs)} segments queued (TTSGATE_MAX_QUEUE={self.max_queue})"
            retry, code = self.retry_after(now), "queue_full"
        elif self.max_queue_wait_s > 0 and (wait := self.expected_wait(now)) is not None:
            if wait <= self.max_queue_wait_s:
                return
            why = f"~{wait:.1f} s of synthesis ahead (TTSGATE_MAX_QUEUE_WAIT_S={self.max_queue_wait_s:g})"
            retry, code = _retry_s(wait), "queue_wait"
        else:
            return
        self.rejected_total += 1
        raise OverloadedError(
            f"engine {self.name!r} is busy: {why}; retry in {retry:.0f} s", retry_after_s=retry, code=code
        )

    def _groups(self) -> dict[Hashable, list[Job]]:
        groups: dict[Hashable, list[Job]] = {}
        for job in self._jobs:  # sorted, so each group is in (rank, arrival) order
            groups.setdefault(job.key, []).append(job)
        return groups

    def _ready(self, members: list[Job], now: float) -> bool:
        if len(members) >= self.max_batch_size:
            return True
        return now - min(j.enqueued for j in members) >= self.max_wait_s

    def _drop_done(self) -> None:
        kept = [j for j in self._jobs if not j.waiter.done()]
        self.dropped_total += len(self._jobs) - len(kept)
        self._jobs = kept

    def _expire(self, now: float) -> None:
        self._drop_done()
        kept: list[Job] = []
        for job in self._jobs:
            if job.deadline is not None and job.deadline <= now:
                self.expired_total += 1
                job.waiter.set_exception(
                    RequestTimeoutError(f"segment waited {now - job.enqueued:.2f} s and missed its deadline")
                )
            else:
                kept.append(job)
        self._jobs = kept


def _retry_s(estimate: float) -> float:
    """A wait estimate as a Retry-After: whole seconds in [RETRY_AFTER_MIN_S, RETRY_AFTER_MAX_S]."""
    if not math.isfinite(estimate):
        return RETRY_AFTER_MAX_S
    return float(min(max(math.ceil(estimate), RETRY_AFTER_MIN_S), RETRY_AFTER_MAX_S))
