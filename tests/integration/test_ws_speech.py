"""/v1/audio/speech/ws with the real ``websockets`` client: audio complete, events in order, close codes."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.integration.test_api_speech import expected_duration
from tests.support.audio import decode
from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

ZH = "你好世界。今天天气很好，我们去公园散步吧。"


def ws_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://") + "/v1/audio/speech/ws"


async def session(
    url: str, start: dict[str, Any], texts: list[str]
) -> tuple[list[dict[str, Any]], bytes, int]:
    """Run one session: start, the texts as deltas, close; return (events, audio, close code)."""
    events: list[dict[str, Any]] = []
    audio = bytearray()
    async with connect(ws_url(url)) as ws:
        await ws.send(json.dumps(start))
        for text in texts:
            await ws.send(json.dumps({"type": "text", "text": text}))
        await ws.send(json.dumps({"type": "close"}))
        async for msg in ws:
            if isinstance(msg, bytes):
                audio += msg
                events.append({"type": "audio", "bytes": len(msg)})
            else:
                events.append(json.loads(msg))
    assert ws.close_code is not None
    return events, bytes(audio), ws.close_code


def _deltas(text: str, size: int = 3) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("fmt", ["pcm", "wav", "mp3"])
async def test_streamed_text_is_spoken_completely(sine_url: str, fmt: str) -> None:
    start = {"type": "start", "voice": "zh_test", "response_format": fmt}
    events, audio, code = await session(sine_url, start, _deltas(ZH))
    assert code == 1000
    assert events[-1]["type"] == "done"
    segments = [e for e in events if e["type"] == "segment"]
    assert "".join(s["text"] for s in segments).replace(" ", "") == ZH
    assert [s["index"] for s in segments] == list(range(len(segments)))
    assert events[0]["type"] == "segment"  # a segment's event comes before its audio
    decoded = decode(audio, fmt)
    want = expected_duration(sine_url, ZH)
    assert abs(decoded.duration_s - want) < 0.08, (decoded.duration_s, want)
    assert events[-1]["duration"] == pytest.approx(want, abs=0.02)
    if fmt == "pcm":
        assert decoded.duration_s == pytest.approx(segments[-1]["end"], abs=0.005)


async def test_flush_speaks_buffered_text_before_close(sine_url: str) -> None:
    async with connect(ws_url(sine_url)) as ws:
        await ws.send(json.dumps({"type": "start", "voice": "en_test", "response_format": "pcm"}))
        # no clause boundary: only the flush can release this text
        await ws.send(json.dumps({"type": "text", "text": "Hello there how are"}))
        await ws.send(json.dumps({"type": "flush"}))
        first = json.loads(await asyncio.wait_for(ws.recv(), 5))  # spoken without waiting for more text
        assert first == {"type": "segment", "index": 0, "text": "Hello there how are", "start": 0.0,
                         "end": pytest.approx(first["end"])}  # fmt: skip
        assert isinstance(await ws.recv(), bytes)
        await ws.send(json.dumps({"type": "text", "text": " you today?"}))
        await ws.send(json.dumps({"type": "close"}))
        rest = [m async for m in ws]
    assert json.loads(rest[-1])["type"] == "done"
    assert ws.close_code == 1000


async def _closed_with(
    url: str, first: str | bytes, then: list[str] | None = None
) -> tuple[int, str, list[Any]]:
    async with connect(ws_url(url)) as ws:
        await ws.send(first)
        got: list[Any] = []
        try:
            for msg in then or []:
                await ws.send(msg)
            while True:
                got.append(await ws.recv())
        except ConnectionClosed:
            pass
    assert ws.close_code is not None
    return ws.close_code, ws.close_reason or "", got


@pytest.mark.parametrize(
    ("first", "field"),
    [(json.dumps({"type": "text", "text": "hi"}), "start"), ("not json", "JSON"),
     (json.dumps({"type": "start", "speed": 9}), "speed"),
     (json.dumps({"type": "start", "response_format": "ogg"}), "response_format"),
     (json.dumps({"type": "start", "voice": "nobody"}), "nobody")],
)  # fmt: skip
async def test_bad_first_message_closes_1008_naming_the_field(sine_url: str, first: str, field: str) -> None:
    code, reason, got = await _closed_with(sine_url, first)
    assert code == 1008
    assert field in reason
    assert json.loads(got[-1])["type"] == "error"


async def test_bad_later_message_closes_1008(sine_url: str) -> None:
    start = json.dumps({"type": "start", "voice": "zh_test"})
    code, reason, _ = await _closed_with(sine_url, start, [json.dumps({"type": "text", "text": 5})])
    assert (code, reason) == (1008, "text: must be a string")
    code, reason, _ = await _closed_with(sine_url, start, [json.dumps({"type": "shout"})])
    assert code == 1008
    assert "type" in reason


async def test_engine_failure_closes_1011(sine_url: str) -> None:
    start = json.dumps({"type": "start", "voice": "zh_test", "response_format": "pcm"})
    msgs = [json.dumps({"type": "text", "text": "KABOOM 你好。"}), json.dumps({"type": "close"})]
    code, reason, got = await _closed_with(sine_url, start, msgs)
    assert code == 1011
    assert "KABOOM" in reason or "fail" in reason
    assert json.loads(got[-1])["error"]["type"] == "engine_error"


@pytest.fixture(scope="module")
def slow_reader_app() -> Iterator[tuple[str, FastAPI]]:
    app = create_app(Settings(cache="off", max_wait_ms=2.0), table=sine_table())
    with serve_app(app) as url:
        yield url, app


def _synthesized(app: FastAPI) -> int:
    engine: Any = app.state.runtime.engines["sine-en"]
    return sum(engine.batches) - 1  # minus the warm-up


async def test_slow_reader_bounds_what_the_server_synthesizes(slow_reader_app: tuple[str, FastAPI]) -> None:
    url, app = slow_reader_app
    sentences = [f"Sentence number {i} is here to make the reply long enough." for i in range(120)]
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", int(url.rsplit(":", 1)[1])))
    ws: ClientConnection
    async with connect(ws_url(url), sock=sock, max_queue=1) as ws:
        await ws.send(json.dumps({"type": "start", "voice": "en_test", "response_format": "pcm"}))
        for sentence in sentences:
            await ws.send(json.dumps({"type": "text", "text": sentence + " "}))
        await ws.send(json.dumps({"type": "close"}))
        await asyncio.sleep(
            2.0
        )  # read nothing: the socket's buffers fill, then the queue, then synthesis waits
        stalled = _synthesized(app)
        assert stalled < 40, f"{stalled} of 120 segments synthesized for a reader that reads nothing"
        print(f"slow reader: {stalled} of 120 segments synthesized while the client read nothing")
        started = time.monotonic()
        total = 0
        try:
            async for msg in ws:
                if isinstance(msg, bytes):
                    total += len(msg)
        except ConnectionClosed:
            pytest.fail("session did not end cleanly")
        assert time.monotonic() - started < 30
    assert ws.close_code == 1000
    assert _synthesized(app) - stalled > 60  # the rest was synthesized once the client read
    assert total > 120 * 2.5 * 24_000 * 2  # ~2.8 s of audio per sentence, s16 at 24 kHz
