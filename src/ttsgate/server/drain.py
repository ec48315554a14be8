"""Graceful drain on SIGTERM: stop taking work, finish what was accepted, then exit.

Uvicorn's own shutdown closes the listening socket, sends WebSocket sessions close 1012 at once and
cancels what is still running after ``timeout_graceful_shutdown``: a rolling restart would cut
streams. Here the first SIGTERM (or SIGINT) only starts a **drain**:

- ``/ready`` answers 503 ``{"status": "draining"}`` so load balancers and Kubernetes stop routing;
- every new request gets 503 (code ``draining``, ``Retry-After: 1``, ``Connection: close``; nginx
  retries it on another replica), a new WebSocket an ``error`` event and close 1013 (try again);
  ``/health`` and ``/metrics`` keep answering;
- requests and WebSocket sessions already accepted run to their end;
- when none is left, or ``TTSGATE_SHUTDOWN_GRACE_S`` has passed, uvicorn's shutdown runs (what is
  still running then is cut, as before). A second signal skips the wait.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from ttsgate.exceptions import NotReadyError
from ttsgate.server.errors import error_body

log = logging.getLogger("ttsgate.server")

ALWAYS_OPEN = ("/health", "/metrics")
CLOSE_TRY_AGAIN = 1013


class Drain:
    """The drain state shared by the middleware and the server: in-flight work and the start time."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.started_at: float | None = None

    @property
    def draining(self) -> bool:
        return self.started_at is not None

    def start(self) -> None:
        if self.started_at is None:
            self.started_at = time.monotonic()
            log.info("draining: %d request(s) or session(s) in flight", self.in_flight)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Counts the block as work in flight, for work that does not pass the middleware (a Wyoming
        request): the drain waits for it to end. Check ``draining`` first to refuse new work."""
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    def finished(self, grace_s: float) -> bool:
        """True once draining and nothing is in flight, or the grace period (s) is over."""
        if self.started_at is None:
            return False
        if self.in_flight == 0:
            return True
        if time.monotonic() - self.started_at >= grace_s:
            log.warning("drain grace of %.0f s over: cutting %d in flight", grace_s, self.in_flight)
            return True
        return False


class DrainMiddleware:
    """Counts accepted HTTP requests and WebSocket sessions; refuses new ones while draining."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in ALWAYS_OPEN:
            await self.app(scope, receive, send)
            return
        if self.drain.draining:
            await _refuse(scope, receive, send)
            return
        self.drain.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.drain.in_flight -= 1


async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["path"] == "/ready" and scope["type"] == "http":
        await _json(send, 503, {"status": "draining"})
        return
    error = NotReadyError("the server is shutting down; retry (another replica)", code="draining")
    if scope["type"] == "http":
        await _json(send, 503, error_body(error), retry_after=True)
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": json.dumps({"type": "error", **error_body(error)})})
    await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN, "reason": "server shutting down"})


async def _json(send: Send, status: int, body: dict[str, Any], *, retry_after: bool = False) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    if retry_after:
        headers += [(b"retry-after", b"1"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class DrainingServer(uvicorn.Server):
    """``uvicorn.Server`` whose first SIGTERM/SIGINT drains (``Drain``) before shutting down; it also
    shuts down, without draining, as soon as ``failed()`` is true (an engine could not load)."""

    def __init__(
        self,
        config: uvicorn.Config,
        drain: Drain,
        grace_s: float,
        failed: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__(config)
        self.drain = drain
        self.grace_s = grace_s
        self.failed = failed

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.drain.draining or sig not in (signal.SIGTERM, signal.SIGINT):
            super().handle_exit(sig, frame)  # a second signal: shut down now, no more waiting
            self.force_exit = True
            return
        self._captured_signals.append(sig)
        self.drain.start()

    async def on_tick(self, counter: int) -> bool:
        if await super().on_tick(counter) or self.failed():
            return True
        return self.drain.finished(self.grace_s)
