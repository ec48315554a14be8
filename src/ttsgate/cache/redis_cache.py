"""Redis backend (``TTSGATE_CACHE=redis://…``): shared by replicas, single-flight across processes.

Entries: ``SET ttsgate:audio:<key> <bytes> PX <ttl>``.

Cross-process single-flight, after the in-process one (one flight per key per process):

1. ``GET`` the entry: a hit ends it.
2. ``SET ttsgate:lock:<key> <token> NX PX <lock_ttl>``. The winner looks once more (a replica may
   have finished between 1 and 2), computes, ``SET``s the entry and ``PUBLISH``es the key on
   ``ttsgate:audio:ready``, then deletes the lock if it still holds the token (compare-and-delete
   script). While computing it extends the lock every ``lock_ttl/3``, so a long synthesis keeps it
   and a crashed holder blocks others for at most ``lock_ttl``. A failed computation releases the
   lock and publishes too, so waiters try to take the lock at once.
3. A loser waits for the entry: one pub/sub listener per cache instance wakes the waiters of a key
   when its message arrives; every waiter also polls (``GET`` + ``EXISTS lock`` in one round trip,
   50 ms doubling to 500 ms) so a lost message cannot hang it. The entry found → a hit; the lock
   gone without an entry → back to 2; ``wait_timeout_s`` passed → compute without the lock.

Near tier: an in-process ``MemoryTier`` (``TTSGATE_CACHE_MEMORY_MB``) in front of Redis. Keys are
content hashes, so an entry's bytes never change: the only thing a replica's copy can get wrong is
its lifetime, and it keeps Redis's own (a fetched entry's ``PTTL`` comes back in the same round
trip as its ``GET``). A hit there costs no round trip; it counts as a ``redis`` hit like the disk
cache's hot-tier hits count as ``disk`` hits. Entries written while Redis is down stay in this
replica's tier only.

Outages: every Redis call is bounded (short connect/socket timeouts, one immediate reconnect
attempt, an overall ``asyncio.timeout``). A connection failure counts ``cache_errors{backend=redis}``,
logs a warning at most every 5 s and opens a circuit breaker: for ``breaker_s`` every call skips
Redis (a miss, computed and not stored); then one probe call is let through, and its success closes
the breaker. Nothing raises to the caller; redis-py reconnects by itself when the server is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar, cast

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ttsgate.cache.base import BaseCache
from ttsgate.cache.breaker import CircuitBreaker, Unavailable
from ttsgate.cache.memory import MemoryTier
from ttsgate.cache.redis_listener import ReadyListener
from ttsgate.metrics import Metrics

log = logging.getLogger("ttsgate.cache")

T = TypeVar("T")

KEY_PREFIX = "ttsgate:audio:"
LOCK_PREFIX = "ttsgate:lock:"
READY_CHANNEL = "ttsgate:audio:ready"

_IF_OWNER = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call"
_RELEASE = _IF_OWNER + "('del', KEYS[1]) end return 0"  # compare-and-delete
_EXTEND = _IF_OWNER + "('pexpire', KEYS[1], ARGV[2]) end return 0"  # compare-and-extend


class RedisCache(BaseCache):
    backend: str = "redis"

    def __init__(
        self,
        url: str,
        *,
        ttl_s: float,
        metrics: Metrics | None = None,
        lock_ttl_s: float = 15.0,
        wait_timeout_s: float = 30.0,
        breaker_s: float = 2.0,
        connect_timeout_s: float = 0.5,
        socket_timeout_s: float = 1.0,
        poll_min_s: float = 0.05,
        poll_max_s: float = 0.5,
        memory_bytes: int = 0,
    ) -> None:
        super().__init__(ttl_s=ttl_s, metrics=metrics)
        self.client: aioredis.Redis = aioredis.Redis.from_url(
            url,
            socket_connect_timeout=connect_timeout_s,
            socket_timeout=socket_timeout_s,
            retry=Retry(NoBackoff(), 1),  # one immediate reconnect (a pooled socket the server closed)
        )
        self.breaker = CircuitBreaker(breaker_s)
        self._ttl_ms = max(1, round(ttl_s * 1000))
        self._lock_ttl_s = lock_ttl_s
        self._lock_ms = max(1, round(lock_ttl_s * 1000))
        self._wait_timeout_s = wait_timeout_s
        self._poll = (poll_min_s, poll_max_s)
        self._op_timeout_s = socket_timeout_s + 2 * connect_timeout_s + 0.5
        self._listener = ReadyListener(self.client, READY_CHANNEL, self.breaker)
        self._near = MemoryTier(memory_bytes, self._clock)

    # -- hooks --------------------------------------------------------------------------------

    def _peek(self, key: str) -> bytes | None:
        return self._near.get(key)

    async def _lookup(self, key: str) -> bytes | None:
        near = self._near.get(key)
        if near is not None:
            return near

        async def get_with_ttl() -> tuple[Any, int]:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.get(KEY_PREFIX + key)
                pipe.pttl(KEY_PREFIX + key)
                value, pttl = await pipe.execute()
            return value, int(pttl)

        try:
            value, pttl = await self.op("get", get_with_ttl)
        except Unavailable:
            return None
        if value is None:
            return None
        value = bytes(value)
        if pttl > 0:  # -1 (no expiry) is never written by us; keep such an entry out of the tier
            self._near.put(key, value, self._clock() + pttl / 1000)
        return value

    async def _store(self, key: str, value: bytes) -> None:
        self._near.put(key, value, self._expires_at())

        async def set_and_publish() -> None:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.set(KEY_PREFIX + key, value, px=self._ttl_ms)
                pipe.publish(READY_CHANNEL, key)
                await pipe.execute()

        with contextlib.suppress(Unavailable):
            await self.op("set", set_and_publish)

    async def _fill(self, key: str, compute: Callable[[], Awaitable[bytes]]) -> tuple[bytes, bool]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_timeout_s
        while True:
            token = os.urandom(16).hex()
            try:
                got = await self.op("lock", partial(self._take_lock, key, token))
            except Unavailable:
                return await compute(), False  # Redis is down: serve uncached
            if got:
                return await self._fill_locked(key, token, compute)
            value, retry = await self._wait(key, deadline)
            if value is not None:
                return value, True
            if not retry:  # waited too long, or Redis went away: compute without the lock
                return await super()._fill(key, compute)

    async def close(self) -> None:
        await self._listener.close()
        await self.client.aclose()

    # -- internals ----------------------------------------------------------------------------

    async def op(self, what: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Run one bounded Redis call through the circuit breaker; failures → ``Unavailable``."""
        if not self.breaker.allow():
            raise Unavailable(what)
        reached = False
        try:
            async with asyncio.timeout(self._op_timeout_s):
                result = await fn()
            reached = True
            return result
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:  # OSError covers TimeoutError
            self.breaker.failure()
            self._error(what, exc)
            raise Unavailable(what) from exc
        except RedisError as exc:  # the server answered with an error: it is up, the call failed
            reached = True
            self._error(what, exc)
            raise Unavailable(what) from exc
        finally:
            if not reached:
                self.breaker.release()
            elif self.breaker.success():
                log.info("redis cache: Redis is reachable again")

    async def _take_lock(self, key: str, token: str) -> bool:
        return bool(await self._cmd(self.client.set(LOCK_PREFIX + key, token, nx=True, px=self._lock_ms)))

    @staticmethod
    async def _cmd(awaitable: Any) -> Any:
        # redis-py annotates commands as ``Awaitable[Any] | Any``; on the asyncio client they await.
        return await cast(Awaitable[Any], awaitable)

    async def _fill_locked(
        self, key: str, token: str, compute: Callable[[], Awaitable[bytes]]
    ) -> tuple[bytes, bool]:
        heartbeat = asyncio.get_running_loop().create_task(self._keep_lock(key, token))
        stored = False
        try:
            value = await self._lookup(key)  # a replica may have finished just before we locked
            if value is not None:
                return value, True
            value, _ = await super()._fill(key, compute)  # computes and SETs + PUBLISHes
            stored = True
            return value, False
        finally:
            heartbeat.cancel()
            await self._release(key, token, publish=not stored)

    async def _keep_lock(self, key: str, token: str) -> None:
        while True:
            await asyncio.sleep(self._lock_ttl_s / 3)
            with contextlib.suppress(Unavailable):
                await self.op(
                    "lock refresh",
                    lambda: self._cmd(self.client.eval(_EXTEND, 1, LOCK_PREFIX + key, token, self._lock_ms)),
                )

    async def _release(self, key: str, token: str, *, publish: bool) -> None:
        async def release() -> None:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.eval(_RELEASE, 1, LOCK_PREFIX + key, token)
                if publish:  # wake the waiters: the lock is free and there is no entry
                    pipe.publish(READY_CHANNEL, key)
                await pipe.execute()

        with contextlib.suppress(Unavailable):
            await self.op("unlock", release)

    async def _wait(self, key: str, deadline: float) -> tuple[bytes | None, bool]:
        """Wait for another process's computation: ``(entry, False)`` when it landed,
        ``(None, True)`` when the lock is free again, ``(None, False)`` on timeout or outage."""

        async def poll() -> tuple[bytes | None, bool]:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.get(KEY_PREFIX + key)
                pipe.exists(LOCK_PREFIX + key)
                value, locked = await pipe.execute()
            return (bytes(value) if value is not None else None), bool(locked)

        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        self._listener.add(key, event)
        try:
            await self._listener.ensure_listening()
            delay = self._poll[0]
            while True:
                try:
                    value, locked = await self.op("wait", poll)
                except Unavailable:
                    return None, False
                if value is not None:
                    return value, False
                if not locked:
                    return None, True
                remaining = deadline - loop.time()
                if remaining <= 0:
                    log.warning("redis cache: gave up waiting for another replica's %s", key[:12])
                    return None, False
                try:
                    async with asyncio.timeout(min(delay, remaining)):
                        await event.wait()
                except TimeoutError:
                    delay = min(delay * 2, self._poll[1])
                event.clear()
        finally:
            self._listener.discard(key, event)
