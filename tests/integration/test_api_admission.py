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
        stats = app.state.runtime.scheduler.stats("sine-zh")
        # The sine engine takes 0.2 s a call whatever the text: all overhead, no pace.
        for speech_s in (1.0, 3.25):
            assert stats["overhead_s"] + stats["pace"] * speech_s == pytest.approx(0.2, abs=0.1)


async def overlapping(url: str, texts: list[str], gap_s: float) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        tasks = []
        for text in texts:
            tasks.append(asyncio.create_task(client.post("/v1/audio/speech", json=body(text))))
            await asyncio.sleep(gap_s)
        return list(await asyncio.gather(*tasks))


def test_a_stream_that_cannot_start_in_time_is_refused_by_default() -> None:
    # Default settings but one worker (so the figures don't depend on this machine's cores) and an
    # engine that takes 1 s per segment: about its warm-up pace for sentences of this length.
    settings = Settings(cache="off", workers=1, max_batch_size=1)
    with serve_app(create_app(settings, table=sine_table(delay_s=1.0))) as url:
        first, refused = asyncio.run(
            overlapping(url, ["第一位客人今天来得很早啊。", "第二位客人今天来得也很早。"], 0.2)
        )
        assert first.status_code == 200
        assert len(np.frombuffer(first.content, dtype=np.int16)) / 24000 > 0.5
        # The second's first audio would come ~1.7 s after it asked (target 1 s): refused at once.
        assert refused.status_code == 503
        assert int(refused.headers["retry-after"]) >= 1
        err = refused.json()["error"]
        assert err["code"] == "realtime"
        assert "TTSGATE_TTFA_TARGET_S=1" in err["message"]
        assert total(url, "ttsgate_rejected_total", reason="realtime") == 1
        # Once the first is done, the same request fits.
        (again,) = asyncio.run(overlapping(url, ["第二位客人今天来得也很早。"], 0.0))
        assert again.status_code == 200


def test_requests_sharing_their_first_sentence_each_count_in_full() -> None:
    # LLM-style replies that start alike: single-flight synthesizes "好的。" once, but every request
    # reserves its whole work, so the real-time bound still holds (before, all were accepted).
    settings = Settings(cache="off", workers=1, max_batch_size=1)
    texts = [f"好的。第{n}号订单已经发货了，请注意查收。" for n in "一二三四五六七八"]
    with serve_app(create_app(settings, table=sine_table(delay_s=0.3))) as url:
        responses = asyncio.run(overlapping(url, texts, 0.0))
        codes = [r.status_code for r in responses]
        assert set(codes) == {200, 503}, codes
        for r in responses:
            if r.status_code == 503:
                assert r.json()["error"]["code"] == "realtime"
            else:  # every accepted request got all of its audio
                assert len(np.frombuffer(r.content, dtype=np.int16)) / 24000 > 1.0
