"""In-memory LRU tier, capped in bytes, with a per-entry expiry time.

``MemoryTier`` is the plain synchronous structure (used as the hot tier of the disk cache too);
``MemoryCache`` is the ``TTSGATE_CACHE=memory`` backend around it. Only the event loop thread
touches a tier, so it needs no lock.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from ttsgate.cache.base import BaseCache, Clock
from ttsgate.metrics import Metrics


class MemoryTier:
    """LRU by access; an entry is ``(value, expires_at)``; expired entries are never served."""

    def __init__(self, max_bytes: int, clock: Clock = time.time) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be >= 0")
        self.max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._nbytes = 0

    @property
    def nbytes(self) -> int:
        return self._nbytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, expires_at = entry
        if expires_at <= self._clock():
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: str, value: bytes, expires_at: float) -> None:
        self._remove(key)
        if len(value) > self.max_bytes or expires_at <= self._clock():
            return  # would evict everything else, or is dead already
        self._entries[key] = (value, expires_at)
        self._nbytes += len(value)
        self._evict()

    def pop(self, key: str) -> None:
        self._remove(key)

    def clear(self) -> None:
        self._entries.clear()
        self._nbytes = 0

    def _remove(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._nbytes -= len(entry[0])

    def _evict(self) -> None:
        if self._nbytes <= self.max_bytes:
            return
        # Expired entries go first, wherever they are; then the least recently used.
        now = self._clock()
        for key in [k for k, (_, exp) in self._entries.items() if exp <= now]:
            self._remove(key)
        while self._nbytes > self.max_bytes and self._entries:
            _, (value, _) = self._entries.popitem(last=False)
            self._nbytes -= len(value)


class MemoryCache(BaseCache):
    """``TTSGATE_CACHE=memory``: the hot tier alone (lost on restart)."""

    backend: str = "memory"

    def __init__(
        self,
        *,
        max_bytes: int,
        ttl_s: float,
        metrics: Metrics | None = None,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(ttl_s=ttl_s, metrics=metrics, clock=clock)
        self.tier = MemoryTier(max_bytes, clock)

    def _peek(self, key: str) -> bytes | None:
        return self.tier.get(key)

    async def _lookup(self, key: str) -> bytes | None:
        return self.tier.get(key)

    async def _store(self, key: str, value: bytes) -> None:
        self.tier.put(key, value, self._expires_at())

    async def close(self) -> None:
        self.tier.clear()
