"""Every failure is reported in the form its transport allows: a status before the first byte (504
for a timeout, also for a body sent whole), an aborted body or an SSE ``error`` event after it, an
``error`` event and a documented close code on the WebSocket, whatever failed (our errors, client
text that is not Unicode, JSON nested too deep, a bug)."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.integration.test_ws_speech import ws_url
from tests.support.audio import decode
from tests.support.metrics import total
from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

# 16 sentences: at 0.4 s per segment on one worker, far past a 1 s deadline; the first is in time.
LONG_ZH = "".join(f"这是第{i}句话。" for i in range(1, 17))


@pytest.fixture(scope="module")
def slow_url() -> Iterator[str]:
    """Synthesis slower than the request deadline: each segment takes 0.4 s, the deadline is 1 s."""
    settings = Settings(cache="off", request_timeout_s=1.0, realtime_admission=False, workers=1)
    app = create_app(settings, table=sine_table(delay_s=0.4, max_batch_size=1))
    with serve_app(app) as url:
        yield url


async def _drain(ws: ClientConnection) -> list[str | bytes]:
    """Every message until the server closes (any close code)."""
    received: list[str | bytes] = []
    try:
        while True:
            received.append(await ws.recv())
    except ConnectionClosed:
        return received


def _sse_events(url: str, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    with httpx.stream("POST", url + path, json=body, timeout=30) as r:
        assert r.status_code == 200, r.read()
        return [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]


def test_chatts_not_streamed_past_the_deadline_is_504(slow_url: str) -> None:
    r = httpx.post(f"{slow_url}/api/chatts", json={"prompt": LONG_ZH, "stream": False}, timeout=30)
    assert r.status_code == 504, r.text[:300]
    err = r.json()["error"]
    assert err["type"] == "timeout"
    assert "deadline" in err["message"]
    assert total(slow_url, "ttsgate_requests_total", route="/api/chatts", status="504") >= 1
    assert total(slow_url, "ttsgate_engine_errors_total") == 0


def test_subtitles_past_the_deadline_are_504(slow_url: str) -> None:
    r = httpx.post(f"{slow_url}/v1/audio/subtitles", json={"input": LONG_ZH, "voice": "zh_test"}, timeout=30)
    assert r.status_code == 504
    assert r.json()["error"]["type"] == "timeout"


def test_streamed_chatts_past_the_deadline_is_aborted(slow_url: str) -> None:
    with httpx.stream("POST", f"{slow_url}/api/chatts", json={"prompt": LONG_ZH}, timeout=30) as r:
        assert r.status_code == 200  # the first segment was in time: headers and audio went out
        with pytest.raises(httpx.RemoteProtocolError):  # no terminating chunk: never a clean short end
            r.read()


def test_sse_past_the_deadline_ends_with_a_timeout_event(slow_url: str) -> None:
    body = {"input": LONG_ZH, "voice": "zh_test", "response_format": "pcm", "stream_format": "sse"}
    events = _sse_events(slow_url, "/v1/audio/speech", body)
    assert events[0]["type"] == "speech.segment"
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["type"] == "timeout"
    assert "speech.audio.done" not in [e["type"] for e in events]


# -- a bug after the first byte --------------------------------------------------------------------


@pytest.fixture
def broken_second_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    """Encoding fails with a plain exception (a bug) from the second segment on."""
    import ttsgate.server.routes_ws as routes_ws
    import ttsgate.server.streaming as streaming

    real = streaming.pcm_pieces
    calls = 0

    def pieces(pcm: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise RuntimeError("bug in the encoder path")
        return real(pcm)

    monkeypatch.setattr(streaming, "pcm_pieces", pieces)
    monkeypatch.setattr(routes_ws, "pcm_pieces", pieces)


@pytest.mark.usefixtures("broken_second_piece")
def test_sse_bug_after_the_first_byte_ends_with_a_server_error_event(
    sine_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = {"input": "第一句话。第二句话。第三句话。", "voice": "zh_test", "stream_format": "sse"}
    with caplog.at_level(logging.ERROR, logger="ttsgate.server"):
        events = _sse_events(sine_url, "/v1/audio/speech", body)
    assert events[-1] == {
        "type": "error",
        "error": {"message": "internal server error", "type": "server_error", "param": None, "code": None},
    }
    assert any("bug in the encoder path" in r.getMessage() or r.exc_info for r in caplog.records)


@pytest.mark.usefixtures("broken_second_piece")
async def test_ws_bug_ends_with_an_error_event_and_1011(sine_url: str) -> None:
    async with connect(ws_url(sine_url)) as ws:
        await ws.send(json.dumps({"type": "start", "voice": "zh_test"}))
        await ws.send(json.dumps({"type": "text", "text": "第一句话。第二句话。"}))
        await ws.send(json.dumps({"type": "close"}))
        events = [json.loads(m) for m in await _drain(ws) if isinstance(m, str)]
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["type"] == "server_error"
    assert ws.close_code == 1011


# -- client text that is not valid, on the WebSocket ----------------------------------------------


async def _ws_refusal(url: str, messages: list[str]) -> tuple[dict[str, Any], int | None, str | None]:
    """Send raw text frames; return the error event, the close code and reason."""
    async with connect(ws_url(url), max_size=None) as ws:
        for message in messages:
            await ws.send(message)
        received = await _drain(ws)
    errors = [json.loads(m) for m in received if isinstance(m, str) and json.loads(m)["type"] == "error"]
    assert len(errors) == 1, received
    return errors[0]["error"], ws.close_code, ws.close_reason


START = json.dumps({"type": "start", "voice": "zh_test"})


@pytest.mark.parametrize(
    "text_message",
    [
        '{"type": "text", "text": "hello \\ud800 world"}',  # a lone high surrogate
        '{"type": "text", "text": "\\udc00"}',  # a lone low surrogate
        '{"type": "text", "text": "你好。\\ud83d"}',  # half of an emoji's pair
    ],
)
async def test_ws_lone_surrogate_is_a_1008_naming_text(sine_url: str, text_message: str) -> None:
    err, code, reason = await _ws_refusal(sine_url, [START, text_message])
    assert code == 1008
    assert err["param"] == "text"
    assert "surrogate" in err["message"]
    assert reason
    assert "surrogate" in reason


@pytest.mark.parametrize("depth", [1000, 50_000])  # 100 kB: under the size limit
@pytest.mark.parametrize("first", [True, False])
async def test_ws_deeply_nested_json_is_a_1008(sine_url: str, depth: int, first: bool) -> None:
    nested = "[" * depth + "]" * depth
    messages = [nested] if first else [START, nested]
    err, code, _ = await _ws_refusal(sine_url, messages)
    assert code == 1008
    assert err["code"] == "invalid_json"


async def test_ws_surrogate_in_the_start_message_is_a_1008(sine_url: str) -> None:
    err, code, _ = await _ws_refusal(sine_url, ['{"type": "start", "voice": "zh\\ud800"}'])
    assert code == 1008
    assert err["param"] == "voice"


async def test_ws_message_over_the_size_limit_closes_1009() -> None:
    settings = Settings(cache="off", max_body_bytes=4096)
    with serve_app(create_app(settings, table=sine_table())) as url:
        async with connect(ws_url(url), max_size=None) as ws:
            await ws.send(START)
            await ws.send(json.dumps({"type": "text", "text": "x" * 5000}))
            await _drain(ws)
        assert ws.close_code == 1009


# -- text an LLM sends that is not valid Unicode ---------------------------------------------------


def _surrogate_ollama() -> Starlette:
    """An Ollama stand-in whose reply carries a lone surrogate as a JSON escape (valid JSON; a real
    model can emit half of a surrogate pair this way)."""
    tokens = ["Hello ", "\ud800", " there.", " This is the second sentence."]

    async def chat(_: Request) -> Response:
        lines = [
            {"model": "m", "message": {"role": "assistant", "content": t}, "done": False} for t in tokens
        ]
        lines.append({"model": "m", "message": {"role": "assistant", "content": ""}, "done": True})
        body = "".join(json.dumps(line) + "\n" for line in lines)  # ensure_ascii: "\\ud800" escapes
        return Response(body, media_type="application/x-ndjson")

    async def ready(_: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/api/chat", chat, methods=["POST"]), Route("/ready", ready)])


@pytest.fixture(scope="module")
def surrogate_llm() -> Iterator[str]:
    with serve_app(_surrogate_ollama()) as llm:  # type: ignore[arg-type]
        r = httpx.post(f"{llm}/api/chat", json={})
        assert "\\ud800" in r.text  # the fixture really sends one
        settings = Settings(cache="off", llm_url=llm, llm_model="m")
        with serve_app(create_app(settings, table=sine_table())) as url:
            yield url


def test_chat_sse_reply_with_a_lone_surrogate_is_spoken_with_a_replacement(surrogate_llm: str) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}], "voice": "en_test", "stream_format": "sse"}
    events = _sse_events(surrogate_llm, "/v1/chat/speech", body)
    kinds = [e["type"] for e in events]
    assert kinds[-2:] == ["chat.text.done", "speech.audio.done"], kinds
    assert events[-2]["text"] == "Hello \ufffd there. This is the second sentence."
    audio = b"".join(base64.b64decode(e["audio"]) for e in events if e["type"] == "speech.audio.delta")
    assert len(audio) > 0


def test_chat_audio_reply_with_a_lone_surrogate_is_complete(surrogate_llm: str) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}], "voice": "en_test", "response_format": "wav"}
    r = httpx.post(f"{surrogate_llm}/v1/chat/speech", json=body, timeout=30)
    assert r.status_code == 200
    assert decode(r.content, "wav").duration_s > 1.0


# -- a client that goes away before a body sent whole -----------------------------------------------


@pytest.fixture(scope="module")
def patient_url() -> Iterator[str]:
    """Slow synthesis (0.4 s a segment, one worker) under a long deadline."""
    settings = Settings(cache="off", request_timeout_s=60.0, realtime_admission=False, workers=1)
    with serve_app(create_app(settings, table=sine_table(delay_s=0.4, max_batch_size=1))) as url:
        yield url


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/chatts", {"prompt": LONG_ZH, "stream": False}),
        ("/v1/audio/subtitles", {"input": LONG_ZH, "voice": "zh_test"}),
    ],
)
def test_a_body_sent_whole_stops_synthesis_when_its_client_goes(
    patient_url: str, path: str, body: dict[str, Any]
) -> None:
    import time

    with pytest.raises(httpx.TimeoutException):
        httpx.post(patient_url + path, json=body, timeout=1.0)  # the client gives up after ~2 segments
    time.sleep(1.0)  # the server notices and cancels the rest
    done = total(patient_url, "ttsgate_segments_synthesized_total")
    time.sleep(1.5)
    assert total(patient_url, "ttsgate_segments_synthesized_total") == done  # nothing more is spoken
    assert done < 12
    assert total(patient_url, "ttsgate_requests_total", route=path, status="499") >= 1
    assert total(patient_url, "ttsgate_requests_total", route=path, status="200") == 0


def test_an_audio_stream_aborted_by_an_engine_failure_is_one_warning_without_traceback(
    sine_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A designed abort (our error after the first byte) is no bug: besides the engine's own ERROR,
    one WARNING; no ``unhandled error``, no uvicorn ``Exception in ASGI application`` traceback."""
    body = {"input": "第一句话。第二句话KABOOM。", "voice": "zh_test"}
    with caplog.at_level(logging.INFO):
        with httpx.stream("POST", sine_url + "/v1/audio/speech", json=body, timeout=30) as r:
            assert r.status_code == 200
            with pytest.raises(httpx.RemoteProtocolError):
                r.read()
        import time

        time.sleep(0.3)  # uvicorn logs after the connection is closed
    aborted = [r for r in caplog.records if "after its first byte" in r.getMessage()]
    assert [r.levelno for r in aborted] == [logging.WARNING]
    bugs = [
        r
        for r in caplog.records
        if r.name in ("uvicorn.error", "ttsgate.server") and r.levelno >= logging.ERROR
    ]
    assert bugs == []
    assert not [r for r in caplog.records if r.exc_info and type(r.exc_info[1]).__name__ == "StreamAborted"]


async def test_ws_text_frame_that_is_not_utf8_closes_1007_without_an_event(sine_url: str) -> None:
    """docs/websocket.md: 1007 is decided by the WebSocket library before ttsgate has a message."""
    async with connect(ws_url(sine_url)) as ws:
        await ws.send(START)
        await ws.send(b'{"type": "text", "text": "\xff"}', text=True)
        received = await _drain(ws)
    assert ws.close_code == 1007
    assert not [m for m in received if isinstance(m, str) and '"error"' in m]


@pytest.mark.parametrize(
    ("message", "said"),
    [('{"text": "hi"}', "type: missing; expected text, flush or close"),
     ('{"type": "speak"}', 'type: unknown message type "speak"; expected text, flush or close'),
     ('{"type": 3}', "type: unknown message type 3; expected text, flush or close")],
)  # fmt: skip
async def test_ws_unknown_message_type_is_said_in_json_terms(sine_url: str, message: str, said: str) -> None:
    err, code, _ = await _ws_refusal(sine_url, [START, message])
    assert code == 1008
    assert (err["param"], err["message"]) == ("type", said)
