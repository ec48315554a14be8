"""Playback deadlines and real-time feasibility: when a listener needs each segment, and whether the
engine can deliver every accepted stream's segments by then.

A stream is modelled as a real-time player (the simulated listener of ``ttsgate bench stream``):
it starts playing at its first audio and then consumes audio at the rate it was spoken, so

* segment 0 is due at ``start + ttfa_target_s`` (the time-to-first-audio target);
* segment ``k`` is due when the audio ahead of it has played:
  ``play_start + Σ audio(0..k-1)``, where ``play_start`` is when segment 0 was delivered and each
  ``audio(j)`` is the real length of a delivered segment or the expected length
  (``expected_speech_s``, rescaled by the real/expected ratio seen so far) of one not yet
  delivered. Before the first delivery ``play_start`` is taken as ``start``, the earliest it may be
  (a cached or shared first segment is delivered at once), but no later segment is due before the
  first.

Earliest deadline first (Liu & Layland 1973) orders the queue by these deadlines. Admission checks
the schedule EDF would make: the units of work (engine seconds each), most urgent first, each on
the first of ``m`` workers to free up (the running batches hold theirs for what they still need).
A unit finishing after its deadline is *late*. A new stream is admitted only when none of its units
is later than it would be alone on an idle engine, and no unit of an accepted stream becomes late,
or later than it already was, because of it (units already behind, e.g. of a client that reads
slowly, do not block everyone else while the new stream does not delay them). Times are seconds
on the scheduler's clock.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_ids = itertools.count()

# How much later than its deadline a unit may be expected to finish before it counts as late: the
# estimate's own noise (characters → seconds of speech, a fitted cost), and about the shortest gap
# in speech a listener notices (the stall limit of `ttsgate bench stream`).
LATE_TOLERANCE_S = 0.1


class Playback:
    """When each segment of one stream must be ready for a real-time player.

    ``start`` and ``ttfa_target_s`` in seconds; segments are added in order with ``add`` (a list
    request adds all at once, a live source as its text arrives) and reported with ``delivered``.
    """

    __slots__ = (
        "_audio",
        "_expected",
        "_prefix",
        "_real",
        "_speech",
        "id",
        "play_start",
        "start",
        "ttfa_target_s",
    )

    def __init__(self, start: float, ttfa_target_s: float) -> None:
        self.id = next(_ids)
        self.start = start
        self.ttfa_target_s = ttfa_target_s
        self.play_start: float | None = None
        self._expected: list[float] = []  # per segment: expected seconds of audio
        self._real: dict[int, float] = {}  # delivered segments: their real seconds of audio
        self._speech: dict[int, float] = {}  # the same without their leading pauses
        self._audio: list[float] = []  # per segment: real, or expected × this voice's measured ratio
        self._prefix: list[float] = [0.0]  # _prefix[k]: seconds of audio before segment k

    def __len__(self) -> int:
        return len(self._audio)

    def add(self, expected_audio_s: float) -> int:
        """Append a segment of ``expected_audio_s`` seconds; returns its index."""
        self._expected.append(max(0.0, expected_audio_s))
        self._audio.append(self._expected[-1] * self._ratio())
        self._prefix.append(self._prefix[-1] + self._audio[-1])
        return len(self._audio) - 1

    def started(self, now: float) -> None:
        """The listener's first audio went out at ``now`` (a piece of segment 0 before the whole
        segment, issue #15): the player starts then, not when segment 0 is complete."""
        if self.play_start is None:
            self.play_start = now

    def delivered(self, index: int, audio_s: float, now: float, *, pause_s: float = 0.0) -> None:
        """Segment ``index`` (``audio_s`` seconds, ``pause_s`` of leading silence included) reached
        the client at ``now``; the first delivery starts the player. Segments not delivered yet are
        re-estimated by the ratio of real to expected speech seen so far (a voice speaks faster or
        slower than the characters-per-second guess)."""
        if index == 0 and self.play_start is None:
            self.play_start = now
        if not 0 <= index < len(self._audio):
            return
        self._real[index] = audio_s
        self._speech[index] = max(0.0, audio_s - pause_s)
        ratio = self._ratio()
        for k in range(len(self._audio)):
            self._audio[k] = self._real.get(k, self._expected[k] * ratio)
            self._prefix[k + 1] = self._prefix[k] + self._audio[k]

    def _ratio(self) -> float:
        """Real ÷ expected seconds of speech of the delivered segments (pauses left out), within
        [0.5, 1.5] (1 before any)."""
        expected = sum(self._expected[k] for k in self._speech)
        if expected <= 0:
            return 1.0
        return min(1.5, max(0.5, sum(self._speech.values()) / expected))

    def deadline(self, index: int) -> float:
        """When segment ``index``'s audio must be ready."""
        first_due = self.start + self.ttfa_target_s
        if index <= 0:
            return first_due if self.play_start is None else min(first_due, self.play_start)
        before = self._prefix[min(index, len(self._audio))]
        if self.play_start is None:
            # Until the first audio is out, plan as if it were out now (the earliest it can be: a
            # cached or shared first segment arrives at once, and its listener then needs the
            # rest), but never ahead of the first segment itself.
            return max(first_due, self.start + before)
        return self.play_start + before


@dataclass(frozen=True, slots=True)
class Unit:
    """One piece of expected engine work: ``cost_s`` engine seconds due by ``deadline``."""

    deadline: float
    cost_s: float
    owner: int  # the Playback.id it belongs to (-1: none)


def finish_times(
    units: Iterable[Unit], now: float, workers: int, running: Sequence[float] = ()
) -> list[tuple[Unit, float]]:
    """Earliest-deadline-first finish estimates ``(unit, finish)`` in deadline order, simulating
    ``workers`` workers of which some still owe ``running`` engine seconds (one entry per running
    batch): each unit, most urgent first, runs on the worker that frees first (non-preemptive
    greedy list scheduling, as the batcher does)."""
    free = sorted([now + r for r in running][:workers] + [now] * max(0, workers - len(running)))
    heapq.heapify(free)
    out: list[tuple[Unit, float]] = []
    for u in sorted(units, key=lambda u: u.deadline):
        finish = heapq.heappop(free) + u.cost_s
        heapq.heappush(free, finish)
        out.append((u, finish))
    return out


def admission_lateness(
    accepted: list[Unit], new: list[Unit], now: float, workers: int, running: Sequence[float] = ()
) -> float:
    """Seconds by which admitting ``new`` makes some unit late (0: feasible).

    Every unit counts by how much later than its deadline it would finish than without the
    admission: a unit of ``accepted`` compared with the schedule without ``new``, a unit of ``new``
    compared with ``new`` alone on an idle engine (a first segment that takes longer than the TTFA
    target even then is the engine's speed, not load, and must not be refused forever). The result,
    the worst of these, is roughly how long the new stream should wait before it would fit."""
    before = {id(u): f - u.deadline for u, f in finish_times(accepted, now, workers, running)}
    before.update({id(u): f - u.deadline for u, f in finish_times(new, now, workers)})
    worst = 0.0
    for u, f in finish_times([*accepted, *new], now, workers, running):
        late = f - u.deadline
        if late <= LATE_TOLERANCE_S:
            continue
        added = late - max(before[id(u)], 0.0)
        if added > LATE_TOLERANCE_S:
            worst = max(worst, added)
    return worst
