"""A client that leaves mid-stream must free its stream's reserved work (admission probe).

Starlette cancels the response's scope on disconnect (anyio: every later await in that scope is
cancelled again), so ``SpeechPipeline.stream``'s ``finally`` must release the reservation before it
awaits anything. A leaked reservation keeps ``scheduler.stats(engine)["streams"]`` above 0 forever
and, once its deadlines pass, makes real-time admission refuse every new request.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

LONG_ZH = "今天天气很好。我们去公园散步吧！" * 6  # 12 segments: more than the lookahead


def streams(app: FastAPI) -> dict[str, float]:
    s = app.state.runtime.scheduler
    return {e: s.stats(e)["streams"] for e in s.engines}


async def leave_after_first_bytes(url: str, app: FastAPI, body: dict[str, Any]) -> dict[str, float]:
    async with (
        httpx.AsyncClient(base_url=url, timeout=30) as client,
        client.stream("POST", "/v1/audio/speech", json=body) as r,
    ):
        assert r.status_code == 200
        async for _ in r.aiter_raw():
            break  # the listener hangs up after the first bytes
    for _ in range(60):  # up to 3 s for the server to notice and clean up
        if not any(streams(app).values()):
            break
        await asyncio.sleep(0.05)
    return streams(app)


@pytest.mark.parametrize(
    "extra",
    [
        {"response_format": "mp3"},
        {"response_format": "pcm", "stream_format": "sse"},
        {"response_format": "pcm"},
    ],
    ids=["mp3", "sse", "pcm"],
)
def test_disconnect_mid_stream_frees_the_reservation(extra: dict[str, str]) -> None:
    app = create_app(Settings(cache="off", workers=1), table=sine_table(delay_s=0.05))
    with serve_app(app) as url:
        body = {"input": LONG_ZH, "voice": "zh_test", **extra}
        left = asyncio.run(leave_after_first_bytes(url, app, body))
        assert left == {"sine-zh": 0.0, "sine-en": 0.0}
