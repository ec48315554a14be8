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
     ("PUT", "/v1/chat/speech", "POST"), ("POST", "/v1/models", "GET"), ("GET", "/api/chatts", "POST")],
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
