"""Request bodies are JSON whatever their Content-Type says (as OpenAI reads them), a body that is not a
JSON object gets a 400 saying so, a web page must say application/json; 405 carries Allow, 404 and
405 come in the error shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.audio import decode

SPEECH = b'{"input": "\xe4\xbd\xa0\xe5\xa5\xbd", "voice": "zh_test", "response_format": "wav"}'
BODY_ROUTES = [
    "/v1/audio/speech",
    "/v1/audio/subtitles",
    "/v1/chat/speech",
    "/api/chatts",
    "/v1/text/normalize",
]


def _error(r: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    err: dict[str, Any] = r.json()["error"]
    assert err["type"] == "invalid_request_error"
    return err


@pytest.mark.parametrize(
    "content_type",
    [None, "application/x-www-form-urlencoded", "text/plain", "text/plain; charset=utf-8",
     "application/octet-stream", "application/vnd.api+json"],
)  # fmt: skip
def test_a_json_body_is_read_whatever_its_content_type(sine_url: str, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    r = httpx.post(f"{sine_url}/v1/audio/speech", content=SPEECH, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    assert decode(r.content, "wav").duration_s == pytest.approx(0.12, abs=0.01)


@pytest.mark.parametrize("route", BODY_ROUTES)
@pytest.mark.parametrize(
    ("content", "content_type", "needle"),
    [(b"input=hello&voice=alloy", "application/x-www-form-urlencoded", "not valid JSON"),
     (b'{"input": "hi",', "application/json", "not valid JSON"),
     (b"\xff\xfe", "text/plain", "not valid JSON"),
     (b"[1, 2]", "application/json", "must be a JSON object, got an array"),
     (b'"hello"', "text/plain", "must be a JSON object, got a string"),
     (b"null", "application/json", "must be a JSON object, got null"),
     (b"", "application/json", "body is missing")],
)  # fmt: skip
def test_a_body_that_is_not_a_json_object_is_400_saying_so(
    sine_url: str, route: str, content: bytes, content_type: str, needle: str
) -> None:
    err = _error(httpx.post(f"{sine_url}{route}", content=content, headers={"content-type": content_type}))
    assert err["param"] == "body"
    assert err["code"] == "invalid_json"
    assert "JSON object" in err["message"]
    assert needle in err["message"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_web_page_must_say_application_json(sine_url: str, content_type: str | None) -> None:
    """A cross-site form or text/plain fetch (no CORS preflight) cannot start synthesis."""
    headers = {"origin": "http://elsewhere.example"}
    if content_type:
        headers["content-type"] = content_type
    err = _error(httpx.post(f"{sine_url}/v1/audio/speech", content=SPEECH, headers=headers))
    assert err["param"] == "Content-Type"
    assert err["code"] == "unsupported_content_type"
    assert "application/json" in err["message"]
    ok = httpx.post(
        f"{sine_url}/v1/audio/speech",
        content=SPEECH,
        headers={"origin": "http://elsewhere.example", "content-type": "application/json"},
    )
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("POST", "/health", "GET"), ("PUT", "/v1/audio/speech", "POST"), ("DELETE", "/tts", "GET"),
     ("PUT", "/v1/chat/speech", "POST"), ("POST", "/v1/models", "GET"), ("GET", "/api/chatts", "POST"),
     ("GET", "/v1/audio/speech", "POST"), ("GET", "/v1/audio/subtitles", "POST")],
)  # fmt: skip
def test_405_says_what_is_allowed(sine_url: str, method: str, path: str, allow: str) -> None:
    r = httpx.request(method, f"{sine_url}{path}")
    err = _error(r, 405)
    assert allow in {m.strip() for m in r.headers["allow"].split(",")}
    assert err["code"] == "method_not_allowed"
    assert err["message"] == f"method {method} is not allowed on {path}; allowed: {r.headers['allow']}"


def test_an_unknown_route_is_404_in_the_error_shape(sine_url: str) -> None:
    r = httpx.post(f"{sine_url}/v2/audio/speak", json={"input": "hi"})
    assert r.status_code == 404
    err = r.json()["error"]
    assert (err["type"], err["code"]) == ("not_found_error", "not_found")
    assert err["message"] == "no route POST /v2/audio/speak"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_websocket_path_without_a_websocket_is_405_saying_so(sine_url: str, method: str) -> None:
    r = httpx.request(method, f"{sine_url}/v1/audio/speech/ws")
    err = _error(r, 405)
    assert r.headers["allow"] == "GET"
    assert err["code"] == "method_not_allowed"
    assert "WebSocket" in err["message"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"[" * 100_000, "nested too deeply"), (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
     (b'{"input": "hi", "voice": "zh_test", "speed": ' + b"1" * 5000 + b"}", "too many digits"),
     (b'{"input": "\xff"}', "not UTF-8"), (b'{"input": ', "not valid JSON")],
)  # fmt: skip
def test_a_body_the_parser_gives_up_on_is_invalid_json(sine_url: str, body: bytes, reason: str) -> None:
    r = httpx.post(f"{sine_url}/v1/audio/speech", content=body, headers={"content-type": "application/json"})
    err = _error(r)
    assert (err["param"], err["code"]) == ("body", "invalid_json")
    assert reason in err["message"]


@pytest.mark.parametrize("value", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_are_not_numbers_here(sine_url: str, value: bytes) -> None:
    body = b'{"input": "hi", "voice": "zh_test", "speed": ' + value + b"}"
    err = _error(httpx.post(f"{sine_url}/v1/audio/speech", content=body))
    assert (err["param"], err["code"]) == ("speed", "invalid_value")
    assert "finite number" in err["message"]


@pytest.mark.parametrize("speed", ["nan", "inf", "1_0", "0x1", "1.0.0"])
def test_a_query_speed_must_be_a_plain_number(sine_url: str, speed: str) -> None:
    err = _error(httpx.get(f"{sine_url}/tts", params={"text": "hi", "speed": speed}))
    assert err["param"] == "speed"
    assert err["message"] == "speed: must be a number such as 1.0"


def test_a_lone_surrogate_is_named_as_the_websocket_names_it(sine_url: str) -> None:
    body = b'{"input": "ab\\ud800", "voice": "zh_test"}'
    err = _error(httpx.post(f"{sine_url}/v1/audio/speech", content=body))
    assert err["param"] == "input"
    assert err["message"] == "input: must be valid Unicode (a lone surrogate at character 2)"


def test_refusals_before_the_app_use_the_same_json_as_the_app(sine_url: str) -> None:
    """The access middleware's bodies are serialized as every other error body."""
    refused = httpx.post(
        f"{sine_url}/v1/audio/speech", json={"input": "hi"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert refused.status_code == 403
    assert b'{"error":{"message":' in refused.content
    assert "(none)" not in refused.json()["error"]["message"]
    app_error = httpx.post(f"{sine_url}/v1/audio/speech", json={})
    assert app_error.content.startswith(b'{"error":{"message":')
