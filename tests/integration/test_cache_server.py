"""The cache in the server path: single-flight across 50 concurrent identical requests (Redis and
the embedded disk cache), a Redis outage mid-load, and two instances sharing one Redis."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis

from tests.integration.redis_server import RedisServer, redis_server  # noqa: F401  (fixture)
from tests.support.metrics import total
from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

TEXT = "今天天气很好。我们去公园散步吧！"  # two segments, one run each
SEGMENTS = 2


@contextmanager
def server(cache: str, tmp_path: Path | None = None, delay_s: float = 0.2) -> Iterator[str]:
    extra = {"cache_dir": tmp_path / "cache"} if tmp_path is not None else {}
    # Real-time admission off: it counts each request's whole work even when single-flight shares
    # it (tests/integration/test_api_admission.py), and 50 at once would exceed it by design.
    settings = Settings(cache=cache, max_wait_ms=1.0, max_queue=256, realtime_admission=False, **extra)
    with serve_app(create_app(settings, table=sine_table(delay_s=delay_s))) as url:
        yield url


def synthesized(url: str) -> float:
    return total(url, "ttsgate_segments_synthesized_total")


async def _burst(url: str, text: str, n: int) -> list[httpx.Response]:
    body = {"input": text, "voice": "zh_test", "response_format": "pcm"}
    limits = httpx.Limits(max_connections=n)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        return list(await asyncio.gather(*(client.post("/v1/audio/speech", json=body) for _ in range(n))))


def burst(url: str, text: str = TEXT, n: int = 50) -> list[httpx.Response]:
    return asyncio.run(_burst(url, text, n))


def check_single_flight(url: str) -> None:
    responses = burst(url)
    assert all(r.status_code == 200 for r in responses)
    assert len({r.content for r in responses}) == 1
    assert len(responses[0].content) > 24_000
    assert synthesized(url) == SEGMENTS
    again = httpx.post(
        f"{url}/v1/audio/speech", json={"input": TEXT, "voice": "zh_test", "response_format": "pcm"}
    )
    assert again.headers["x-cache"] == "hit"
    assert again.content == responses[0].content
    assert synthesized(url) == SEGMENTS


def test_single_flight_redis(redis_server: RedisServer) -> None:  # noqa: F811
    with server(redis_server.url) as url:
        check_single_flight(url)


def test_single_flight_disk(tmp_path: Path) -> None:
    with server("disk", tmp_path) as url:
        check_single_flight(url)


def test_two_instances_share_redis(redis_server: RedisServer) -> None:  # noqa: F811
    with server(redis_server.url) as a, server(redis_server.url) as b:
        body = {"input": TEXT, "voice": "zh_test", "response_format": "mp3"}
        first = httpx.post(f"{a}/v1/audio/speech", json=body, timeout=30)
        second = httpx.post(f"{b}/v1/audio/speech", json=body, timeout=30)
        assert second.headers["x-cache"] == "hit"
        assert second.content == first.content
        wav = httpx.post(f"{b}/v1/audio/speech", json={**body, "response_format": "wav"}, timeout=30)
        assert wav.headers["x-cache"] == "hit"  # from the request PCM A stored
        assert synthesized(a) == SEGMENTS
        assert synthesized(b) == 0


def test_redis_outage_mid_load(redis_server: RedisServer) -> None:  # noqa: F811
    with server(redis_server.url, delay_s=0.02) as url:
        statuses: list[int] = []
        stop = threading.Event()

        def load() -> None:
            n = 0
            with httpx.Client(base_url=url, timeout=30) as client:
                while not stop.is_set():
                    n += 1
                    r = client.post("/v1/audio/speech", json={"input": f"第{n}句话。", "voice": "zh_test"})
                    statuses.append(r.status_code if len(r.content) > 100 else -1)

        worker = threading.Thread(target=load)
        worker.start()
        try:
            time.sleep(0.5)
            redis_server.stop()  # SIGKILL mid-load
            time.sleep(1.5)
        finally:
            stop.set()
            worker.join(timeout=30)
        assert len(statuses) > 10
        assert set(statuses) == {200}, statuses
        assert total(url, "ttsgate_cache_errors_total", backend="redis") >= 1
        redis_server.start()  # same port, empty
        deadline = time.monotonic() + 15
        for n in itertools.count():  # the breaker lets a probe through within ~2 s
            body = {"input": f"恢复以后的缓存{n}。", "voice": "zh_test", "response_format": "pcm"}
            first = httpx.post(f"{url}/v1/audio/speech", json=body, timeout=30)
            assert first.status_code == 200
            if redis_keys(redis_server.url):  # the replica writes to Redis again
                break
            assert time.monotonic() < deadline, "nothing stored in redis after it came back"
            time.sleep(0.2)
        second = httpx.post(f"{url}/v1/audio/speech", json=body, timeout=30)
        assert second.headers.get("x-cache") == "hit"
        assert second.content == first.content
        assert total(url, "ttsgate_cache_requests_total", backend="redis", result="hit") >= 1


def redis_keys(url: str) -> list[bytes]:
    client = redis.Redis.from_url(url)
    try:
        return list(client.scan_iter(match="ttsgate:audio:*"))
    finally:
        client.close()
