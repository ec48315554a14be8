"""How long a new request would wait: the engine work queued and running, in seconds.

Each job's cost is its expected speech (``expected_speech_s``: from the characters of its text)
times the engine's *pace*, the engine seconds per expected second of speech, measured on the
batches it actually ran (an exponentially weighted mean, so it follows load and hardware). Until
the first batch has finished the pace is unknown and nothing is estimated.
"""

from __future__ import annotations

from ttsgate.text import expected_speech_s

__all__ = ["WorkEstimate", "expected_speech_s"]

_ALPHA = 0.2  # weight of the newest batch in the pace
_MIN_SPEECH_S = 0.05


class WorkEstimate:
    """Running batches and the engine's pace; pure and synchronous like ``QueueState``."""

    def __init__(self, workers: int = 1, pace: float | None = None) -> None:
        self.workers = max(1, workers)
        self.pace = pace  # engine seconds per expected second of speech (None: not measured yet)
        self._running: dict[int, tuple[float, float]] = {}  # token → (started, expected speech s)

    def cost(self, speech_s: float) -> float:
        """Expected engine seconds for ``speech_s`` seconds of speech (0 while the pace is unknown)."""
        return 0.0 if self.pace is None else self.pace * speech_s

    def started(self, token: int, now: float, speech_s: float) -> None:
        self._running[token] = (now, speech_s)

    def finished(self, token: int, now: float, *, ok: bool = True) -> None:
        """A batch ended; a successful one updates the pace."""
        entry = self._running.pop(token, None)
        if entry is None or not ok:
            return
        t0, speech_s = entry
        observed = max(0.0, now - t0) / max(speech_s, _MIN_SPEECH_S)
        self.pace = observed if self.pace is None else (1 - _ALPHA) * self.pace + _ALPHA * observed

    def remaining(self, now: float) -> float:
        """Expected engine seconds still to go in the running batches."""
        return sum(max(0.0, self.cost(s) - (now - t0)) for t0, s in self._running.values())

    def wait(self, queued_speech_s: float, now: float) -> float | None:
        """Expected seconds before a job queued behind ``queued_speech_s`` of speech starts; None
        while the pace is unknown."""
        if self.pace is None:
            return None
        return (self.cost(queued_speech_s) + self.remaining(now)) / self.workers
