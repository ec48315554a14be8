"""ttsgate.cache with a real redis-server: TTL, cross-replica single-flight, outage and recovery."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis

from tests.integration.redis_server import RedisServer, redis_server  # noqa: F401  (fixture)
from ttsgate.cache import cache_key, create_cache
from ttsgate.cache.redis_cache import KEY_PREFIX, LOCK_PREFIX, RedisCache
from ttsgate.config import Settings
from ttsgate.metrics import Metrics


def key(n: object) -> str:
    return cache_key("redis-test", os.urandom(4).hex(), str(n))


def errors(metrics: Metrics) -> float:
    return metrics.registry.get_sample_value("ttsgate_cache_errors_total", {"backend": "redis"}) or 0.0


class Compute:
    def __init__(self, value: bytes = b"pcm", delay: float = 0.0, fail: Exception | None = None) -> None:
        self.value, self.delay, self.fail = value, delay, fail
        self.calls = 0
        self.started = asyncio.Event()

    async def __call__(self) -> bytes:
        self.calls += 1
        self.started.set()
        await asyncio.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        return self.value


@pytest.fixture
async def make_cache(redis_server: RedisServer) -> AsyncIterator[Callable[..., RedisCache]]:  # noqa: F811
    made: list[RedisCache] = []

    def make(**kw: object) -> RedisCache:
        kw.setdefault("ttl_s", 60.0)
        cache = RedisCache(redis_server.url, **kw)  # type: ignore[arg-type]
        made.append(cache)
        return cache

    yield make
    for cache in made:
        await cache.close()


async def test_put_get_with_ttl(make_cache: Callable[..., RedisCache], redis_server: RedisServer) -> None:  # noqa: F811
    metrics = Metrics("test")
    cache = make_cache(ttl_s=0.3, metrics=metrics)
    k = key(1)
    assert await cache.get(k) is None
    value = os.urandom(200 * 1024)
    await cache.put(k, value)
    assert await cache.get(k) == value
    raw = aioredis.Redis.from_url(redis_server.url)
    try:
        assert 0 < await raw.pttl(KEY_PREFIX + k) <= 300
    finally:
        await raw.aclose()
    await asyncio.sleep(0.4)
    assert await cache.get(k) is None
    samples = {"hit": 1.0, "miss": 2.0}
    for result, n in samples.items():
        labels = {"backend": "redis", "result": result}
        assert metrics.registry.get_sample_value("ttsgate_cache_requests_total", labels) == n
    assert errors(metrics) == 0


async def test_create_cache_with_redis_url(redis_server: RedisServer) -> None:  # noqa: F811
    cache = create_cache(Settings(cache=redis_server.url, cache_ttl_s=5))
    try:
        assert cache.backend == "redis"
        k = key(2)
        assert await cache.get_or_compute(k, Compute(b"v")) == (b"v", False)
        assert await cache.get_or_compute(k, Compute(b"other")) == (b"v", True)
    finally:
        await cache.close()


async def test_single_flight_across_two_replicas(make_cache: Callable[..., RedisCache]) -> None:
    a, b = make_cache(), make_cache()
    k = key(3)
    compute = Compute(b"audio" * 1000, delay=0.3)
    results = await asyncio.gather(*(c.get_or_compute(k, compute) for c in (a, b) for _ in range(10)))
    assert compute.calls == 1
    assert all(value == b"audio" * 1000 for value, _ in results)
    assert [hit for _, hit in results].count(False) == 1


async def test_waiter_is_woken_by_pubsub_not_just_polling(make_cache: Callable[..., RedisCache]) -> None:
    # Polling alone would be at its 500 ms ceiling after a couple of seconds; pub/sub wakes at once.
    a, b = make_cache(), make_cache(poll_min_s=5.0, poll_max_s=5.0)
    k = key(4)
    compute = Compute(b"x", delay=0.3)
    leader = asyncio.create_task(a.get_or_compute(k, compute))
    await compute.started.wait()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    assert await b.get_or_compute(k, Compute(b"never")) == (b"x", True)
    assert loop.time() - t0 < 2.0
    assert await leader == (b"x", False)


async def test_failed_holder_lets_the_other_replica_compute(make_cache: Callable[..., RedisCache]) -> None:
    a, b = make_cache(), make_cache()
    k = key(5)
    failing = Compute(delay=0.2, fail=RuntimeError("boom"))
    first = asyncio.create_task(a.get_or_compute(k, failing))
    await failing.started.wait()
    ok = Compute(b"ok")
    assert await b.get_or_compute(k, ok) == (b"ok", False)
    with pytest.raises(RuntimeError, match="boom"):
        await first
    assert ok.calls == 1
    assert await a.get(k) == b"ok"


async def test_long_computation_keeps_its_lock(make_cache: Callable[..., RedisCache]) -> None:
    # The lock lives 0.3 s but is extended while the 1 s computation runs: the other replica waits.
    a, b = make_cache(lock_ttl_s=0.3), make_cache(lock_ttl_s=0.3)
    k = key(9)
    compute = Compute(b"long", delay=1.0)
    leader = asyncio.create_task(a.get_or_compute(k, compute))
    await compute.started.wait()
    assert await b.get_or_compute(k, compute) == (b"long", True)
    assert await leader == (b"long", False)
    assert compute.calls == 1


async def test_cancelled_holder_releases_its_lock(
    make_cache: Callable[..., RedisCache],
    redis_server: RedisServer,  # noqa: F811
) -> None:
    a = make_cache()
    k = key(10)
    compute = Compute(b"never", delay=30)
    task = asyncio.create_task(a.get_or_compute(k, compute))
    await compute.started.wait()
    raw = aioredis.Redis.from_url(redis_server.url)
    try:
        assert await raw.exists(LOCK_PREFIX + k)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not await raw.exists(LOCK_PREFIX + k)  # released now, not after lock_ttl
    finally:
        await raw.aclose()
    assert await make_cache().get_or_compute(k, Compute(b"b")) == (b"b", False)


async def test_stale_lock_of_crashed_replica_is_bounded(
    make_cache: Callable[..., RedisCache],
    redis_server: RedisServer,  # noqa: F811
) -> None:
    k = key(6)
    raw = aioredis.Redis.from_url(redis_server.url)
    try:
        await raw.set(LOCK_PREFIX + k, "dead-replica", px=300)  # a holder that died holding the lock
    finally:
        await raw.aclose()
    cache = make_cache()
    compute = Compute(b"mine")
    assert await cache.get_or_compute(k, compute) == (b"mine", False)
    assert compute.calls == 1

    # A lock that never expires is waited for at most wait_timeout_s.
    k2 = key(7)
    raw = aioredis.Redis.from_url(redis_server.url)
    try:
        await raw.set(LOCK_PREFIX + k2, "stuck")
    finally:
        await raw.aclose()
    impatient = make_cache(wait_timeout_s=0.3)
    assert await impatient.get_or_compute(k2, Compute(b"late")) == (b"late", False)


async def test_redis_killed_mid_load_then_back(
    make_cache: Callable[..., RedisCache],
    redis_server: RedisServer,  # noqa: F811
) -> None:
    metrics = Metrics("test")
    cache = make_cache(metrics=metrics, breaker_s=0.2)
    stop = asyncio.Event()
    served: list[tuple[bytes, bytes]] = []

    async def client(n: int) -> None:
        i = 0
        while not stop.is_set():
            value = f"{n}:{i % 5}".encode()
            k = cache_key("load", value.decode())
            got, _ = await cache.get_or_compute(k, Compute(value, delay=0.005))
            served.append((got, value))
            i += 1
            await asyncio.sleep(0.005)

    clients = [asyncio.create_task(client(n)) for n in range(8)]
    await asyncio.sleep(0.3)
    loop = asyncio.get_running_loop()
    redis_server.stop()  # SIGKILL while the clients run
    await asyncio.sleep(0.8)
    assert errors(metrics) >= 1
    served_during_outage = len(served)
    t0 = loop.time()
    await asyncio.sleep(0.5)
    assert len(served) > served_during_outage  # still serving (uncached), not stuck on timeouts
    assert loop.time() - t0 < 1.0
    redis_server.start()
    await asyncio.sleep(0.8)
    stop.set()
    await asyncio.gather(*clients)  # no client saw an exception
    assert all(got == want for got, want in served)

    # Back: entries land in Redis and are served from it again.
    k = key(8)
    assert await cache.get_or_compute(k, Compute(b"after")) == (b"after", False)
    assert await cache.get_or_compute(k, Compute(b"no")) == (b"after", True)
    other = make_cache()
    assert await other.get(k) == b"after"


async def test_unreachable_redis_serves_uncached_quickly() -> None:
    from tests.integration.redis_server import free_port

    metrics = Metrics("test")
    cache = RedisCache(f"redis://127.0.0.1:{free_port()}/0", ttl_s=60, metrics=metrics)
    try:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for i in range(50):
            assert await cache.get_or_compute(key(i), Compute(b"v")) == (b"v", False)
            assert await cache.get(key(i)) is None
        assert loop.time() - t0 < 2.0
        assert 1 <= errors(metrics) <= 5  # the breaker skips Redis instead of failing every call
    finally:
        await cache.close()


async def test_near_tier_serves_without_a_round_trip_and_keeps_redis_lifetime(
    make_cache: Callable[..., RedisCache],
    redis_server: RedisServer,  # noqa: F811
) -> None:
    metrics = Metrics("test")
    writer = make_cache(ttl_s=0.5)
    reader = make_cache(memory_bytes=1 << 20, metrics=metrics)  # its own TTL (60 s) must not apply
    k = key(9)
    await writer.put(k, b"near")
    assert await reader.get(k) == b"near"  # fetched from Redis with its PTTL
    redis_server.stop()  # the near copy needs no round trip
    assert await reader.get(k) == b"near"
    assert errors(metrics) == 0
    await asyncio.sleep(0.6)  # past the writer's 0.5 s TTL: the near copy expires with Redis's
    assert await reader.get(k) is None
    redis_server.start()
    hits = metrics.registry.get_sample_value(
        "ttsgate_cache_requests_total", {"backend": "redis", "result": "hit"}
    )
    assert hits == 2


async def test_near_tier_is_filled_by_the_computing_caller(
    make_cache: Callable[..., RedisCache],
    redis_server: RedisServer,  # noqa: F811
) -> None:
    cache = make_cache(memory_bytes=1 << 20)
    k = key(10)
    assert await cache.get_or_compute(k, Compute(b"computed")) == (b"computed", False)
    raw = aioredis.Redis.from_url(redis_server.url)
    try:
        assert await raw.get(KEY_PREFIX + k) == b"computed"  # written through to Redis
        await raw.delete(KEY_PREFIX + k)
    finally:
        await raw.aclose()
    assert await cache.get_or_compute(k, Compute(b"again")) == (b"computed", True)  # near copy
    assert await make_cache(memory_bytes=1 << 20).get(k) is None  # another replica sees Redis only
