"""Requests from different clients really share engine batches (seen from outside, in /metrics)."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.metrics import total
from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app


async def _concurrent(url: str, n: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        bodies = [
            {"input": f"第{i}位客人你好", "voice": "zh_test", "response_format": "pcm"} for i in range(n)
        ]
        return list(await asyncio.gather(*(client.post("/v1/audio/speech", json=b) for b in bodies)))


def test_concurrent_requests_share_batches() -> None:
    # A slow engine (0.3 s a batch) and one worker: while a batch runs the others queue up and
    # leave together in the next batch. Real-time admission is off: it costs each segment at the
    # pace timed at warm-up (a batch of one), and a sine batch of 8 costs what a batch of 1 does.
    settings = Settings(cache="off", max_wait_ms=20.0, max_batch_size=8, workers=1, realtime_admission=False)
    with serve_app(create_app(settings, table=sine_table(delay_s=0.3))) as url:
        responses = asyncio.run(_concurrent(url, 8))
        assert all(r.status_code == 200 for r in responses)
        assert len({r.content for r in responses}) == 8  # eight different texts, eight answers
        batches = total(url, "ttsgate_batch_size_count", engine="sine-zh")
        jobs = total(url, "ttsgate_batch_size_sum", engine="sine-zh")
        assert jobs == 8
        assert batches <= 3, f"8 concurrent segments ran in {batches} batches"
