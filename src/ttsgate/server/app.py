"""``create_app(settings)``: the FastAPI application, its lifespan and its routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ttsgate import __version__
from ttsgate.config import Settings
from ttsgate.request_cache import RequestCache
from ttsgate.runtime import Runtime
from ttsgate.server import (
    routes_audio,
    routes_chat,
    routes_meta,
    routes_playground,
    routes_speech,
    routes_subtitles,
    routes_ws,
)
from ttsgate.server.access import AccessMiddleware, build_access
from ttsgate.server.drain import Drain, DrainMiddleware
from ttsgate.server.errors import install_error_handlers
from ttsgate.server.json_body import JSONBodyMiddleware
from ttsgate.server.limits import BodyLimitMiddleware
from ttsgate.server.middleware import ObservabilityMiddleware
from ttsgate.server.openapi import install_openapi
from ttsgate.server.streaming import quiet_designed_aborts
from ttsgate.voices import VoiceTable

log = logging.getLogger("ttsgate.server")


def create_app(
    settings: Settings | None = None, *, table: VoiceTable | None = None, wait_ready: bool = False
) -> FastAPI:
    """Build the app. ``table`` overrides the voice table (tests); ``wait_ready`` loads engines
    before serving instead of in the background."""
    settings = settings or Settings()
    runtime = Runtime.build(settings, table)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start(wait=wait_ready)
        wyoming = None
        if settings.wyoming_uri:
            from ttsgate.server.wyoming_server import start_wyoming  # only when it is asked for

            wyoming = await start_wyoming(runtime, settings.wyoming_uri, app.state.drain)
        try:
            yield
        finally:
            if wyoming is not None:
                await wyoming.stop()
            await app.state.access.limiter.close()
            await runtime.close()

    app = FastAPI(
        title="ttsgate",
        version=__version__,
        description="Self-hosted speech gateway: OpenAI-compatible TTS with warm models, "
        "dynamic batching and streaming.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    quiet_designed_aborts()  # a stream aborted after its first byte is a WARNING, not a traceback
    app.include_router(routes_speech.router)
    app.include_router(routes_chat.router)
    app.include_router(routes_ws.router)
    app.include_router(routes_meta.router)
    app.include_router(routes_playground.router)
    app.include_router(routes_subtitles.router)
    app.state.request_cache = RequestCache(runtime.cache)
    app.include_router(routes_audio.router)  # after routes_meta: /v1/audio/voices etc. match first
    install_openapi(app)  # statuses, error bodies and media types as answered; no 422
    app.add_middleware(JSONBodyMiddleware)  # a body is JSON whatever its Content-Type says (as OpenAI)
    body_limit, chat_limit = settings.body_limit(), settings.max_chat_body_bytes
    app.add_middleware(
        BodyLimitMiddleware, limit_for=lambda path: chat_limit if path == routes_chat.ROUTE else body_limit
    )
    app.state.access = build_access(settings, runtime.metrics)  # API keys, rate limits, WS Origin
    app.add_middleware(AccessMiddleware, access=app.state.access)
    app.state.drain = Drain()  # SIGTERM: finish accepted streams, refuse new ones (server/drain.py)
    app.add_middleware(DrainMiddleware, drain=app.state.drain)
    # TTSGATE_METRICS=false: no request metrics (request ids and the access log stay), no /metrics.
    app.add_middleware(ObservabilityMiddleware, metrics=runtime.metrics if settings.metrics else None)
    return app
