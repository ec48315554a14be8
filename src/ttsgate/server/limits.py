"""Request-body limit: a pure ASGI middleware that refuses an oversized body with 413 before reading it.

- A ``Content-Length`` over the limit: 413 on the route's first ``receive``, before a byte of the
  body is read; the 413 says ``Connection: close`` and the server closes the connection after it
  (server/serving.py closes any connection answered before its body was read): the rest is never read.
- A chunked body (no ``Content-Length``), or one that lies about its length: counted as it arrives,
  refused as soon as it passes the limit; what was read is at most the limit plus one chunk.

The limit is per path (``limit_for``): ``/v1/chat/speech`` carries a conversation and has its own.
The refusal is raised from ``receive`` as ``ErrorAsHTTP(PayloadTooLargeError)``: FastAPI reads the
body inside its request handler, where it lets only ``HTTPException`` through unchanged, and the
app's one error table (server/errors.py) answers it (413, ``code: body_too_large``, ``param: body``).
The refusal therefore also goes through the access log and the request metrics with its route.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ttsgate.exceptions import PayloadTooLargeError
from ttsgate.server.errors import ErrorAsHTTP


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(str(scope.get("path", "")))
        declared = _content_length(scope)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared is not None and declared > limit:
                raise ErrorAsHTTP(PayloadTooLargeError.over(limit))
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise ErrorAsHTTP(PayloadTooLargeError.over(limit))
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length before the app sees it
    return None
