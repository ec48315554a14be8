"""/openapi.json says what the server answers: 400s in OpenAI's error shape (no 422), every error
status with that schema, Retry-After on 503, the real media types of audio, SSE and subtitles."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

AUDIO = {"audio/mpeg", "audio/ogg", "audio/aac", "audio/flac", "audio/wav", "audio/pcm"}
ERROR_REF = "#/components/schemas/ErrorResponse"


@pytest.fixture(scope="module")
def doc(sine_url: str) -> dict[str, Any]:
    r = httpx.get(f"{sine_url}/openapi.json")
    assert r.status_code == 200
    data: dict[str, Any] = r.json()
    return data


def _operations(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{m.upper()} {p}", op) for p, item in doc["paths"].items() for m, op in item.items()]


def test_no_422_and_no_validation_error_schema(doc: dict[str, Any]) -> None:
    for label, op in _operations(doc):
        assert "422" not in op["responses"], label
    assert not {"HTTPValidationError", "ValidationError"} & set(doc["components"]["schemas"])


def test_every_error_status_has_the_error_schema(doc: dict[str, Any]) -> None:
    checked = 0
    for label, op in _operations(doc):
        assert "500" in op["responses"], label
        for status, response in op["responses"].items():
            if int(status) < 400 or status == "431" or (label == "GET /ready" and status == "503"):
                continue
            error_content = {"application/json": {"schema": {"$ref": ERROR_REF}}}
            assert response["content"] == error_content, (label, status)
            checked += 1
    assert checked > 30
    detail = doc["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == {"message", "type", "param", "code"}


@pytest.mark.parametrize(
    ("label", "statuses"),
    [("POST /v1/audio/speech", {"200", "302", "400", "413", "500", "503", "504"}),
     ("POST /v1/chat/speech", {"200", "400", "413", "500", "502", "503", "504"}),
     ("POST /v1/audio/subtitles", {"200", "400", "413", "500", "503", "504"}),
     ("GET /tts", {"200", "302", "400", "500", "503", "504"}),
     ("POST /api/chatts", {"200", "302", "400", "413", "500", "503", "504"}),
     ("POST /v1/text/normalize", {"200", "400", "413", "500", "503"}),
     ("GET /v1/audio/{key}.{fmt}", {"200", "304", "400", "404", "500", "503"}),
     ("GET /v1/audio/voices", {"200", "500", "503"}),
     ("GET /ready", {"200", "503", "500"}),
     ("GET /health", {"200", "500"})],
)  # fmt: skip
def test_statuses_per_route(doc: dict[str, Any], label: str, statuses: set[str]) -> None:
    # 401 and 429 (API keys and their limits, server/access.py) and 403 (a cross-site request) on
    # every route that needs a key; 400 (the Host check) and 431 (headers too long) on every route
    keyed = set() if label in ("GET /ready", "GET /health") else {"401", "403", "429"}
    assert set(dict(_operations(doc))[label]["responses"]) == {*statuses, *keyed, "400", "431"}


def test_503_documents_retry_after(doc: dict[str, Any]) -> None:
    for label, op in _operations(doc):
        if label not in ("GET /ready", "GET /health"):  # every route may 503 while draining
            assert "Retry-After" in op["responses"]["503"]["headers"], label


def test_ready_503_is_not_ready_or_draining(doc: dict[str, Any]) -> None:
    schema = doc["paths"]["/ready"]["get"]["responses"]["503"]["content"]["application/json"]["schema"]
    refs = {alt["$ref"].rsplit("/", 1)[1] for alt in schema["anyOf"]}
    assert refs == {"Readiness", "Draining"}


@pytest.mark.parametrize(
    ("label", "media"),
    [("POST /v1/audio/speech", {*AUDIO, "text/event-stream"}),
     ("POST /v1/chat/speech", {*AUDIO, "text/event-stream"}),
     ("GET /tts", AUDIO), ("POST /api/chatts", AUDIO), ("GET /v1/audio/{key}.{fmt}", AUDIO),
     ("POST /v1/audio/subtitles", {"text/vtt", "application/x-subrip", "application/json"}),
     ("GET /v1/audio/voices", {"application/json"})],
)  # fmt: skip
def test_200_media_types_are_the_real_ones(doc: dict[str, Any], label: str, media: set[str]) -> None:
    assert set(dict(_operations(doc))[label]["responses"]["200"]["content"]) == media


def test_sse_events_are_described(doc: dict[str, Any]) -> None:
    sse = doc["paths"]["/v1/audio/speech"]["post"]["responses"]["200"]["content"]["text/event-stream"]
    data = sse["itemSchema"]["properties"]["data"]
    assert data["contentMediaType"] == "application/json"
    assert "speech.audio.delta" in data["contentSchema"]["properties"]["type"]["enum"]


def test_request_bodies_document_strict_types(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert schemas["ChattsBody"]["properties"]["stream"]["type"] == "boolean"
    speed = schemas["SpeechBody"]["properties"]["speed"]
    assert (speed["type"], speed["minimum"], speed["maximum"]) == ("number", 0.25, 4.0)
    voice = schemas["SpeechBody"]["properties"]["voice"]["anyOf"]
    assert {"type": "string"} in voice
    assert {"$ref": "#/components/schemas/VoiceRef"} in voice


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [("POST", "/v1/audio/speech", {"json": {"input": "hi", "voice": 1}}),
     ("GET", "/tts", {"params": {"text": " "}}),
     ("POST", "/v1/audio/speech", {"json": {"input": "hi", "voice": "zh_test", "stream_format": "sse"}}),
     ("POST", "/v1/audio/subtitles", {"json": {"input": "你好", "subtitle_format": "srt"}})],
)  # fmt: skip
def test_answers_have_a_documented_status_and_media_type(
    sine_url: str, doc: dict[str, Any], method: str, path: str, kwargs: dict[str, Any]
) -> None:
    r = httpx.request(method, f"{sine_url}{path}", **kwargs)
    documented = dict(_operations(doc))[f"{method} {path}"]["responses"]
    assert str(r.status_code) in documented
    media = r.headers["content-type"].split(";")[0]
    assert media in documented[str(r.status_code)]["content"]


def test_lexicon_limits_are_in_the_document(doc: dict[str, Any]) -> None:
    """The limits the server checks (text/lexicon.py), where a generator can read them."""
    lexicon = doc["components"]["schemas"]["SpeechBody"]["properties"]["lexicon"]
    assert lexicon["maxProperties"] == 200
    assert lexicon["propertyNames"] == {"minLength": 1, "maxLength": 64}
    assert lexicon["additionalProperties"] == {"type": "string", "minLength": 1, "maxLength": 256}
    query = next(p for p in doc["paths"]["/tts"]["get"]["parameters"] if p["name"] == "lexicon")
    assert query["schema"]["contentMediaType"] == "application/json"
    assert query["schema"]["contentSchema"]["maxProperties"] == 200
