"""Circuit breaker for a remote cache backend: skip it for a while after a connection failure."""

from __future__ import annotations

import time
from collections.abc import Callable


class Unavailable(Exception):
    """Redis could not be used for this call (already counted and logged)."""


class CircuitBreaker:
    """Closed → (failure) open for ``open_s`` → half-open: one probe; success closes, failure reopens."""

    def __init__(self, open_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.open_s = open_s
        self._clock = clock
        self._open_until: float | None = None
        self._probing = False

    @property
    def closed(self) -> bool:
        return self._open_until is None

    def allow(self) -> bool:
        if self._open_until is None:
            return True
        if self._probing or self._clock() < self._open_until:
            return False
        self._probing = True
        return True

    def success(self) -> bool:
        """Close; True when it was open (the backend just came back)."""
        was_open = self._open_until is not None
        self._open_until = None
        self._probing = False
        return was_open

    def failure(self) -> None:
        self._open_until = self._clock() + self.open_s
        self._probing = False

    def release(self) -> None:
        """A call ended without a verdict (cancelled): let the next one probe."""
        self._probing = False
