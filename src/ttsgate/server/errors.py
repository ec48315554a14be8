"""The one place where exceptions become HTTP statuses and OpenAI-shaped error bodies.

Body: ``{"error": {"message", "type", "param", "code"}}`` (OpenAI's shape, which its SDK parses).
Only ``TTSGateError`` subclasses and request-validation errors map to 4xx; anything else is a bug
and answers 500 with a generic message (the traceback goes to the log, not to the client).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ttsgate.exceptions import (
    AuthenticationError,
    EngineError,
    ForbiddenOriginError,
    InvalidRequestError,
    NotFoundError,
    NotReadyError,
    OverloadedError,
    PayloadTooLargeError,
    RateLimitError,
    RequestTimeoutError,
    TTSGateError,
    UpstreamError,
    UpstreamUnavailableError,
)
from ttsgate.server.validation import client_error

log = logging.getLogger("ttsgate.server")

# Most specific first: the first class an exception is an instance of decides its status.
STATUS_TABLE: tuple[tuple[type[TTSGateError], int], ...] = (
    (PayloadTooLargeError, 413),
    (AuthenticationError, 401),
    (ForbiddenOriginError, 403),
    (RateLimitError, 429),
    (InvalidRequestError, 400),
    (NotFoundError, 404),
    (OverloadedError, 503),
    (NotReadyError, 503),
    (UpstreamUnavailableError, 503),
    (UpstreamError, 502),
    (RequestTimeoutError, 504),
    (EngineError, 500),
    (TTSGateError, 500),
)


class ErrorAsHTTP(StarletteHTTPException):
    """A ``TTSGateError`` carried as an HTTPException, for code that runs where FastAPI turns any
    other exception into a bare 400 (an ASGI ``receive`` while it reads the body, server/limits.py).
    The handler answers with the carried error's own status and body."""

    def __init__(self, error: TTSGateError) -> None:
        super().__init__(status_for(error), error.message)
        self.error = error


def status_for(exc: TTSGateError) -> int:
    for cls, status in STATUS_TABLE:
        if isinstance(exc, cls):
            return status
    return 500


def error_body(exc: TTSGateError) -> dict[str, Any]:
    return {"error": {"message": exc.message, "type": exc.error_type, "param": exc.param, "code": exc.code}}


def error_headers(exc: TTSGateError) -> dict[str, str]:
    if isinstance(exc, PayloadTooLargeError):  # the rest of the body is never read (server/serving.py)
        return {"Connection": "close"}
    if isinstance(exc, AuthenticationError):
        return {"WWW-Authenticate": 'Bearer realm="ttsgate"'}
    if isinstance(exc, OverloadedError | RateLimitError):
        return {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    if isinstance(exc, NotReadyError):
        return {"Retry-After": "5"}
    if isinstance(exc, UpstreamUnavailableError):
        return {"Retry-After": "2"}
    return {}


def error_response(exc: TTSGateError) -> JSONResponse:
    return JSONResponse(error_body(exc), status_code=status_for(exc), headers=error_headers(exc))


def validation_to_error(exc: RequestValidationError) -> InvalidRequestError:
    """A failed validation as one 400 naming the field as the client wrote it (server/validation.py)."""
    return client_error(exc.errors(), exc.body)


def http_error_response(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Starlette's own refusals in the error shape, their headers kept (405 carries ``Allow``)."""
    headers = dict(exc.headers or {})
    method, path = request.method, request.url.path[:200]
    err: TTSGateError
    if exc.status_code == 404 and exc.detail == "Not Found" and _is_websocket_path(request):
        headers["Allow"] = "GET"
        return JSONResponse(
            error_body(
                InvalidRequestError(
                    f"{path} is a WebSocket endpoint: connect with a WebSocket (GET with Upgrade: websocket)",
                    code="method_not_allowed",
                )
            ),
            status_code=405,
            headers=headers,
        )
    if exc.status_code == 404:
        detail = f"no route {method} {path}" if exc.detail == "Not Found" else str(exc.detail)
        err = NotFoundError(detail, code="not_found")
    elif exc.status_code == 405:
        allowed = headers.get("Allow") or headers.get("allow") or ""
        err = InvalidRequestError(
            f"method {method} is not allowed on {path}; allowed: {allowed}", code="method_not_allowed"
        )
    elif exc.status_code == 400 and exc.detail == _FASTAPI_PARSE_ERROR:
        err = unparsable_body(exc.__cause__)
    else:
        err = InvalidRequestError(str(exc.detail))
    return JSONResponse(error_body(err), status_code=exc.status_code, headers=headers)


def _is_websocket_path(request: Request) -> bool:
    """The path is a WebSocket route's (an HTTP request there finds no HTTP route)."""
    scope = {"type": "websocket", "path": request.url.path, "root_path": request.scope.get("root_path", "")}
    return any(route.matches(dict(scope))[0] == Match.FULL for route in request.app.router.routes)


_FASTAPI_PARSE_ERROR = "There was an error parsing the body"


def unparsable_body(cause: BaseException | None) -> InvalidRequestError:
    """A body the JSON parser gave up on other than by a syntax error (FastAPI answers those with a
    generic 400 whose cause is the parser's exception): the same ``invalid_json`` as a syntax error,
    with the reason."""
    if isinstance(cause, RecursionError):
        reason = "it is nested too deeply"
    elif isinstance(cause, UnicodeDecodeError):
        reason = "it is not UTF-8 text"
    elif isinstance(cause, ValueError) and "digits" in str(cause):
        reason = "a number in it has too many digits"
    else:
        reason = "it is not valid JSON"
    return InvalidRequestError(
        f"the request body must be a JSON object; {reason}", param="body", code="invalid_json"
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TTSGateError)
    async def _ttsgate(_: Request, exc: TTSGateError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(validation_to_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc, ErrorAsHTTP):  # raised where FastAPI lets only HTTPException through
            return error_response(exc.error)
        return http_error_response(request, exc)

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        from ttsgate.server.streaming import StreamAborted  # streaming imports this module

        if not isinstance(exc, StreamAborted):  # a designed abort was logged where it was decided
            log.exception("unhandled error", exc_info=exc)
        return error_response(TTSGateError("internal server error"))
