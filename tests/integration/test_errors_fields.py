"""Every 400 names the field as the client wrote it, on every route that takes a body or a query
(issue #13): no pydantic union tags (``voice.str``), no dotted list indexes (``messages.0``), no
model-internal names (``input`` on ``GET /tts``); the message says what was expected and what came."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

MESSAGES = [{"role": "user", "content": "Say something."}]
BAD_VOICES: list[Any] = [123, {"name": "alloy"}, {"id": ""}, None, ["alloy"], {"id": 5}, True, 1.5]
# route → a body that is valid except for what a case puts in it
BODY_ROUTES: dict[str, dict[str, Any]] = {
    "/v1/audio/speech": {"input": "你好"},
    "/v1/audio/subtitles": {"input": "你好"},
    "/v1/chat/speech": {"messages": MESSAGES},
}


def _error(r: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    err: dict[str, Any] = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    return err


@pytest.mark.parametrize("route", list(BODY_ROUTES))
@pytest.mark.parametrize("voice", BAD_VOICES, ids=json.dumps)
def test_a_voice_of_the_wrong_shape_names_voice(sine_url: str, route: str, voice: Any) -> None:
    err = _error(httpx.post(f"{sine_url}{route}", json={**BODY_ROUTES[route], "voice": voice}, timeout=30))
    assert err["param"] == "voice"
    assert err["type"] == "invalid_request_error"
    assert err["message"].startswith("voice: expected a string or an object")
    assert "str" not in err["message"].split("expected", 1)[0]  # no union tag before the expectation
    assert "VoiceRef" not in err["message"]


@pytest.mark.parametrize(
    ("voice", "detail"),
    [({"name": "alloy"}, "(id: required field is missing), got an object"),
     ({"id": ""}, "(id: must have at least 1 character), got an object"),
     ({"id": 5}, "(id: expected a string, got an integer), got an object"),
     (123, "got an integer"), (None, "got null"), (["alloy"], "got an array")],
)  # fmt: skip
def test_the_voice_message_says_what_was_expected_and_what_came(
    sine_url: str, voice: Any, detail: str
) -> None:
    err = _error(httpx.post(f"{sine_url}/v1/audio/speech", json={"input": "hi", "voice": voice}))
    assert err["message"].endswith(detail), err["message"]


@pytest.mark.parametrize(
    ("body", "param", "needle"),
    [({"messages": [{"role": "user"}]}, "messages[0].content", "required"),
     ({"messages": [{"role": "user", "content": 1}]}, "messages[0].content", "expected a string, got an int"),
     ({"messages": [*MESSAGES, "hi"]}, "messages[1]", "expected an object, got a string"),
     ({"messages": [*MESSAGES, {"role": "wizard", "content": "x"}]}, "messages[1].role", "'user'"),
     ({"messages": [{"role": "user", "content": "x" * 100_001}]}, "messages[0].content", "100000"),
     ({"messages": "hi"}, "messages", "expected an array, got a string"),
     ({"messages": []}, "messages", "at least 1"),
     ({"messages": MESSAGES, "keep_alive": [1]}, "keep_alive", "a string or an integer, got an array"),
     ({"messages": MESSAGES, "options": "hot"}, "options", "expected an object, got a string"),
     ({"messages": MESSAGES, "speed": "fast"}, "speed", "expected a number, got a string")],
)  # fmt: skip
def test_chat_bodies_name_nested_fields_as_written(
    sine_url: str, body: dict[str, Any], param: str, needle: str
) -> None:
    err = _error(httpx.post(f"{sine_url}/v1/chat/speech", json=body, timeout=30))
    assert err["param"] == param
    assert err["message"].startswith(f"{param}: ")
    assert needle in err["message"]


@pytest.mark.parametrize(
    ("params", "param", "needle"),
    [({"text": "   "}, "text", "text has nothing speakable"),
     ({"text": "🙂🙂"}, "text", "text has nothing speakable"),
     ({"text": "x" * 5000}, "text", "text is 5000 characters; the limit is 4096"),
     ({"text": ""}, "text", "at least 1"),
     ({}, "text", "required"),
     ({"text": "你好", "voice_id": "nobody"}, "voice_id", "voice_id 'nobody' is not known"),
     ({"text": "你好", "speed": "fast"}, "speed", "number"),
     ({"text": "你好", "speed": "9"}, "speed", "4"),
     ({"text": "你好", "response_format": "ogg"}, "response_format", "'mp3'"),
     ({"text": "你好", "language": "粤语"}, "language", "pattern")],
)  # fmt: skip
def test_get_tts_names_its_query_parameters(
    sine_url: str, params: dict[str, str], param: str, needle: str
) -> None:
    err = _error(httpx.get(f"{sine_url}/tts", params=params))
    assert err["param"] == param
    assert needle in err["message"]


@pytest.mark.parametrize(
    ("body", "param", "needle"),
    [({"prompt": "  "}, "prompt", "prompt has nothing speakable"),
     ({"prompt": "x" * 5000}, "prompt", "prompt is 5000 characters"),
     ({"prompt": "你好", "voice_id": "nobody"}, "voice_id", "voice_id 'nobody'"),
     ({"prompt": "你好", "voice_settings": {"voice_id": "nobody"}}, "voice_settings.voice_id",
      "voice_settings.voice_id 'nobody'"),
     ({"prompt": "你好", "voice_settings": {"speed": 9}}, "voice_settings.speed", "less than or equal to 4"),
     ({"prompt": "你好", "voice_settings": {"batch_size": 4.5}}, "voice_settings.batch_size", "integer"),
     ({"prompt": "你好", "voice_settings": []}, "voice_settings", "expected an object, got an array"),
     ({"prompt": "你好", "stream": 0}, "stream", "expected a boolean (true or false), got an integer"),
     ({"prompt": "你好", "stream": "false"}, "stream", "got a string"),
     ({"prompt": 7}, "prompt", "expected a string, got an integer")],
)  # fmt: skip
def test_seed_chatts_names_the_field_the_client_used(
    sine_url: str, body: dict[str, Any], param: str, needle: str
) -> None:
    err = _error(httpx.post(f"{sine_url}/api/chatts", json=body))
    assert err["param"] == param
    assert needle in err["message"]


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [("speed", "1.5", "expected a number, got a string"), ("speed", True, "expected a number, got a boolean"),
     ("input", 123, "expected a string, got an integer"), ("response_format", 1, "'mp3'"),
     ("stream_format", "chunks", "'audio' or 'sse'"), ("model", ["tts-1"], "expected a string"),
     ("instructions", 5, "expected a string")],
)  # fmt: skip
def test_types_are_strict_where_openai_is(sine_url: str, field: str, value: Any, needle: str) -> None:
    body = {"input": "你好", "voice": "zh_test", field: value}
    err = _error(httpx.post(f"{sine_url}/v1/audio/speech", json=body))
    assert err["param"] == field
    assert needle in err["message"]


@pytest.mark.parametrize("speed", [1, 2, 0.5])
def test_an_integer_is_a_number_and_unknown_fields_are_ignored(sine_url: str, speed: float) -> None:
    body = {"input": "你好", "voice": "zh_test", "speed": speed, "response_format": "pcm", "newer_field": 1}
    r = httpx.post(f"{sine_url}/v1/audio/speech", json=body)
    assert r.status_code == 200, r.text


def test_normalize_names_its_fields(sine_url: str) -> None:
    err = _error(httpx.post(f"{sine_url}/v1/text/normalize", json={"input": "x", "lang": "fr"}))
    assert (err["param"], err["message"]) == ("lang", "lang: must be 'zh' or 'en'")
    assert _error(httpx.post(f"{sine_url}/v1/text/normalize", json={"input": 1}))["param"] == "input"


async def _ws_error(url: str, start: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with connect(url.replace("http://", "ws://") + "/v1/audio/speech/ws") as ws:
        await ws.send(json.dumps(start))
        got: list[Any] = []
        try:
            while True:
                got.append(await ws.recv())
        except ConnectionClosed:
            pass
    assert ws.close_code is not None
    return ws.close_code, json.loads(got[-1])


@pytest.mark.parametrize("voice", BAD_VOICES[:5], ids=json.dumps)
async def test_websocket_start_names_voice(sine_url: str, voice: Any) -> None:
    code, event = await _ws_error(sine_url, {"type": "start", "voice": voice})
    assert code == 1008
    assert event["type"] == "error"
    assert event["error"]["param"] == "voice"
    assert event["error"]["message"].startswith("voice: expected a string or an object")


async def test_websocket_start_types_are_strict(sine_url: str) -> None:
    code, event = await _ws_error(sine_url, {"type": "start", "voice": "zh_test", "speed": "2"})
    assert (code, event["error"]["param"]) == (1008, "speed")
    assert "expected a number, got a string" in event["error"]["message"]
