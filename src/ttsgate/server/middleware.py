"""Pure ASGI middleware: request ids (``X-Request-ID`` in and out), per-route request metrics (unless
``TTSGATE_METRICS=false``) and one access log line per request (logger ``ttsgate.access``: method,
route, path, status, duration, response bytes, request id; JSON fields with ``TTSGATE_LOG_FORMAT=json``).

Pure ASGI rather than ``BaseHTTPMiddleware`` so streamed bodies pass through untouched and the
duration covers the whole body, not just the headers.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ttsgate.metrics import SPEECH_ROUTES, Metrics

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_SPEECH_ROUTES = frozenset(SPEECH_ROUTES)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


access_log = logging.getLogger("ttsgate.access")


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics | None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _SAFE_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500
        sent = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_label(scope)
            elapsed = time.perf_counter() - started
            m = self.metrics
            if m is not None:
                m.requests.labels(route, str(status)).inc()
                m.request_duration.labels(route).observe(elapsed)
                if route in _SPEECH_ROUTES:
                    m.seed_requests.inc()
                    m.seed_duration.observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                fields = {
                    "method": scope.get("method", ""),
                    "route": route,
                    "path": scope.get("path", ""),
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "bytes": sent,
                }
                access_log.info(
                    "%s %s %d %.1fms %dB",
                    fields["method"],
                    fields["path"],
                    status,
                    elapsed * 1000,
                    sent,
                    extra={"fields": fields},
                )
            request_id_var.reset(token)


def _route_label(scope: Scope) -> str:
    """The route template (bounded label values), not the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"
