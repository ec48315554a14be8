"""Who may use the server: API keys, per-key request limits, and the WebSocket ``Origin`` check.

Pure ASGI middleware in front of every route:

- **API keys** (``server/keys.py``; off when none is configured): ``Authorization: Bearer KEY`` as the
  OpenAI SDKs and Open WebUI send it; a WebSocket may also give ``?api_key=KEY`` or ``"api_key"`` in
  its start message (checked by the route through ``ws_key_pending``). Missing or wrong: 401
  ``invalid_api_key`` in OpenAI's shape with ``WWW-Authenticate: Bearer``. Open without a key:
  ``/health``, ``/ready``, ``/metrics`` (unless ``TTSGATE_METRICS_REQUIRE_KEY``), the playground page
  and the API documentation, which hold no data and spend no synthesis.
- **Requests per minute** per key (``server/ratelimit.py``): 429 ``rate_limit_exceeded`` +
  ``Retry-After``. Input characters per minute are charged by the routes once the input is known
  (``charge_characters``).
- **Origin**: a WebSocket opened by a web page (``Origin`` header) must come from the server's own
  origin or one in ``TTSGATE_WS_ALLOWED_ORIGINS`` (``*``: any), so a page on another site cannot speak
  through a local instance behind the user's back; clients that send no ``Origin`` (SDKs, curl) pass.
  Refused before the handshake completes (HTTP 403).

The key's name is kept in the scope's state (``request.state.api_key``) for limits, logs and the
per-key metrics ``ttsgate_key_requests_total`` / ``ttsgate_key_input_characters_total``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from ttsgate.config import Settings
from ttsgate.exceptions import AuthenticationError, ForbiddenOriginError, TTSGateError
from ttsgate.metrics import Metrics
from ttsgate.server.errors import error_body, error_headers, status_for
from ttsgate.server.keys import KeyInfo, KeyStore
from ttsgate.server.ratelimit import RateLimiter

OPEN_PATHS = frozenset({"/health", "/ready", "/", "/docs", "/redoc", "/openapi.json"})
OPEN_PREFIXES = ("/playground",)
KEY_PENDING = "ws_key_pending"


class Access:
    """The key store, limiter and origin policy the middleware and the routes share."""

    def __init__(
        self,
        keys: KeyStore,
        limiter: RateLimiter,
        *,
        allowed_origins: str = "",
        metrics_require_key: bool = False,
        metrics: Metrics | None = None,
    ) -> None:
        self.keys = keys
        self.limiter = limiter
        self.origins = {o.strip().rstrip("/").lower() for o in allowed_origins.split(",") if o.strip()}
        self.metrics_require_key = metrics_require_key
        self.metrics = metrics

    def needs_key(self, path: str) -> bool:
        if not self.keys.enabled or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return False
        return path != "/metrics" or self.metrics_require_key

    def origin_allowed(self, conn: HTTPConnection) -> bool:
        """No Origin (not a browser), the server's own origin, or one the setting allows."""
        origin = conn.headers.get("origin")
        if origin is None or "*" in self.origins:
            return True
        if origin.rstrip("/").lower() in self.origins:
            return True
        host = conn.headers.get("host", "")
        return bool(host) and urlsplit(origin).netloc.lower() == host.lower()

    async def admit_key(self, key: KeyInfo) -> None:
        """Count one request for ``key``; ``RateLimitError`` when over its requests per minute."""
        await self.limiter.charge(key.name, "requests", 1, key.rpm)
        if self.metrics is not None:
            self.metrics.key_requests.labels(key.name).inc()

    def check_key(self, presented: str | None) -> KeyInfo:
        """The key's info; ``AuthenticationError`` when missing or unknown."""
        if not presented:
            raise AuthenticationError(
                "an API key is required: send 'Authorization: Bearer KEY'", param="Authorization"
            )
        info = self.keys.lookup(presented)
        if info is None:
            raise AuthenticationError("the API key is not valid", param="Authorization")
        return info


def build_access(settings: Settings, metrics: Metrics) -> Access:
    """The access policy of ``settings``; ``KeyFileError`` for a malformed key setting or file.
    Rate limits count in Redis when the cache is Redis (shared by replicas), else in process."""
    keys = KeyStore.from_settings(
        settings.api_keys, settings.api_keys_file, settings.rate_limit_rpm, settings.rate_limit_cpm
    )
    redis_url = settings.cache if settings.cache.startswith(("redis://", "rediss://", "unix://")) else None
    metrics.init_keys(keys.names())
    return Access(
        keys,
        RateLimiter(redis_url if keys.enabled else None),
        allowed_origins=settings.ws_allowed_origins,
        metrics_require_key=settings.metrics_require_key,
        metrics=metrics,
    )


async def charge_characters(conn: HTTPConnection, count: int, *, refuse: bool = True) -> None:
    """Charge ``count`` input characters to the connection's key (no-op without keys); 429 when
    over its characters per minute and ``refuse`` (else counted anyway: work already done)."""
    access: Access | None = getattr(conn.app.state, "access", None)
    key: KeyInfo | None = conn.scope.get("state", {}).get("api_key")
    if access is None or key is None:
        return
    await access.limiter.charge(key.name, "characters", count, key.cpm, refuse=refuse)
    if access.metrics is not None:
        access.metrics.key_characters.labels(key.name).inc(count)


class AccessMiddleware:
    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        try:
            if scope["type"] == "websocket" and not self.access.origin_allowed(conn):
                raise ForbiddenOriginError(
                    f"WebSocket from origin {conn.headers.get('origin', '')[:200]!r} is not allowed "
                    "(TTSGATE_WS_ALLOWED_ORIGINS)"
                )
            if self.access.needs_key(scope["path"]):
                presented = _bearer(conn)
                if presented is None and scope["type"] == "websocket":
                    query = parse_qs(scope.get("query_string", b"").decode())
                    presented = (query.get("api_key") or [None])[0]
                    if presented is None:  # the route reads it from the start message
                        scope.setdefault("state", {})[KEY_PENDING] = self.access
                        await self.app(scope, receive, send)
                        return
                key = self.access.check_key(presented)
                await self.access.admit_key(key)
                scope.setdefault("state", {})["api_key"] = key
        except TTSGateError as exc:
            await _refuse(scope, receive, send, exc)
            return
        await self.app(scope, receive, send)


def _bearer(conn: HTTPConnection) -> str | None:
    scheme, _, token = conn.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def _refuse(scope: Scope, receive: Receive, send: Send, exc: TTSGateError) -> None:
    if scope["type"] == "websocket":  # before accept: the handshake answers 403
        await receive()
        await send({"type": "websocket.close", "code": 1008, "reason": exc.message[:120]})
        return
    body = json.dumps(error_body(exc)).encode()
    headers: list[tuple[bytes, bytes]] = [(b"content-type", b"application/json")]
    headers += [(k.lower().encode(), v.encode()) for k, v in error_headers(exc).items()]
    await send({"type": "http.response.start", "status": status_for(exc), "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def ws_start_key(scope: Scope, start: dict[str, Any]) -> None:
    """For a WebSocket that gave no key in its headers or URL: the start message's ``api_key``.
    Raises ``AuthenticationError`` / ``RateLimitError``; sets the scope's key on success."""
    state = scope.get("state", {})
    access: Access | None = state.pop(KEY_PENDING, None)
    if access is None:
        return
    presented = start.get("api_key")
    key = access.check_key(presented if isinstance(presented, str) else None)
    await access.admit_key(key)
    state["api_key"] = key
