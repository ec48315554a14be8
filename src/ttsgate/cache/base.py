"""The ``AudioCache`` protocol, key helpers, and the shared get/put/get-or-compute logic.

Values are the bytes of one synthesized segment; keys are hex sha256 strings (``cache_key``).
Every backend counts ``cache_requests{backend, result}`` once per ``get``/``get_or_compute`` and
``cache_errors{backend}`` once per backend failure; a failing backend never raises to the caller,
it only makes the call a miss.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from ttsgate.cache.singleflight import SingleFlight
from ttsgate.metrics import Metrics

log = logging.getLogger("ttsgate.cache")

Clock = Callable[[], float]
"""Wall-clock seconds (``time.time``); expiry times are absolute, so they survive restarts."""

_KEY_RE = re.compile(r"[0-9a-f]{64}")


def valid_key(key: object) -> bool:
    """True only for exactly 64 lower-case hex characters (no path tricks, no trailing newline)."""
    return isinstance(key, str) and _KEY_RE.fullmatch(key) is not None


def cache_key(*parts: str) -> str:
    """Hex sha256 over the parts, each length-prefixed, so ``("ab", "c") != ("a", "bc")``."""
    h = hashlib.sha256()
    h.update(len(parts).to_bytes(8, "big"))
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def check_key(key: str) -> None:
    if not valid_key(key):
        raise ValueError(f"invalid cache key {key!r}: expected 64 lower-case hex characters")


@runtime_checkable
class AudioCache(Protocol):
    backend: str  # "memory" | "disk" | "redis" | "off"

    async def get(self, key: str) -> bytes | None: ...

    async def put(self, key: str, value: bytes) -> None: ...

    async def get_or_compute(self, key: str, compute: Callable[[], Awaitable[bytes]]) -> tuple[bytes, bool]:
        """``(value, was_hit)``; ``was_hit`` is False only for the call whose ``compute`` ran."""
        ...

    async def close(self) -> None: ...


class WarnLimiter:
    """Logs a warning at most once per ``every_s`` (the rest are counted, then reported)."""

    def __init__(self, every_s: float = 5.0, clock: Clock = time.monotonic) -> None:
        self._every_s = every_s
        self._clock = clock
        self._next = 0.0
        self._suppressed = 0

    def warn(self, msg: str, *args: object) -> None:
        now = self._clock()
        if now < self._next:
            self._suppressed += 1
            return
        if self._suppressed:
            msg += " (%d similar warnings suppressed)"
            args = (*args, self._suppressed)
        self._suppressed = 0
        self._next = now + self._every_s
        log.warning(msg, *args)


class BaseCache:
    """Shared front end: key checks, metrics, and in-process single-flight.

    Subclasses implement ``_lookup`` and ``_store`` (never raising for backend failures: they
    count the error and behave as a miss / a no-op), and may override ``_peek`` (a synchronous
    look at an in-process tier) and ``_fill`` (what the one computing caller does on a miss).
    """

    backend: str = "base"

    def __init__(self, *, ttl_s: float, metrics: Metrics | None = None, clock: Clock = time.time) -> None:
        self.ttl_s = ttl_s
        self._metrics = metrics
        self._clock = clock
        self._flight: SingleFlight[tuple[bytes, bool]] = SingleFlight()
        self._warn = WarnLimiter()

    # -- public API ---------------------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        check_key(key)
        value = await self._lookup(key)
        self._count(value is not None)
        return value

    async def put(self, key: str, value: bytes) -> None:
        check_key(key)
        await self._store(key, bytes(value))

    async def get_or_compute(self, key: str, compute: Callable[[], Awaitable[bytes]]) -> tuple[bytes, bool]:
        check_key(key)
        if not self._flight.in_flight(key):
            value = await self._lookup(key)
            if value is not None:
                self._count(True)
                return value, True
        self._count(False)
        (value, was_hit), shared = await self._flight.do(key, lambda: self._fill(key, compute))
        return value, was_hit or shared

    async def close(self) -> None:
        return None

    # -- backend hooks ------------------------------------------------------------------------

    def _peek(self, key: str) -> bytes | None:
        return None

    async def _lookup(self, key: str) -> bytes | None:
        raise NotImplementedError

    async def _store(self, key: str, value: bytes) -> None:
        raise NotImplementedError

    async def _fill(self, key: str, compute: Callable[[], Awaitable[bytes]]) -> tuple[bytes, bool]:
        # A flight that finished between our lookup and our joining leaves the value in the hot
        # tier: look there again before computing.
        value = self._peek(key)
        if value is not None:
            return value, True
        value = await compute()
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"cache compute() must return bytes, not {type(value).__name__}")
        value = bytes(value)
        await self._store(key, value)
        return value, False

    # -- helpers ------------------------------------------------------------------------------

    def _expires_at(self) -> float:
        return self._clock() + self.ttl_s

    def _count(self, hit: bool) -> None:
        if self._metrics is not None:
            self._metrics.cache_requests.labels(self.backend, "hit" if hit else "miss").inc()

    def _error(self, what: str, exc: BaseException) -> None:
        if self._metrics is not None:
            self._metrics.cache_errors.labels(self.backend).inc()
        self._warn.warn("%s cache: %s failed, serving uncached: %s", self.backend, what, exc)


class OffCache(BaseCache):
    """No storage at all (``TTSGATE_CACHE=off`` or a TTL of 0); single-flight still applies."""

    backend: str = "off"

    def __init__(self, metrics: Metrics | None = None) -> None:
        super().__init__(ttl_s=0.0, metrics=metrics)

    async def _lookup(self, key: str) -> bytes | None:
        return None

    async def _store(self, key: str, value: bytes) -> None:
        return None
