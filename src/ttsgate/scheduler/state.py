"""The queue and batch state of one engine: pure, synchronous, driven by an explicit ``now``.

In the style of text-generation-inference's ``backends/v3/src/queue.rs``: the asyncio batcher owns
one ``QueueState`` per engine and asks it for the next batch whenever a worker is free; everything
about *which* jobs go together and *which* requests are accepted lives here, so it is testable with
a fake clock and no event loop.

Rules:

* **Admission is per stream, by real-time feasibility** (``admit``): a new stream (one request, or
  a live source's first segment) brings *all* its expected work — per segment, its expected speech
  (``expected_speech_s``) × the engine's measured pace (``WorkEstimate``) — and its playback
  deadlines (``deadline.Playback``). It is refused (``OverloadedError``, code ``realtime``, with a
  ``retry_after_s``) when, with the work already accepted, it or an accepted stream would miss a
  deadline (``deadline.admission_lateness``). Work is reserved from admission until its job starts
  or the caller reports it done another way (a cache hit, another request's single-flight), so a
  request whose segments are shared with others still counts in full. A live source's later
  segments are reserved as they arrive (``reserve``), never refused.
* Safety nets on top, both also refusals before any byte: at most ``max_queue`` segments wait,
  queued or reserved (code ``queue_full``), and with ``max_queue_wait_s`` > 0 a stream is refused
  when the synthesis ahead of it would take longer than that (code ``queue_wait``).
* **Order is earliest deadline first**: a job ranks by its segment's playback deadline, re-read at
  every batch (a stream's deadlines move when its first audio is delivered). A request's first
  segment is due ``ttfa_target_s`` after it arrived; a later segment when the audio ahead of it has
  played, so it never goes before a first segment while it still has slack, and nothing starves
  (every deadline is a fixed time once set).
* Only jobs with equal ``key`` (the engine's ``batch_key(item)``) share a batch: the group holding
  the most urgent job goes first, with its most urgent members. A group is released when it holds
  ``max_batch_size`` jobs, or when its oldest job has waited ``max_wait_ms`` (Triton / Ray Serve
  semantics); with ``max_wait_ms == 0`` whatever is waiting goes at once.
* A job whose waiter is already done (the client left, the call was cancelled) is dropped, never
  synthesized. A job past its hard ``deadline`` (the request timeout) is failed with
  ``RequestTimeoutError`` instead of run. A batch that ends after a member's playback deadline
  counts as a missed deadline (``finished`` returns how many).
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ttsgate.audio.chunk import AudioChunk
from ttsgate.engines.base import SynthesisInput
from ttsgate.exceptions import OverloadedError, RequestTimeoutError
from ttsgate.scheduler.deadline import Playback, Unit, admission_lateness
from ttsgate.scheduler.estimate import WorkEstimate, expected_speech_s

# Drain-rate window, and the per-job time assumed before any batch has been released.
RATE_WINDOW_S = 30.0
FALLBACK_JOB_S = 0.25
RETRY_AFTER_MIN_S = 1.0
RETRY_AFTER_MAX_S = 60.0
# Default time-to-first-audio target: when a request's first segment is due (its synthesis done).
TTFA_TARGET_S = 1.0


class Waiter(Protocol):
    """What the state needs of a job's future (``asyncio.Future`` and ``concurrent.futures.Future`` fit)."""

    def done(self) -> bool: ...

    def set_result(self, result: AudioChunk, /) -> None: ...

    def set_exception(self, exception: BaseException, /) -> None: ...


@dataclass(frozen=True, slots=True)
class Work:
    """One unit of a stream's expected work on this engine: a language run of segment ``segment``."""

    unit: Hashable  # unique within its stream, e.g. (segment, run)
    segment: int
    speech_s: float  # expected seconds of speech


@dataclass(eq=False, slots=True)
class Job:
    """One segment (run) waiting for an engine. ``enqueued`` and ``deadline`` (the hard timeout)
    are on the state's clock; ``playback``/``segment`` give its playback deadline (EDF rank)."""

    item: SynthesisInput
    key: Hashable
    waiter: Waiter
    enqueued: float
    playback: Playback
    segment: int = 0
    unit: Hashable = None  # its reserved Work's unit (None: nothing reserved)
    deadline: float | None = None
    seq: int = field(default=0, compare=False)
    speech_s: float = field(default=0.0, compare=False)  # expected seconds of speech, set on append
    # Called on the event loop with each piece of the audio as the engine makes it (engines whose
    # ``pieces`` streams; run alone, not batched); the waiter still gets the whole audio at the end.
    on_piece: Callable[[AudioChunk], None] | None = field(default=None, compare=False)

    def order(self) -> tuple[float, int]:
        return (self.playback.deadline(self.segment), self.seq)


