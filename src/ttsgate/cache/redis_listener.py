"""Pub/sub wake-ups for the Redis cache's waiters (one subscription per cache instance)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ttsgate.cache.breaker import CircuitBreaker

log = logging.getLogger("ttsgate.cache")


class ReadyListener:
    """One pub/sub subscription per cache instance; wakes the local waiters of a published key.

    Best effort: started on demand, it stops on any Redis error and is started again by the next
    waiter (the waiters poll meanwhile).
    """

    def __init__(self, client: aioredis.Redis, channel: str, breaker: CircuitBreaker) -> None:
        self._client = client
        self._channel = channel
        self._breaker = breaker
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None
        self._settled = asyncio.Event()

    def add(self, key: str, event: asyncio.Event) -> None:
        self._waiters.setdefault(key, set()).add(event)

    def discard(self, key: str, event: asyncio.Event) -> None:
        events = self._waiters.get(key)
        if events is not None:
            events.discard(event)
            if not events:
                del self._waiters[key]

    async def ensure_listening(self, timeout_s: float = 0.5) -> None:
        """Start the subscription if needed; return once it is confirmed (or failed, or timed out)."""
        if self._task is None or self._task.done():
            if not self._breaker.closed:
                return  # Redis is failing: the waiters poll (and fail over) without it
            self._settled = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run(self._settled))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._settled.wait()

    async def _run(self, settled: asyncio.Event) -> None:
        pubsub = self._client.pubsub()
        try:
            await pubsub.subscribe(self._channel)
            while True:
                msg = await pubsub.get_message(timeout=1.0)
                if msg is None:
                    continue
                if msg.get("type") == "subscribe":
                    settled.set()
                elif msg.get("type") == "message":
                    key = bytes(msg["data"]).decode("ascii", "replace")
                    for event in self._waiters.get(key, ()):
                        event.set()
        except (RedisError, OSError) as exc:
            log.debug("redis cache: ready listener stopped: %s", exc)
        finally:
            settled.set()
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
