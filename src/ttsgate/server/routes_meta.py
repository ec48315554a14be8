"""Discovery, health and observability routes (the shapes Open WebUI and OpenAI clients read)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ttsgate.exceptions import InputTooLongError, NotFoundError
from ttsgate.metrics import CONTENT_TYPE_LATEST
from ttsgate.offload import off_loop
from ttsgate.server.openapi import BODY_ERRORS, errors
from ttsgate.server.protocol import NormalizeBody
from ttsgate.server.responses import (
    AudioModelList,
    Draining,
    Health,
    ModelList,
    Normalized,
    Readiness,
    VoiceList,
)
from ttsgate.server.routes_speech import runtime_of
from ttsgate.text import prepare
from ttsgate.text.lexicon_apply import report

router = APIRouter()


def _models(request: Request) -> list[dict[str, Any]]:
    rt = runtime_of(request)
    ids = ["tts-1", "tts-1-hd", "gpt-4o-mini-tts", *sorted(rt.table.engines)]
    return [{"id": i, "object": "model", "owned_by": "ttsgate"} for i in ids]


@router.get("/v1/models", tags=["meta"], response_model=None, responses={200: {"model": ModelList}})
async def list_models(request: Request) -> dict[str, Any]:
    models = _models(request)
    return {"object": "list", "data": models, "models": models}


@router.get(
    "/v1/audio/models", tags=["meta"], response_model=None, responses={200: {"model": AudioModelList}}
)
async def list_audio_models(request: Request) -> dict[str, Any]:
    return {"models": _models(request)}


@router.get("/v1/audio/voices", tags=["meta"], response_model=None, responses={200: {"model": VoiceList}})
async def list_voices(request: Request) -> dict[str, Any]:
    rt = runtime_of(request)
    voices: list[dict[str, Any]] = [
        {"id": v.id, "name": v.name, "language": v.language, "engine": v.engine}
        for v in sorted(rt.table.voices.values(), key=lambda v: v.id)
    ]
    for alias, target in sorted(rt.table.aliases.items()):
        v = rt.table.voices[target]
        voices.append(
            {
                "id": alias,
                "name": f"{alias} → {v.name}",
                "language": v.language,
                "engine": v.engine,
                "alias_of": target,
            }
        )
    return {"voices": voices}


@router.get("/health", tags=["meta"], response_model=None, responses={200: {"model": Health}})
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    tags=["meta"],
    response_model=None,
    responses={
        200: {"model": Readiness, "description": "Every engine is loaded and warm."},
        503: {
            "model": Readiness | Draining,
            "description": "Not ready (loading, failed), refusing new work for memory (`refusing`), "
            "or draining.",
        },
    },
)
async def ready(request: Request) -> JSONResponse:
    rt = runtime_of(request)
    body: dict[str, Any] = {"ready": rt.ready, "engines": sorted(rt.engines), "failed": rt.failed}
    body["profile"] = rt.settings.profile
    body["memory"] = rt.memory()  # process RSS now, and what each engine's load + warm-up added
    if rt.scheduler is not None:  # each engine's load: workers, pace, streams, queue, refusals, misses
        body["load"] = {name: rt.scheduler.stats(name) for name in rt.scheduler.engines}
    # While the memory guard refuses every new request, say so with 503 like a server still loading:
    # a load balancer then sends the work to a replica that takes it, instead of to one that
    # answers only 503s. Asking also starts a reclaim of freed memory (scheduler/guard.py), so a
    # probe helps it recover; 200 again once the process is back under the limit.
    refusing = rt.memory_pressure() if rt.ready else None
    if refusing is not None:
        body["ready"] = False
        body["refusing"] = {"code": "memory", "reason": refusing}
    return JSONResponse(body, status_code=200 if body["ready"] else 503)


@router.get("/metrics", tags=["meta"], include_in_schema=False)
async def metrics(request: Request) -> Response:
    rt = runtime_of(request)
    if not rt.settings.metrics:
        raise NotFoundError("metrics are disabled (TTSGATE_METRICS=false)", code="metrics_disabled")
    return Response(rt.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.post(
    "/v1/text/normalize",
    tags=["text"],
    summary="What the text pipeline makes of an input",
    response_model=None,
    responses={200: {"model": Normalized}, **errors(*BODY_ERRORS)},
)
async def normalize(body: NormalizeBody, request: Request) -> dict[str, Any]:
    rt = runtime_of(request)
    limit = rt.settings.max_input_chars  # the same input limit as speech
    if len(body.input) > limit:
        raise InputTooLongError(
            f"input is {len(body.input)} characters; the limit is {limit}",
            param="input",
            code="input_too_long",
        )
    lexicon = rt.lexicons.lexicon(body.lexicon)  # the file's entries (re-read if changed) + the request's
    segments = await off_loop(
        len(body.input), prepare, body.input, body.lang, normalizer=rt.normalizer, lexicon=lexicon
    )
    return report(segments, lexicon)
