"""A client that reads a long response in real time gets all of it: the request timeout
(``TTSGATE_REQUEST_TIMEOUT_S``) bounds each segment's synthesis from when it is asked for, not
the stream, whose length follows the client's reading (backpressure). A segment that really takes
longer than the timeout still fails in-band (an aborted body, an SSE ``error`` event).

The app is driven in-process through ASGI with a ``send`` that sleeps as a real-time player would
(4× real time, as the bug report's reader): no socket buffer in between, so the backpressure is
exact."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from fastapi import FastAPI

from tests.support.tables import sine_table
from ttsgate.audio.chunk import OUTPUT_SAMPLE_RATE, AudioChunk
from ttsgate.config import Settings
from ttsgate.engines.base import SynthesisInput
from ttsgate.engines.sine import SineEngine
from ttsgate.server import create_app

TIMEOUT_S = 1.0
SPEEDUP = 4.0  # the reader plays audio at 4× real time
# ~20 s of audio (0.05 s a character): ~5 s of reading at 4×, five times the timeout.
TEXT = " ".join(f"This is sentence number {i} of a long story." for i in range(1, 11))
PCM_BYTES_S = OUTPUT_SAMPLE_RATE * 2


def _app(workers: int = 0, **engine: Any) -> FastAPI:
    settings = Settings(
        cache="off", request_timeout_s=TIMEOUT_S, realtime_admission=False, lookahead=2, workers=workers
    )
    return create_app(settings, table=sine_table(**engine), wait_ready=True)


@pytest.fixture
async def app() -> AsyncIterator[FastAPI]:
    made = _app(delay_s=0.02)
    async with made.router.lifespan_context(made):
        yield made


SLOW_TEXT = "第一句话很快。" + "".join(f"这是第{i}句话，慢。" for i in range(2, 9))


@pytest.fixture
async def slow_app(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FastAPI]:
    """A segment with 慢 takes 1.5× the timeout to synthesize; the first segment has none."""
    real = SineEngine.synthesize

    def synthesize(self: SineEngine, batch: Sequence[SynthesisInput]) -> list[AudioChunk]:
        if any("慢" in item.text for item in batch):
            time.sleep(1.5 * TIMEOUT_S)
        return real(self, batch)

    monkeypatch.setattr(SineEngine, "synthesize", synthesize)
    made = _app(max_batch_size=1)
    async with made.router.lifespan_context(made):
        yield made


class Reply:
    def __init__(self) -> None:
        self.status = 0
        self.body = b""
        self.complete = False  # the body's last message (more_body false) came
        self.error: BaseException | None = None


async def _post(
    app: FastAPI, path: str, body: dict[str, Any], pace: Callable[[bytes], float] | None
) -> Reply:
    """POST ``body`` as JSON through ASGI; ``pace(chunk)``: seconds the reader takes over a chunk."""
    data = json.dumps(body).encode()
    reply = Reply()
    done = asyncio.Event()
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": data, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            reply.status = message["status"]
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            reply.body += chunk
            if not message.get("more_body", False):
                reply.complete = True
            elif pace is not None and chunk:
                await asyncio.sleep(pace(chunk))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(data)),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    try:
        await app(scope, receive, send)
    except Exception as exc:  # an aborted stream: the server would drop the connection
        reply.error = exc
    finally:
        done.set()
    return reply


def _pcm_pace(chunk: bytes) -> float:
    return len(chunk) / PCM_BYTES_S / SPEEDUP


def _sse_pace(chunk: bytes) -> float:
    seconds = 0.0
    for line in chunk.decode().splitlines():
        if line.startswith("data: "):
            event = json.loads(line[6:])
            if event["type"] == "speech.audio.delta":
                seconds += len(base64.b64decode(event["audio"])) / PCM_BYTES_S / SPEEDUP
    return seconds


async def test_a_pcm_stream_read_in_real_time_is_complete(app: FastAPI) -> None:
    body = {"input": TEXT, "voice": "en_test", "response_format": "pcm"}
    fast = await _post(app, "/v1/audio/speech", body, None)
    assert fast.status == 200
    assert fast.complete
    audio_s = len(fast.body) / PCM_BYTES_S
    assert audio_s / SPEEDUP > 4 * TIMEOUT_S
    loop = asyncio.get_running_loop()
    began = loop.time()
    slow = await _post(app, "/v1/audio/speech", body, _pcm_pace)
    assert slow.error is None, slow.error
    assert slow.status == 200
    assert slow.complete  # terminated, not aborted
    assert loop.time() - began > 0.8 * audio_s / SPEEDUP  # it really was read in real time
    assert slow.body == fast.body  # the full duration


async def test_an_sse_stream_read_in_real_time_is_complete(app: FastAPI) -> None:
    body = {"input": TEXT, "voice": "en_test", "response_format": "pcm", "stream_format": "sse"}
    slow = await _post(app, "/v1/audio/speech", body, _sse_pace)
    assert slow.status == 200
    assert slow.error is None
    assert slow.complete
    events = [json.loads(line[6:]) for line in slow.body.decode().splitlines() if line.startswith("data: ")]
    assert [e["type"] for e in events if e["type"] in ("error", "speech.audio.done")] == ["speech.audio.done"]
    audio = b"".join(base64.b64decode(e["audio"]) for e in events if e["type"] == "speech.audio.delta")
    segments = [e for e in events if e["type"] == "speech.segment"]
    assert len(segments) == 10
    assert len(audio) / PCM_BYTES_S / SPEEDUP > 4 * TIMEOUT_S


async def test_the_seed_route_read_in_real_time_is_complete(app: FastAPI) -> None:
    body = {"prompt": TEXT, "voice_id": "en_test", "response_format": "pcm"}
    fast = await _post(app, "/api/chatts", body, None)
    slow = await _post(app, "/api/chatts", body, _pcm_pace)
    assert slow.status == 200
    assert slow.error is None
    assert slow.complete
    assert slow.body == fast.body


async def test_synthesis_slower_than_the_timeout_still_aborts_the_stream(slow_app: FastAPI) -> None:
    body = {"input": SLOW_TEXT, "voice": "zh_test", "response_format": "pcm"}
    reply = await _post(slow_app, "/v1/audio/speech", body, None)
    assert reply.status == 200  # the first segment was in time
    assert not reply.complete  # then aborted: never a clean short end
    assert reply.error is not None
    assert "deadline" in str(reply.error)


async def test_sse_slower_than_the_timeout_ends_with_a_timeout_event(slow_app: FastAPI) -> None:
    body = {"input": SLOW_TEXT, "voice": "zh_test", "response_format": "pcm", "stream_format": "sse"}
    reply = await _post(slow_app, "/v1/audio/speech", body, None)
    events = [json.loads(line[6:]) for line in reply.body.decode().splitlines() if line.startswith("data: ")]
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["type"] == "timeout"
