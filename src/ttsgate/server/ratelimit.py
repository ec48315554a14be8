"""Per-key rate limits: requests and input characters per minute, in process or across replicas.

Algorithm: the sliding-window counter (Cloudflare, "How we built rate limiting capable of scaling
to millions of domains", 2017): the estimate for the last 60 s is ``previous window's count ×
the share of it still inside the last 60 s + this window's count``; a charge that would take the
estimate over the limit is refused (and not counted) with the seconds until it would fit.

With Redis (``TTSGATE_CACHE=redis://…``) the counts live in Redis (``INCRBY`` + ``EXPIRE``, one
round trip), so every replica counts against the same limit; when Redis does not answer, the
limiter falls back to counting in process (limits stay, per replica) and logs it once.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from ttsgate.exceptions import InvalidRequestError, RateLimitError

log = logging.getLogger("ttsgate.ratelimit")

WINDOW_S = 60.0
_PREFIX = "ttsgate:rl:"


def _estimate(prev: float, curr: float, elapsed: float) -> float:
    return prev * (1.0 - elapsed / WINDOW_S) + curr


def _retry_after(prev: float, curr: float, elapsed: float, amount: float, limit: float) -> float:
    """Seconds until ``amount`` fits under ``limit`` (same window; else the next one)."""
    if prev > 0 and curr + amount <= limit:
        t = WINDOW_S * (1.0 - (limit - curr - amount) / prev)  # when prev's share has shrunk enough
        return max(1.0, t - elapsed)
    return max(1.0, WINDOW_S - elapsed)


class RateLimiter:
    """``charge(name, kind, amount, limit)`` raises ``RateLimitError`` when over; thread-unsafe by
    design (one event loop)."""

    def __init__(self, redis_url: str | None = None) -> None:
        self._counts: dict[tuple[str, str, int], float] = {}
        self._redis: Any = None
        if redis_url:
            import redis.asyncio as aioredis  # redis-py, already the cache's client

            self._redis = aioredis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._redis_failed_at = -math.inf

    async def charge(self, name: str, kind: str, amount: float, limit: int, *, refuse: bool = True) -> None:
        """Count ``amount`` of ``kind`` ("requests"/"characters") for key ``name``; over ``limit``
        per minute: ``RateLimitError`` (nothing counted), unless ``refuse`` is False (counted anyway:
        for work already done, such as an LLM reply that was spoken)."""
        if limit <= 0 or amount < 0:
            return
        if refuse and amount > limit:  # can never fit: not a matter of waiting
            unit = "requests" if kind == "requests" else "input characters"
            raise InvalidRequestError(
                f"this request needs {amount:.0f} {unit}, over the API key's limit of {limit} per minute",
                param="input",
                code="over_key_limit",
            )
        now = time.time()
        window = int(now // WINDOW_S)
        elapsed = now - window * WINDOW_S
        counts = await self._add(name, kind, window, amount)
        if counts is None:
            counts = self._add_local(name, kind, window, amount)
            local = True
        else:
            local = False
        prev, curr = counts
        if refuse and _estimate(prev, curr, elapsed) > limit:
            await self._refund(name, kind, window, amount, local)
            wait = math.ceil(_retry_after(prev, curr - amount, elapsed, amount, limit))
            unit = "requests" if kind == "requests" else "input characters"
            raise RateLimitError(
                f"rate limit of {limit} {unit} per minute reached for this API key; retry in {wait} s",
                retry_after_s=wait,
            )

    async def refund(self, name: str, kind: str, amount: float) -> None:
        """Give back ``amount`` charged in this window (a request that was refused or failed
        before doing any work: a 400, or a 503 that nginx retries on another replica)."""
        if amount <= 0:
            return
        window = int(time.time() // WINDOW_S)
        local = self._redis is None or time.monotonic() - self._redis_failed_at < 10.0
        if local and (name, kind, window) not in self._counts:
            return
        await self._refund(name, kind, window, amount, local)

    def _add_local(self, name: str, kind: str, window: int, amount: float) -> tuple[float, float]:
        for key in [k for k in self._counts if k[2] < window - 1]:
            del self._counts[key]
        key = (name, kind, window)
        self._counts[key] = self._counts.get(key, 0.0) + amount
        return self._counts.get((name, kind, window - 1), 0.0), self._counts[key]

    async def _add(self, name: str, kind: str, window: int, amount: float) -> tuple[float, float] | None:
        if self._redis is None or time.monotonic() - self._redis_failed_at < 10.0:
            return None
        curr_key, prev_key = f"{_PREFIX}{name}:{kind}:{window}", f"{_PREFIX}{name}:{kind}:{window - 1}"
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.incrbyfloat(curr_key, amount)
            pipe.expire(curr_key, int(2 * WINDOW_S) + 5)
            pipe.get(prev_key)
            curr, _, prev = await pipe.execute()
            return float(prev or 0.0), float(curr)
        except Exception as exc:  # Redis down or frozen: count locally for a while
            self._redis_failed_at = time.monotonic()
            log.warning("rate limits counted per replica: Redis unavailable (%s)", exc)
            return None

    async def _refund(self, name: str, kind: str, window: int, amount: float, local: bool) -> None:
        if local:
            self._counts[(name, kind, window)] -= amount
            return
        try:
            await self._redis.incrbyfloat(f"{_PREFIX}{name}:{kind}:{window}", -amount)
        except Exception:
            self._redis_failed_at = time.monotonic()

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
