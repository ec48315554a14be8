"""The OpenAPI document as the server really answers: statuses, error bodies and media types.

Routes declare what they answer with ``responses=`` built here: ``errors(400, 503, …)`` (OpenAI's
error shape, ``Retry-After`` on 503), ``audio()`` (the six audio media types, and SSE where the
route streams events), ``redirect()`` (a whole-request cache hit with ``TTSGATE_CACHE_REDIRECT``).
``install_openapi`` then removes FastAPI's 422 (validation errors are 400s, server/errors.py) and
adds the 500 any route answers for a bug.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from ttsgate.audio.encode import AUDIO_FORMATS
from ttsgate.server.access import OPEN_PATHS, OPEN_PREFIXES, Access


class ErrorDetail(BaseModel):
    message: str = Field(description="What is wrong, naming the field and the limit.")
    type: str = Field(
        description="invalid_request_error (400, 413), not_found_error (404), server_overloaded, "
        "not_ready, upstream_unavailable (503), upstream_error (502), timeout (504), engine_error, "
        "server_error (500)."
    )
    param: str | None = Field(
        description="The field as the client wrote it (voice, messages[0].content, "
        "voice_settings.speed), 'body' for the body as a whole, or null."
    )
    code: str | None = Field(description="A stable code (input_too_long, voice_not_found, queue_full …).")


class ErrorResponse(BaseModel):
    """Every error answer: OpenAI's shape, which its SDKs parse."""

    error: ErrorDetail


_ERROR_TEXT = {
    400: "Invalid request: the body, a field or a query parameter (param names it), or a Host this "
    "server does not answer to (host_not_allowed).",
    404: "Not found.",
    413: "Request body over the byte limit.",
    500: "Internal error: a synthesis failed (engine_error) or a bug (server_error).",
    502: "The LLM answered with an error, or with nothing speakable.",
    503: "Refused before any work: queue full or real-time admission (server_overloaded), engines not "
    "ready (not_ready), LLM unreachable (upstream_unavailable). Retry after Retry-After seconds.",
    504: "Synthesis did not finish within TTSGATE_REQUEST_TIMEOUT_S.",
}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
}
BINARY: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}
TEXT: dict[str, Any] = {"schema": {"type": "string"}}
_JSON = "application/json"
_REF = "#/components/schemas/"
_ERROR_REF = {"schema": {"$ref": _REF + "ErrorResponse"}}

_HOST_TEXT = "The Host header does not name this server (code host_not_allowed, TTSGATE_ALLOWED_HOSTS)."
_CROSS_SITE_TEXT = (
    "A cross-site request from a web page whose origin is not in TTSGATE_ALLOWED_ORIGINS "
    "(code origin_not_allowed)."
)
_431_TEXT = "Request line and headers over TTSGATE_MAX_HEADER_BYTES; the connection is closed."
# Answered when API keys are on (TTSGATE_API_KEYS[_FILE]) by every route that needs one.
_ACCESS_ERRORS = {
    401: "Missing or unknown API key (code invalid_api_key); only when API keys are configured.",
    429: "The API key's requests or input characters per minute are used up (code rate_limit_exceeded).",
}
DRAIN_EXEMPT = frozenset({"/health", "/metrics"})  # answered while draining (server/drain.py)

# What each kind of route can answer besides 200.
BODY_ERRORS = (400, 413)
SPEECH_ERRORS = (*BODY_ERRORS, 500, 503, 504)
QUERY_SPEECH_ERRORS = (400, 500, 503, 504)
CHAT_ERRORS = (*BODY_ERRORS, 500, 502, 503, 504)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for error statuses: the error schema, Retry-After on 503."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ErrorResponse, "description": _ERROR_TEXT[status]}
        if status == 503:
            entry["headers"] = _RETRY_AFTER
        out[status] = entry
    return out


# One SSE event (OpenAPI 3.2's itemSchema, as FastAPI writes it): ``data`` is a JSON object whose
# ``type`` says what it carries (server/streaming.py; ``error`` ends a stream that failed mid-way).
SSE_EVENT_TYPES = (
    "speech.segment", "speech.audio.delta", "speech.audio.done", "chat.text.delta", "chat.text.done", "error",
)  # fmt: skip
SSE: dict[str, Any] = {
    "itemSchema": {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {"type": {"type": "string", "enum": list(SSE_EVENT_TYPES)}},
                },
            },
            "event": {"type": "string"},
            "id": {"type": "string"},
            "retry": {"type": "integer", "minimum": 0},
        },
    }
}


def audio(description: str, *, sse: bool = False) -> dict[int | str, dict[str, Any]]:
    """A 200 whose body is audio in the requested format (and SSE events where ``sse``)."""
    content = {media: BINARY for media in AUDIO_FORMATS.values()}
    if sse:
        content["text/event-stream"] = SSE
    return {200: {"description": description, "content": content}}


def redirect() -> dict[int | str, dict[str, Any]]:
    """A whole-request cache hit answered by a 302 (``TTSGATE_CACHE_REDIRECT``)."""
    location = {"description": "/v1/audio/{key}.{format}", "schema": {"type": "string"}}
    return {302: {"description": "Cached: fetch the audio at Location.", "headers": {"Location": location}}}


def _tidy(schema: dict[str, Any]) -> dict[str, Any]:
    """No 422 (validation errors are 400s); every operation may answer 500 for a bug, 431 (plain text)
    for a request line and headers over TTSGATE_MAX_HEADER_BYTES (a long query: ``GET /tts``'s
    lexicon), 400 for a Host that is not this server's, 403 for a cross-site request where it spends
    work (server/access.py), and all but ``/health`` 503 while the server drains (server/drain.py).
    (405 with ``Allow`` answers a method a path does not document; it has no operation to be on.)"""
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            if "500" not in responses:
                responses["500"] = {"description": "Internal error (a bug).", "content": {_JSON: _ERROR_REF}}
            # answered by the HTTP server before routing (server/serving.py), whatever the route
            responses.setdefault("431", {"description": _431_TEXT, "content": {"text/plain": TEXT}})
            # the Host check (DNS rebinding) and the cross-site check (server/access.py, browser.py)
            responses.setdefault("400", {"description": _HOST_TEXT, "content": {_JSON: _ERROR_REF}})
            if Access.spends(path):
                responses.setdefault("403", {"description": _CROSS_SITE_TEXT, "content": {_JSON: _ERROR_REF}})
            if path not in OPEN_PATHS and not path.startswith(OPEN_PREFIXES):  # server/access.py
                for status, text in _ACCESS_ERRORS.items():
                    responses.setdefault(str(status), {"description": text, "content": {_JSON: _ERROR_REF}})
                responses["429"].setdefault("headers", _RETRY_AFTER)
            if "503" not in responses and path not in DRAIN_EXEMPT:
                responses["503"] = {
                    "description": "Draining for a restart (code draining): retry on another replica.",
                    "headers": _RETRY_AFTER,
                    "content": {_JSON: _ERROR_REF},
                }
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    if "ErrorResponse" not in components:
        error_schema = ErrorResponse.model_json_schema(ref_template=_REF + "{model}")
        components.update(error_schema.pop("$defs", {}))
        components["ErrorResponse"] = error_schema
    return schema


def install_openapi(app: FastAPI) -> None:
    """``app.openapi()`` (and ``/openapi.json``) returns the document built and tidied once."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            raw = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = _tidy(raw)
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
