"""Request bodies are JSON whatever their ``Content-Type`` says, as OpenAI's API reads them.

``curl -d '{"input": "hi"}'`` sends ``application/x-www-form-urlencoded``; FastAPI would then not
parse the body and answer "Input should be a valid dictionary". This pure ASGI middleware marks a
body-carrying request's content as ``application/json`` before routing, so the body is parsed as
JSON; a body that is not JSON then gets a 400 saying it must be a JSON object
(``code: invalid_json``, server/validation.py).

One exception: a request from a web page (it carries ``Origin``) must say ``application/json``
itself. A browser sends a cross-site form or a ``text/plain`` fetch without asking the server
first (no CORS preflight), so reading those as JSON would let any page a user visits start
synthesis (or an LLM reply) on a server on their machine. Such a request gets a 400 naming the
``Content-Type`` header. Browsers always send ``Origin`` with a POST; curl and the SDKs do not.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from ttsgate.exceptions import InvalidRequestError
from ttsgate.server.errors import error_response

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def is_json(content_type: bytes) -> bool:
    """``application/json``, ``application/*+json``, with or without parameters."""
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


class JSONBodyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers") or [])
        content_type = next((v for k, v in headers if k == b"content-type"), b"")
        if is_json(content_type):
            await self.app(scope, receive, send)
            return
        if any(k == b"origin" for k, _ in headers):
            shown = content_type.decode("latin-1")[:100] or "none"
            refusal = InvalidRequestError(
                f"a request from a web page must send Content-Type: application/json (got {shown})",
                param="Content-Type",
                code="unsupported_content_type",
            )
            await error_response(refusal)(scope, receive, send)
            return
        headers = [(k, v) for k, v in headers if k != b"content-type"]
        headers.append((b"content-type", b"application/json"))
        # The scope itself, not a copy: what the router records in it (the matched route) must
        # reach the middleware outside (metrics and the access log label requests by route).
        scope["headers"] = headers
        await self.app(scope, receive, send)
