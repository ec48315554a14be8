"""ttsgate.cache: keys, memory and disk backends, factory, in-process single-flight."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from ttsgate.cache import (
    AudioCache,
    DiskCache,
    MemoryCache,
    OffCache,
    SingleFlight,
    cache_key,
    create_cache,
    valid_key,
)
from ttsgate.config import Settings
from ttsgate.metrics import Metrics

KB = 1024


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def key(n: int | str) -> str:
    return cache_key("test", str(n))


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def counter(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return value or 0.0


# -- keys ------------------------------------------------------------------------------------


def test_cache_key_is_sha256_hex_and_unambiguous() -> None:
    k = cache_key("engine", "v1", "hello")
    assert valid_key(k)
    assert k == cache_key("engine", "v1", "hello")
    assert cache_key("ab", "c") != cache_key("a", "bc")
    assert cache_key("a", "") != cache_key("a")
    assert cache_key() != cache_key("")
    assert cache_key("x\0y") != cache_key("x", "y")
    assert valid_key(cache_key("你好", "\ud800"))  # any str, even a lone surrogate


@pytest.mark.parametrize(
    "bad",
    [
        "../x",
        "../" + "a" * 61,
        "a" * 63,
        "a" * 65,
        "A" * 64,
        "ABCDEF" + "0" * 58,
        "g" * 64,
        "a" * 64 + "\n",
        "a" * 63 + "/",
        "",
        " " + "a" * 63,
        "０" * 64,  # full-width digits are not hex
    ],
)
def test_valid_key_rejects(bad: str) -> None:
    assert not valid_key(bad)


def test_valid_key_rejects_non_str() -> None:
    assert not valid_key(None)
    assert not valid_key(("a" * 64).encode())


async def test_invalid_key_raises_value_error(tmp_path: Path) -> None:
    caches = [MemoryCache(max_bytes=KB, ttl_s=1), DiskCache(tmp_path, max_bytes=KB, memory_bytes=KB, ttl_s=1)]
    for cache in caches:
        with pytest.raises(ValueError, match="invalid cache key"):
            await cache.get("../etc/passwd")
        with pytest.raises(ValueError, match="invalid cache key"):
            await cache.put("A" * 64, b"x")
    assert files_under(tmp_path) == []


# -- memory ------------------------------------------------------------------------------------


async def test_memory_put_get_and_metrics() -> None:
    metrics = Metrics("test")
    cache = MemoryCache(max_bytes=100 * KB, ttl_s=60, metrics=metrics)
    assert cache.backend == "memory"
    assert isinstance(cache, AudioCache)
    assert await cache.get(key(1)) is None
    await cache.put(key(1), b"abc")
    assert await cache.get(key(1)) == b"abc"
    assert counter(metrics, "ttsgate_cache_requests_total", backend="memory", result="hit") == 1
    assert counter(metrics, "ttsgate_cache_requests_total", backend="memory", result="miss") == 1


async def test_memory_ttl_expiry() -> None:
    clock = FakeClock()
    cache = MemoryCache(max_bytes=100 * KB, ttl_s=10, clock=clock)
    await cache.put(key(1), b"abc")
    clock.now += 9.9
    assert await cache.get(key(1)) == b"abc"
    clock.now += 0.2
    assert await cache.get(key(1)) is None
    assert len(cache.tier) == 0
    assert cache.tier.nbytes == 0


async def test_memory_size_cap_evicts_least_recently_used() -> None:
    cache = MemoryCache(max_bytes=3 * KB, ttl_s=60)
    for i in range(3):
        await cache.put(key(i), bytes([i]) * KB)
    assert await cache.get(key(0)) is not None  # 0 is now more recent than 1
    await cache.put(key(3), b"\3" * KB)
    assert await cache.get(key(1)) is None
    assert await cache.get(key(0)) is not None
    assert await cache.get(key(2)) is not None
    assert await cache.get(key(3)) is not None
    assert cache.tier.nbytes <= 3 * KB
    await cache.put(key(4), b"x" * (4 * KB))  # larger than the cap: not stored, nothing evicted
    assert await cache.get(key(4)) is None
    assert len(cache.tier) == 3


# -- disk --------------------------------------------------------------------------------------


def disk(
    tmp_path: Path,
    clock: Callable[[], float] = time.time,
    max_bytes: int = 1024 * KB,
    memory_bytes: int = 256 * KB,
) -> DiskCache:
    return DiskCache(tmp_path, max_bytes=max_bytes, memory_bytes=memory_bytes, ttl_s=60, clock=clock)


async def test_disk_put_get_and_survives_new_instance(tmp_path: Path) -> None:
    value = os.urandom(50 * KB)
    cache = disk(tmp_path)
    assert cache.backend == "disk"
    await cache.put(key(1), value)
    assert await cache.get(key(1)) == value
    file = tmp_path / key(1)[:2] / key(1)
    assert file.is_file()
    assert [p.name for p in files_under(tmp_path)] == [key(1)]  # no temporary file left
    await cache.close()

    again = disk(tmp_path)
    assert await again.get(key(1)) == value  # from disk, not the (new, empty) hot tier
    assert again.disk_bytes >= len(value)


async def test_disk_ttl_expiry_on_both_tiers(tmp_path: Path) -> None:
    clock = FakeClock()
    cache = disk(tmp_path, clock)
    await cache.put(key(1), b"pcm" * 100)
    clock.now += 30
    assert await cache.get(key(1)) == b"pcm" * 100
    reopened = disk(tmp_path, clock)
    assert await reopened.get(key(1)) == b"pcm" * 100
    clock.now += 31  # past the 60 s TTL
    assert await cache.get(key(1)) is None
    assert await disk(tmp_path, clock).get(key(1)) is None
    assert not (tmp_path / key(1)[:2] / key(1)).exists()  # the expired file was removed


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[:10],  # torn header
        lambda b: b[:-1],  # truncated payload
        lambda b: b[:-1] + bytes([b[-1] ^ 1]),  # flipped bit
        lambda b: b"XXXX" + b[4:],  # bad magic
        lambda b: b"",
    ],
)
async def test_disk_corrupt_file_is_a_miss(tmp_path: Path, damage: Callable[[bytes], bytes]) -> None:
    await disk(tmp_path).put(key(1), b"abcdef" * 100)
    file = tmp_path / key(1)[:2] / key(1)
    file.write_bytes(damage(file.read_bytes()))
    cache = disk(tmp_path)
    assert await cache.get(key(1)) is None
    assert not file.exists()
    value, hit = await cache.get_or_compute(key(1), _const(b"fresh"))
    assert (value, hit) == (b"fresh", False)
    assert await disk(tmp_path).get(key(1)) == b"fresh"


async def test_disk_size_cap_evicts_oldest(tmp_path: Path) -> None:
    cache = disk(tmp_path, max_bytes=200 * KB, memory_bytes=64 * KB)
    for i in range(6):
        await cache.put(key(i), bytes([i]) * (40 * KB))
    assert await cache.get(key(0)) is None
    assert cache.disk_bytes <= 200 * KB
    files = files_under(tmp_path)
    assert sum(p.stat().st_size for p in files) <= 200 * KB
    assert len(files) == 4
    assert await cache.get(key(5)) == b"\5" * (40 * KB)

    # A new instance finds the existing files and keeps within the cap.
    again = disk(tmp_path, max_bytes=200 * KB, memory_bytes=64 * KB)
    await again.put(key(6), b"\6" * (40 * KB))
    files = files_under(tmp_path)
    assert sum(p.stat().st_size for p in files) <= 200 * KB
    assert await again.get(key(6)) is not None


async def test_disk_write_failure_is_counted_not_raised(tmp_path: Path) -> None:
    metrics = Metrics("test")
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    cache = DiskCache(blocker / "cache", max_bytes=KB * KB, memory_bytes=KB, ttl_s=60, metrics=metrics)
    value, hit = await cache.get_or_compute(key(1), _const(b"v" * 2 * KB))  # larger than the hot tier
    assert (value, hit) == (b"v" * 2 * KB, False)
    assert await cache.get(key(1)) is None
    assert counter(metrics, "ttsgate_cache_errors_total", backend="disk") >= 1


# -- factory -----------------------------------------------------------------------------------


def test_create_cache_backends(tmp_path: Path) -> None:
    def make(**kw: object) -> AudioCache:
        return create_cache(Settings(cache_dir=tmp_path, **kw))  # type: ignore[arg-type]

    assert make().backend == "disk"
    assert make(cache="memory").backend == "memory"
    assert make(cache="off").backend == "off"
    assert make(cache="disk", cache_ttl_s=0).backend == "off"
    assert make(cache="redis://127.0.0.1:1/0").backend == "redis"  # connects lazily
    with pytest.raises(ValueError, match="redis:"):
        make(cache="memcached://x")
    assert not any(tmp_path.iterdir())  # nothing touched the disk yet


async def test_off_cache_never_stores() -> None:
    cache = OffCache()
    await cache.put(key(1), b"x")
    assert await cache.get(key(1)) is None
    assert await cache.get_or_compute(key(1), _const(b"y")) == (b"y", False)


# -- single-flight -----------------------------------------------------------------------------


def _const(value: bytes) -> Callable[[], Awaitable[bytes]]:
    async def compute() -> bytes:
        return value

    return compute


class SlowCompute:
    def __init__(self, value: bytes = b"pcm", fail: Exception | None = None, delay: float = 0.05) -> None:
        self.value, self.fail, self.delay = value, fail, delay
        self.calls = 0
        self.started = asyncio.Event()
        self.cancelled = False

    async def __call__(self) -> bytes:
        self.calls += 1
        self.started.set()
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        if self.fail is not None:
            raise self.fail
        return self.value


@pytest.fixture(params=["memory", "disk", "off"])
def any_cache(request: pytest.FixtureRequest, tmp_path: Path) -> AudioCache:
    return create_cache(Settings(cache=request.param, cache_dir=tmp_path), Metrics("test"))


async def test_single_flight_50_concurrent(any_cache: AudioCache) -> None:
    compute = SlowCompute(b"x" * 10 * KB)
    results = await asyncio.gather(*(any_cache.get_or_compute(key(1), compute) for _ in range(50)))
    assert compute.calls == 1
    assert all(value == b"x" * 10 * KB for value, _ in results)
    assert [hit for _, hit in results].count(False) == 1  # only the computing call is a miss
    if any_cache.backend != "off":
        assert await any_cache.get_or_compute(key(1), compute) == (b"x" * 10 * KB, True)
        assert compute.calls == 1


async def test_single_flight_failure_reaches_everyone_and_is_not_cached(any_cache: AudioCache) -> None:
    compute = SlowCompute(fail=RuntimeError("engine exploded"))
    results = await asyncio.gather(
        *(any_cache.get_or_compute(key(1), compute) for _ in range(20)), return_exceptions=True
    )
    assert compute.calls == 1
    assert all(isinstance(r, RuntimeError) and str(r) == "engine exploded" for r in results)
    assert await any_cache.get(key(1)) is None
    ok = SlowCompute(b"ok")
    assert await any_cache.get_or_compute(key(1), ok) == (b"ok", False)
    assert ok.calls == 1


async def test_single_flight_first_caller_cancelled(any_cache: AudioCache) -> None:
    compute = SlowCompute(b"value", delay=0.1)
    first = asyncio.create_task(any_cache.get_or_compute(key(1), compute))
    await compute.started.wait()
    others = [asyncio.create_task(any_cache.get_or_compute(key(1), compute)) for _ in range(5)]
    await asyncio.sleep(0.01)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    results = await asyncio.gather(*others)
    assert results == [(b"value", True)] * 5
    assert compute.calls == 1
    assert not compute.cancelled
    if any_cache.backend != "off":
        assert await any_cache.get(key(1)) == b"value"  # the leader's computation was stored


async def test_single_flight_all_callers_cancelled_stops_the_work(any_cache: AudioCache) -> None:
    compute = SlowCompute(b"value", delay=10)
    tasks = [asyncio.create_task(any_cache.get_or_compute(key(1), compute)) for _ in range(3)]
    await compute.started.wait()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(0)
    assert compute.cancelled
    assert await any_cache.get(key(1)) is None
    again = SlowCompute(b"again", delay=0)
    assert await any_cache.get_or_compute(key(1), again) == (b"again", False)


async def test_single_flight_distinct_keys_run_in_parallel() -> None:
    cache = MemoryCache(max_bytes=KB * KB, ttl_s=60)
    computes = [SlowCompute(bytes([i]), delay=0.1) for i in range(10)]
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    results = await asyncio.gather(*(cache.get_or_compute(key(i), c) for i, c in enumerate(computes)))
    assert loop.time() - t0 < 0.5
    assert [v for v, _ in results] == [bytes([i]) for i in range(10)]


async def test_singleflight_compute_that_cancels_itself_gives_the_waiter_a_retry() -> None:
    flight: SingleFlight[int] = SingleFlight()
    calls = 0

    async def flaky() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise asyncio.CancelledError  # e.g. an engine task cancelled from elsewhere
        return 7

    assert await flight.do("k", flaky) == (7, False)
    assert calls == 2
    assert len(flight) == 0


async def test_compute_must_return_bytes() -> None:
    cache = MemoryCache(max_bytes=KB, ttl_s=60)

    async def bad() -> bytes:
        return "text"  # type: ignore[return-value]

    with pytest.raises(TypeError, match="bytes"):
        await cache.get_or_compute(key(1), bad)


def test_circuit_breaker_opens_then_lets_one_probe_through() -> None:
    from ttsgate.cache.breaker import CircuitBreaker

    clock = FakeClock()
    breaker = CircuitBreaker(2.0, clock)
    assert breaker.allow()
    assert breaker.allow()  # closed: everyone passes
    breaker.failure()
    assert not breaker.allow()
    clock.now += 2.1
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one at a time
    breaker.release()  # the probe was cancelled: the next call probes
    assert breaker.allow()
    breaker.failure()
    assert not breaker.allow()
    clock.now += 2.1
    assert breaker.allow()
    assert breaker.success() is True
    assert breaker.closed
    assert breaker.allow()
    assert breaker.allow()
