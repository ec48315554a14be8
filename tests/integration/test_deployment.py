"""The documented deployment for real: nginx (deploy/nginx/ttsgate.conf) in front of two ttsgate
replicas that share one redis-server. What one replica synthesized is a hit on the other, and a
replica that goes away is routed around."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.integration.redis_server import RedisServer, redis_server  # noqa: F401  (fixture)
from tests.integration.test_api_speech import expected_duration
from tests.support.audio import decode
from tests.support.metrics import total
from tests.support.nginx import NGINX, nginx_missing, run_nginx
from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

pytestmark = pytest.mark.skipif(nginx_missing(), reason=f"{NGINX} not installed (apt-get install nginx)")

TEXTS = [f"第{n}位客人，欢迎光临。今天的特价菜是红烧肉。" for n in range(1, 9)]


@pytest.fixture
def deployment(redis_server: RedisServer, tmp_path: Path) -> Iterator[tuple[str, list[str], list[ExitStack]]]:  # noqa: F811
    """(nginx URL, replica URLs, one ExitStack per replica: closing one stops that replica)."""
    stacks = [ExitStack(), ExitStack()]
    try:
        replicas = []
        for stack in stacks:
            app = create_app(Settings(cache=redis_server.url, max_wait_ms=1.0), table=sine_table())
            replicas.append(stack.enter_context(serve_app(app)))
        with run_nginx(replicas, tmp_path) as url:
            yield url, replicas, stacks
    finally:
        for stack in stacks:
            stack.close()


def synthesized(replicas: list[str]) -> float:
    return sum(total(r, "ttsgate_segments_synthesized_total") for r in replicas)


def test_replicas_share_the_redis_cache_behind_nginx(
    deployment: tuple[str, list[str], list[ExitStack]],
) -> None:
    url, replicas, _ = deployment
    bodies = [{"input": t, "voice": "zh_test", "response_format": "pcm"} for t in TEXTS]
    first = [httpx.post(f"{url}/v1/audio/speech", json=b, timeout=30) for b in bodies]
    assert all(r.status_code == 200 for r in first)
    for text, r in zip(TEXTS, first, strict=True):
        assert decode(r.content, "pcm").duration_s == pytest.approx(
            expected_duration(replicas[0], text), abs=0.01
        )
    after_first = synthesized(replicas)
    # The texts share their later sentences: each distinct segment is synthesized once in the
    # fleet, whichever replica got the request that needed it first.
    plans = [httpx.post(f"{replicas[0]}/v1/text/normalize", json={"input": t}).json() for t in TEXTS]
    distinct = {tuple(map(tuple, (r.values() for r in seg["runs"]))) for p in plans for seg in p["segments"]}
    assert len(distinct) < 2 * len(TEXTS)
    assert after_first == len(distinct)
    # Each replica has served some of them (least_conn spreads sequential requests too) ...
    served = [total(r, "ttsgate_requests_total", route="/v1/audio/speech") for r in replicas]
    assert all(n > 0 for n in served), served
    # ... and every repeat, whichever replica takes it, is a hit from the shared Redis.
    again = [httpx.post(f"{url}/v1/audio/speech", json=b, timeout=30) for b in bodies]
    assert [r.content for r in again] == [r.content for r in first]
    assert all(r.headers.get("x-cache") == "hit" for r in again)
    assert synthesized(replicas) == after_first


def test_a_replica_going_away_is_routed_around(deployment: tuple[str, list[str], list[ExitStack]]) -> None:
    url, replicas, stacks = deployment
    body = {"input": TEXTS[0], "voice": "zh_test", "response_format": "wav"}
    assert httpx.post(f"{url}/v1/audio/speech", json=body, timeout=30).status_code == 200
    stacks[1].close()  # replica 2 stops: connections to it are refused
    for text in TEXTS[1:5]:
        r = httpx.post(f"{url}/v1/audio/speech", json={**body, "input": text}, timeout=30)
        assert r.status_code == 200
        assert decode(r.content, "wav").duration_s == pytest.approx(
            expected_duration(replicas[0], text), abs=0.01
        )


def test_a_full_replica_503_is_retried_on_the_other(tmp_path: Path) -> None:
    # deploy/nginx retries a 503 on the next replica (proxy_next_upstream ... http_503): with a
    # tight admission bound per replica the fleet still answers while one replica is saturated.
    settings = Settings(cache="off", max_queue=1, max_batch_size=1, max_wait_ms=0.0, workers=1)
    with ExitStack() as stack:
        busy, idle = (
            stack.enter_context(serve_app(create_app(settings, table=sine_table(delay_s=0.3)))) for _ in "ab"
        )
        url = stack.enter_context(run_nginx([busy, idle], tmp_path))
        long_text = "".join(f"第{n}段话很长。" for n in range(12))  # ~12 segments × 0.3 s on `busy`
        body = {"input": long_text, "voice": "zh_test", "response_format": "pcm"}
        with (
            httpx.Client(timeout=60) as client,
            client.stream("POST", f"{busy}/v1/audio/speech", json=body) as held,
        ):
            assert held.status_code == 200  # admitted: its queued segments now fill `busy`'s bound
            short = {"input": "你好。谢谢。", "voice": "zh_test", "response_format": "pcm"}
            answers = [client.post(f"{url}/v1/audio/speech", json=short) for _ in range(4)]
            assert [r.status_code for r in answers] == [200] * 4
            want = expected_duration(idle, short["input"])
            assert all(decode(r.content, "pcm").duration_s == pytest.approx(want, abs=0.01) for r in answers)
            assert total(busy, "ttsgate_rejected_total", reason="queue_full") >= 1  # nginx went there first
            assert total(idle, "ttsgate_requests_total", route="/v1/audio/speech", status="200") == 4
            held.read()