class QueueState:
    def __init__(
        self,
        *,
        max_queue: int,
        max_batch_size: int,
        max_wait_ms: float,
        name: str = "",
        max_queue_wait_s: float = 0.0,
        workers: int = 1,
        pace: float | None = None,
        samples: Sequence[tuple[float, float]] = (),
        realtime: bool = True,
    ) -> None:
        if max_queue < 1 or max_batch_size < 1 or max_wait_ms < 0:
            raise ValueError("max_queue and max_batch_size must be >= 1, max_wait_ms >= 0")
        self.name = name
        self.max_queue = max_queue
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000.0
        self.max_queue_wait_s = max_queue_wait_s
        self.realtime = realtime
        self.work = WorkEstimate(workers, pace, samples)  # samples: (speech s, engine s) at warm-up
        self._jobs: list[Job] = []
        self._seq = itertools.count()
        # Reserved work per accepted stream: Playback.id → (playback, unit → Work)
        self._reserved: dict[int, tuple[Playback, dict[Hashable, Work]]] = {}
        self._running: dict[int, list[tuple[Playback, int]]] = {}  # batch token → its members' deadlines
        self._released: deque[tuple[float, int]] = deque()  # (time, jobs) of recent batches
        self._released_jobs = 0  # sum of the jobs in _released
        self.released_total = 0
        self.rejected_total = 0
        self.dropped_total = 0  # waiter done before its turn (client left)
        self.expired_total = 0
        self.missed_total = 0  # segments ready after their playback deadline

    def __len__(self) -> int:
        return len(self._jobs)

    @property
    def waiting(self) -> int:
        """Segments accepted and not started yet: queued, or reserved by a stream (the count bound)."""
        return max(len(self._jobs), sum(len(units) for _, units in self._reserved.values()))

    @property
    def streams(self) -> int:
        """Accepted streams with work still reserved here."""
        return len(self._reserved)

    # -- admission -----------------------------------------------------------------------------

    def admit(self, playback: Playback, work: Sequence[Work], now: float) -> None:
        """Accept a new stream's ``work`` (reserving it) or raise ``OverloadedError``."""
        self._drop_done()
        if (waiting := self.waiting) >= self.max_queue:
            why = f"{waiting} segments accepted and waiting (TTSGATE_MAX_QUEUE={self.max_queue})"
            self._refuse(why, self.retry_after(now), "queue_full")
        wait = self.expected_wait(now) if self.max_queue_wait_s > 0 else None
        if wait is not None and wait > self.max_queue_wait_s:
            why = f"~{wait:.1f} s of synthesis ahead (TTSGATE_MAX_QUEUE_WAIT_S={self.max_queue_wait_s:g})"
            self._refuse(why, _retry_s(wait), "queue_wait")
        if self.realtime and self.work.pace is not None:
            cost = self.work.margin_cost
            new = [Unit(playback.deadline(w.segment), cost(w.speech_s), playback.id) for w in work]
            late = admission_lateness(self._units(now), new, now, self.work.workers, self.work.running(now))
            if late > 0:
                who = (  # no stream left may still mean work running: jobs of streams that just ended
                    f"{self.streams} streams in progress; one more would leave a listener waiting"
                    if self.streams
                    else "synthesis already under way would leave this request's listener waiting"
                )
                why = (
                    f"{who} ~{late:.1f} s past its audio's playback time or the time-to-first-audio "
                    f"target (TTSGATE_TTFA_TARGET_S={playback.ttfa_target_s:g})"
                )
                self._refuse(why, _retry_s(late), "realtime")
        self.reserve(playback, work)

    def reserve(self, playback: Playback, work: Sequence[Work]) -> None:
        """Reserve more of an accepted stream's work (a live source's next segment): never refused."""
        _, units = self._reserved.setdefault(playback.id, (playback, {}))
        for w in work:
            units[w.unit] = w

    def release(self, playback: Playback, unit: Hashable) -> None:
        """A reserved unit is done without this engine's work (cache hit, shared synthesis)."""
        entry = self._reserved.get(playback.id)
        if entry is not None:
            entry[1].pop(unit, None)
            if not entry[1]:  # nothing reserved left (its last jobs may still be running)
                del self._reserved[playback.id]

    def close_stream(self, playback: Playback) -> None:
        """The stream ended (finished, failed or left): drop what it still had reserved."""
        self._reserved.pop(playback.id, None)

    def append(self, job: Job) -> None:
        """Queue ``job`` (at ``job.enqueued``); admission happened before, per stream."""
        self._drop_done()
        job.speech_s = expected_speech_s(job.item.text, job.item.speed)
        job.seq = next(self._seq)
        self._jobs.append(job)

    def expected_wait(self, now: float) -> float | None:
        """Seconds a job queued now would wait before it runs (None until the pace is known)."""
        return self.work.wait([j.speech_s for j in self._jobs], now)

    def finished(self, batch: list[Job], now: float, *, ok: bool = True) -> int:
        """A batch returned by ``next_batch`` has ended (its time measures the engine's pace);
        returns how many of its segments missed their playback deadline."""
        self.work.finished(batch[0].seq, now, ok=ok)
        members = self._running.pop(batch[0].seq, [])
        missed = sum(1 for pb, k in members if ok and now > pb.deadline(k))
        self.missed_total += missed
        return missed

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
        self._reserved.clear()
        return jobs

    # -- batching ------------------------------------------------------------------------------

    def next_batch(self, now: float) -> list[Job] | None:
        """The next batch to run now, removed from the queue; None when no group is ready yet."""
        self._expire(now)
        self._jobs.sort(key=Job.order)  # deadlines move as streams deliver audio
        best: list[Job] | None = None
        for members in self._groups().values():
            if self._ready(members, now) and (best is None or members[0].order() < best[0].order()):
                best = members
        if best is None:
            return None
        batch = best[: self.max_batch_size]
        taken = set(map(id, batch))
        self._jobs = [j for j in self._jobs if id(j) not in taken]
        for job in batch:  # its work is running now: no longer reserved
            self.release(job.playback, job.unit)
        self.work.started(batch[0].seq, now, sum(j.speech_s for j in batch))
        self._running[batch[0].seq] = [(j.playback, j.segment) for j in batch]
        self._released.append((now, len(batch)))
        self._released_jobs += len(batch)
        self.released_total += len(batch)
        return batch

    def next_wakeup(self, now: float) -> float | None:
        """Seconds until ``next_batch`` may return something new (a group ripens or a deadline
        passes); 0 when something is ready now, None when the queue is empty."""
        if not self._jobs:
            return None
        times: list[float] = []  # held jobs (``_groups``) wait for a wake-up, or their deadline
        for members in self._groups().values():
            if len(members) >= self.max_batch_size:
                return 0.0
            times.append(min(j.enqueued for j in members) + self.max_wait_s)
        times.extend(j.deadline for j in self._jobs if j.deadline is not None)
        return max(0.0, min(times) - now) if times else None

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

    def _refuse(self, why: str, retry: float, code: str) -> None:
        self.rejected_total += 1
        raise OverloadedError(
            f"engine {self.name!r} is busy: {why}; retry in {retry:.0f} s", retry_after_s=retry, code=code
        )

    def _units(self, now: float) -> list[Unit]:
        """Every accepted stream's reserved work, as EDF units (deadline, engine seconds). A unit
        already overdue and not even queued is waiting for its client, who stopped reading (the
        pipeline queues only ``lookahead`` segments past the one being sent): planned last, so
        it never blocks others, and still counted."""
        queued = {(j.playback.id, j.unit) for j in self._jobs}
        units = []
        for pb, reserved in self._reserved.values():
            for w in reserved.values():
                due = pb.deadline(w.segment)
                if due < now and (pb.id, w.unit) not in queued:
                    due = math.inf
                units.append(Unit(due, self.work.margin_cost(w.speech_s), pb.id))
        return units

    def _groups(self) -> dict[Hashable, list[Job]]:
        """Jobs that may run now by batch key. A stream's later segments are held while its first
        segment is queued or running here and no audio of it is out (``Playback.play_start``): run
        beside their own first segment they slowed it 1.8-1.9× on 2 cores (benchmarks/first_audio.md),
        and they are not due before it has played."""
        firsts = {id(j.playback) for j in self._jobs if j.segment == 0}
        firsts.update(id(pb) for members in self._running.values() for pb, seg in members if seg == 0)
        groups: dict[Hashable, list[Job]] = {}
        for job in self._jobs:  # sorted, so each group is in (deadline, arrival) order
            if job.segment > 0 and job.playback.play_start is None and id(job.playback) in firsts:
                continue
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
