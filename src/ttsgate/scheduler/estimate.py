"""How much engine time work takes: a per-call overhead plus a pace per second of speech, measured.

A batch's cost is modelled as ``overhead + pace × speech`` seconds, where ``speech`` is its expected
seconds of speech (``expected_speech_s``: from the characters of its text). Both terms are fitted
to the batches the engine actually ran by exponentially weighted least squares (recent batches
weigh most, so the fit follows load and hardware): a short clause costs relatively more than a long
sentence (the Mandarin voice: RTF ~0.2 on a 3 s clause, ~0.07 on long text), which one ratio alone
would get wrong at one end. Before two batches of different lengths have been seen, the fit is a
plain ratio (no overhead). Warm-up seeds it (``Runtime``), so it holds from the first request; until
the first measurement nothing is estimated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ttsgate.text import expected_speech_s

__all__ = ["WorkEstimate", "expected_speech_s"]

_DECAY = 0.9  # weight kept by the older batches at each new one (~10 batches of memory)
# How far batches overran their estimate lately (an exponential mean of took/estimated - 1: a bias,
# not the noise, which averages out over a stream's many segments); before any batch: a new
# engine's first minutes are slower than its warm-up (new input shapes).
_INITIAL_OVERRUN = 0.25
_OVERRUN_WEIGHT = 0.1
_MIN_SPEECH_S = 0.05
_MIN_SPREAD = 0.25  # seconds² of variance in the speech lengths before an overhead is fitted


class WorkEstimate:
    """Running batches and the engine's cost model; pure and synchronous like ``QueueState``.

    ``pace`` (engine seconds per second of speech) and ``overhead`` (engine seconds per call) are
    None/0 until a batch has been measured. ``overrun`` is how much longer than estimated batches
    lately took, on average (0.2: 20 %; negative: shorter); ``margin_cost`` adds twice that when
    positive, for admission, so a stretch of
    slower batches (a new engine's first minutes, a noisy neighbour) refuses earlier instead of
    letting accepted listeners stall."""

    def __init__(
        self, workers: int = 1, pace: float | None = None, samples: Iterable[tuple[float, float]] = ()
    ) -> None:
        self.workers = max(1, workers)
        self.pace = pace
        self.overhead = 0.0
        self.overrun = _INITIAL_OVERRUN
        self._sums = [0.0] * 5  # weighted n, Σx, Σy, Σx², Σxy of (speech s, engine s)
        if pace is not None:
            self._add(1.0, pace)
        for speech_s, seconds in samples:
            self._add(speech_s, seconds)
        self._running: dict[int, tuple[float, float]] = {}  # token → (started, expected speech s)

    def cost(self, speech_s: float) -> float:
        """Expected engine seconds of one call speaking ``speech_s`` seconds (0 while unknown)."""
        return 0.0 if self.pace is None else self.overhead + self.pace * speech_s

    def margin_cost(self, speech_s: float) -> float:
        """``cost`` with a safety margin of twice the recent overrun (what admission plans with)."""
        return self.cost(speech_s) * (1.0 + 2.0 * max(0.0, self.overrun))

    def started(self, token: int, now: float, speech_s: float) -> None:
        self._running[token] = (now, speech_s)

    def finished(self, token: int, now: float, *, ok: bool = True) -> None:
        """A batch ended; a successful one updates the fit."""
        entry = self._running.pop(token, None)
        if entry is None or not ok:
            return
        t0, speech_s = entry
        took, estimated = max(0.0, now - t0), self.cost(speech_s)
        if estimated > 0:
            over = min(took / estimated - 1.0, 2.0)
            self.overrun = (1 - _OVERRUN_WEIGHT) * self.overrun + _OVERRUN_WEIGHT * over
        self._add(speech_s, took)

    def remaining(self, now: float) -> float:
        """Expected engine seconds still to go in the running batches, together."""
        return sum(self.running(now))

    def running(self, now: float) -> list[float]:
        """Expected engine seconds still to go, per running batch."""
        return [max(0.0, self.cost(s) - (now - t0)) for t0, s in self._running.values()]

    def wait(self, queued_speech_s: Sequence[float], now: float) -> float | None:
        """Expected seconds before a job queued behind jobs of ``queued_speech_s`` seconds of speech
        each starts; None while nothing has been measured."""
        if self.pace is None:
            return None
        return (sum(self.cost(s) for s in queued_speech_s) + self.remaining(now)) / self.workers

    def _add(self, speech_s: float, seconds: float) -> None:
        x = max(speech_s, _MIN_SPEECH_S)
        s = self._sums = [v * _DECAY for v in self._sums]
        s[0] += 1.0
        s[1] += x
        s[2] += seconds
        s[3] += x * x
        s[4] += x * seconds
        n, sx, sy, sxx, sxy = s
        spread = sxx / n - (sx / n) ** 2
        slope = (sxy / n - (sx / n) * (sy / n)) / spread if spread > _MIN_SPREAD else 0.0
        intercept = (sy - slope * sx) / n
        if spread <= _MIN_SPREAD:  # one length seen so far: a plain ratio
            self.pace, self.overhead = sy / sx, 0.0
        elif slope <= 0:  # longer speech is no dearer: a cost per call only
            self.pace, self.overhead = 0.0, sy / n
        elif intercept < 0:  # no overhead to speak of: proportional, fitted through the origin
            self.pace, self.overhead = sxy / sxx, 0.0
        else:
            self.pace, self.overhead = slope, intercept
