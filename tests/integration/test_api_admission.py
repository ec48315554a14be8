"""Admission over HTTP: a full queue (by count, or by expected wait) is a 503 with Retry-After and a
body naming the setting, before any audio; the accepted request still gets all of its audio."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np
import pytest

from tests.support.metrics import total
from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

TWO_SEGMENTS = "今天天气很好。我们去公园散步吧！"


def body(text: str) -> dict[str, str]:
    return {"input": text, "voice": "zh_test", "response_format": "pcm"}


async def accepted_and_refused(url: str, warm: bool) -> tuple[httpx.Response, list[httpx.Response]]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        if warm:  # one request first, so the engine's pace is measured
            assert (await client.post("/v1/audio/speech", json=body("预热一下。"))).status_code == 200
        first = asyncio.create_task(client.post("/v1/audio/speech", json=body(TWO_SEGMENTS)))
        await asyncio.sleep(0.3)  # its first segment runs (0.5 s), its second is queued
        others = await asyncio.gather(
            *(client.post("/v1/audio/speech", json=body(f"第{i}位客人。你好。")) for i in range(3))
        )
        return await first, list(others)


def check(first: httpx.Response, others: list[httpx.Response], setting: str) -> None:
    assert first.status_code == 200
    pcm = np.frombuffer(first.content, dtype=np.int16)
    assert len(pcm) / 24000 > 1.0  # both segments, not a truncated stream
    assert [r.status_code for r in others] == [503, 503, 503]
    for r in others:
        assert int(r.headers["retry-after"]) >= 1
        err = r.json()["error"]
        assert err["type"] == "server_overloaded"
        assert setting in err["message"]
        assert r.headers["content-type"].startswith("application/json")  # no audio was started


@pytest.mark.parametrize(
    ("bound", "setting", "code", "warm"),
    [
        ({"max_queue": 1}, "TTSGATE_MAX_QUEUE=1", "queue_full", False),
        ({"max_queue_wait_s": 0.2}, "TTSGATE_MAX_QUEUE_WAIT_S=0.2", "queue_wait", True),
    ],
    ids=["by-count", "by-expected-wait"],
)
def test_a_full_queue_is_503_before_audio(
    bound: dict[str, float], setting: str, code: str, warm: bool
) -> None:
    settings = Settings(cache="off", max_batch_size=1, max_wait_ms=0, workers=1, **bound)  # type: ignore[arg-type]
    with serve_app(create_app(settings, table=sine_table(delay_s=0.5))) as url:
        first, others = asyncio.run(accepted_and_refused(url, warm=warm))
        check(first, others, setting)
        assert {r.json()["error"]["code"] for r in others} == {code}
        assert total(url, "ttsgate_rejected_total", reason=code) == 3


def test_the_pace_is_measured_at_warm_up() -> None:
    # The time bound holds from the first request on: the engine's pace is known once it is ready.
    app = create_app(Settings(cache="off", max_queue_wait_s=0.2), table=sine_table(delay_s=0.2))
    with serve_app(app):
        pace = app.state.runtime.scheduler.stats("sine-zh")["pace"]
        # 0.2 s of work (the sine engine's delay) for ~3.25 s of expected speech (14 Han characters)
        assert 0.2 / 3.5 < pace < 0.5
