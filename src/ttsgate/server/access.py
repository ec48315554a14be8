"""Who may use the server: API keys, per-key request limits, and the WebSocket ``Origin`` check.

Pure ASGI middleware in front of every route:

- **API keys** (``server/keys.py``; off when none is configured): ``Authorization: Bearer KEY`` as the
  OpenAI SDKs and Open WebUI send it; a WebSocket may also give ``?api_key=KEY`` or ``"api_key"`` in
  its start message (checked by the route through ``ws_key_pending``). Missing or wrong: 401
  ``invalid_api_key`` in OpenAI's shape with ``WWW-Authenticate: Bearer``. Open without a key:
  ``/health``, ``/ready``, ``/metrics`` (unless ``TTSGATE_METRICS_REQUIRE_KEY``), the playground page
  and the API documentation, which hold no data and spend no synthesis.
- **Requests per minute** per key (not the ``GET /v1/audio/{key}.{fmt}`` that a cache redirect sends
  the client to: that request was counted) (``server/ratelimit.py``): 429 ``rate_limit_exceeded`` +
  ``Retry-After``. Input characters per minute are charged by the routes once the input is known
  (``charge_characters``).
- **Browsers** (``server/browser.py``): the ``Host`` must name this server (DNS rebinding); a WebSocket
  from another site's page, or a cross-site request (``Sec-Fetch-Site``), is refused (403) unless its
  origin is in ``TTSGATE_ALLOWED_ORIGINS``. Clients that are not browsers (SDKs, curl) pass.
- **Refunds**: what a request was charged is given back when it is refused without doing work (a
  400, a 503 that nginx retries on another replica), so a limit counts work, not attempts.

The key's name is kept in the scope's state (``request.state.api_key``) for limits, logs and the
per-key metrics ``ttsgate_key_requests_total`` / ``ttsgate_key_input_characters_total``.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ttsgate.config import Settings
from ttsgate.exceptions import (
    AuthenticationError,
    ForbiddenOriginError,
    InvalidRequestError,
    RateLimitError,
    TTSGateError,
)
from ttsgate.metrics import Metrics
from ttsgate.server.browser import BrowserPolicy
from ttsgate.server.errors import error_body, error_response
from ttsgate.server.keys import KeyFileError, KeyInfo, KeyStore
from ttsgate.server.ratelimit import RateLimiter

OPEN_PATHS = frozenset({"/health", "/ready", "/", "/docs", "/redoc", "/openapi.json"})
OPEN_PREFIXES = ("/playground",)
KEY_PENDING = "ws_key_pending"
log = logging.getLogger("ttsgate.server")


class Access:
    """The key store, limiter and browser policy the middleware and the routes share."""

    def __init__(
        self,
        keys: KeyStore,
        limiter: RateLimiter,
        browser: BrowserPolicy,
        *,
        metrics_require_key: bool = False,
        metrics: Metrics | None = None,
    ) -> None:
        self.keys = keys
        self.limiter = limiter
        self.browser = browser
        self.metrics_require_key = metrics_require_key
        self.metrics = metrics

    def needs_key(self, path: str) -> bool:
        if not self.keys.enabled or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return False
        return path != "/metrics" or self.metrics_require_key

    @staticmethod
    def spends(path: str) -> bool:
        """A route that does work for the caller (synthesis, the LLM, data): not the open pages."""
        return path not in OPEN_PATHS and not path.startswith(OPEN_PREFIXES) and path != "/metrics"

    async def admit_key(self, key: KeyInfo, scope: Scope) -> None:
        """Count one request for ``key`` (``RateLimitError`` when over its requests per minute)."""
        if not _is_redirect_target(scope):
            await self.limiter.charge(key.name, "requests", 1, key.rpm)
            _charged(scope).append(("requests", 1))
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

    async def refund(self, scope: Scope, status: int) -> None:
        """Give back what a request that did no work was charged (400s, 503s)."""
        key: KeyInfo | None = scope.get("state", {}).get("api_key")
        if key is None or not ((400 <= status < 500 and status not in (401, 429)) or status == 503):
            return
        for kind, amount in _charged(scope):
            if kind == "characters" or status == 503:
                await self.limiter.refund(key.name, kind, amount)


def build_access(settings: Settings, metrics: Metrics) -> Access:
    """The access policy of ``settings``; ``KeyFileError`` for a malformed key setting or file, or
    one that names no key at all (an empty file must not leave the server open by surprise).
    Rate limits count in Redis when the cache is Redis (shared by replicas), else in process."""
    keys = KeyStore.from_settings(
        settings.api_keys, settings.api_keys_file, settings.rate_limit_rpm, settings.rate_limit_cpm
    )
    if (settings.api_keys.strip() or settings.api_keys_file is not None) and not keys.enabled:
        raise KeyFileError(
            "TTSGATE_API_KEYS / TTSGATE_API_KEYS_FILE name no key: refusing to start unprotected"
        )
    if keys.enabled:
        log.info("API keys on: %d key(s) (%s)", len(keys.names()), ", ".join(keys.names()))
    else:
        log.info("API keys off: every client may use this server (TTSGATE_API_KEYS to turn them on)")
    redis_url = settings.cache if settings.cache.startswith(("redis://", "rediss://", "unix://")) else None
    metrics.init_keys(keys.names())
    return Access(
        keys,
        RateLimiter(redis_url if keys.enabled else None),
        BrowserPolicy(settings),
        metrics_require_key=settings.metrics_require_key,
        metrics=metrics,
    )


async def charge_characters(conn: HTTPConnection, count: int, *, refuse: bool = True) -> None:
    """Charge ``count`` input characters to the connection's key (no-op without keys); 429 when
    over its characters per minute and ``refuse`` (else counted anyway: work already done).
    Given back if the request then fails without doing work (``Access.refund``)."""
    access: Access | None = getattr(conn.app.state, "access", None)
    key: KeyInfo | None = conn.scope.get("state", {}).get("api_key")
    if access is None or key is None:
        return
    await access.limiter.charge(key.name, "characters", count, key.cpm, refuse=refuse)
    _charged(conn.scope).append(("characters", count))
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
        browser = self.access.browser
        try:
            if not browser.host_allowed(conn):
                raise InvalidRequestError(
                    "this server does not answer to the Host given (TTSGATE_ALLOWED_HOSTS)",
                    param="Host",
                    code="host_not_allowed",
                )
            origin_refused = scope["type"] == "websocket" and not browser.origin_allowed(conn)
            if origin_refused or (self.access.spends(scope["path"]) and browser.cross_site_refused(conn)):
                origin = conn.headers.get("origin")
                shown = f"the web origin {origin[:200]!r}" if origin else "another site (Sec-Fetch-Site)"
                raise ForbiddenOriginError(f"requests from {shown} are not allowed (TTSGATE_ALLOWED_ORIGINS)")
        except TTSGateError as exc:
            await _refuse(scope, receive, send, exc, handshake=True)
            return
        try:
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
                scope.setdefault("state", {})["api_key"] = key
                await self.access.admit_key(key, scope)
        except TTSGateError as exc:
            await _refuse(scope, receive, send, exc, handshake=False)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            await self.access.refund(scope, status)


def _charged(scope: Scope) -> list[tuple[str, int]]:
    charged: list[tuple[str, int]] = scope.setdefault("state", {}).setdefault("charged", [])
    return charged


def _is_redirect_target(scope: Scope) -> bool:
    """``GET /v1/audio/{key}.{fmt}``: the audio a cache redirect points at, already counted."""
    path = scope["path"]
    return scope.get("method") == "GET" and path.startswith("/v1/audio/") and "." in path.rsplit("/", 1)[-1]


def _bearer(conn: HTTPConnection) -> str | None:
    scheme, _, token = conn.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def _refuse(scope: Scope, receive: Receive, send: Send, exc: TTSGateError, *, handshake: bool) -> None:
    """An HTTP error response; for a WebSocket, a refused handshake (403: another site's page, which
    could not read more anyway) or an ``error`` event and a close code (key or limit problems,
    as the start message's own key would get: 1008 or 1013)."""
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        if handshake:
            await send({"type": "websocket.close", "code": 1008, "reason": exc.message[:120]})
            return
        code = 1013 if isinstance(exc, RateLimitError) else 1008
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": json.dumps({"type": "error", **error_body(exc)})})
        await send({"type": "websocket.close", "code": code, "reason": exc.message[:120]})
        return
    await error_response(exc)(scope, receive, send)  # the app's one serializer for error bodies


async def ws_start_key(scope: Scope, start: dict[str, Any]) -> None:
    """For a WebSocket that gave no key in its headers or URL: the start message's ``api_key``.
    Raises ``AuthenticationError`` / ``RateLimitError``; sets the scope's key on success."""
    state = scope.get("state", {})
    access: Access | None = state.pop(KEY_PENDING, None)
    if access is None:
        return
    presented = start.get("api_key")
    key = access.check_key(presented if isinstance(presented, str) else None)
    state["api_key"] = key
    await access.admit_key(key, scope)
