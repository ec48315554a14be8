"""Whole-request cache hits: answered directly or by a 302 to ``GET /v1/audio/{key}.{fmt}``, which
serves a cached request's audio in any of the six formats with an ``ETag`` and ``Cache-Control``.

The key is validated strictly (``ttsgate.cache.valid_key``: 64 lower-case hex characters), so the
path can name nothing but a cache entry; an unknown or expired key is a 404, an unknown format a 400.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ttsgate.audio.encode import AUDIO_FORMATS
from ttsgate.cache import valid_key
from ttsgate.exceptions import InvalidRequestError, NotFoundError
from ttsgate.request_cache import RequestCache
from ttsgate.runtime import Runtime
from ttsgate.server.openapi import audio, errors

router = APIRouter()


def request_cache_of(request: Request) -> RequestCache:
    rc: RequestCache = request.app.state.request_cache
    return rc


def audio_path(request_key: str, fmt: str) -> str:
    return f"/v1/audio/{request_key}.{fmt}"


async def cached_response(
    request: Request, rt: Runtime, *, route: str, started: float, request_key: str, fmt: str, data: bytes
) -> Response:
    """The answer to a whole-request hit: a 302 to the audio's URL (``TTSGATE_CACHE_REDIRECT``),
    else the complete file, at once."""
    rt.metrics.time_to_first_audio.labels(route).observe(time.perf_counter() - started)
    if rt.settings.cache_redirect:
        rc = request_cache_of(request)
        ekey = rc.encoded_key(request_key, fmt)
        if await rc.cache.get(ekey) is None:  # the GET must find it even if the PCM was evicted
            await rc.cache.put(ekey, data)
        headers = {"Cache-Control": "no-store", "X-Cache": "hit"}
        return RedirectResponse(audio_path(request_key, fmt), status_code=302, headers=headers)
    headers = {"Cache-Control": "no-store", "X-Cache": "hit"}
    return Response(data, media_type=AUDIO_FORMATS[fmt], headers=headers)


def _etag_matches(header: str, etag: str) -> bool:
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


@router.get(
    "/v1/audio/{key}.{fmt}",  # a dot in the template: /v1/audio/speech is not this route (405 for GET)
    tags=["speech"],
    summary="A cached request's audio (the target of TTSGATE_CACHE_REDIRECT's 302)",
    response_class=Response,
    responses={
        **audio("The cached audio in the named format."),
        304: {"description": "Not modified (If-None-Match matched the ETag)."},
        **errors(400, 404),
    },
)
async def cached_audio(key: str, fmt: str, request: Request) -> Response:
    if not valid_key(key):
        raise NotFoundError("no such audio: expected /v1/audio/<64 hex characters>.<format>")
    if fmt not in AUDIO_FORMATS:
        valid = ", ".join(AUDIO_FORMATS)
        raise InvalidRequestError(f"format {fmt!r} is not supported; valid formats: {valid}", param="format")
    rt: Runtime = request.app.state.runtime
    etag = f'"{key}-{fmt}"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={int(rt.settings.cache_ttl_s)}"}
    if _etag_matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    data = await request_cache_of(request).encoded(key, fmt)
    if data is None:
        raise NotFoundError(f"audio {key} is not (or no longer) cached", code="not_found")
    return Response(data, media_type=AUDIO_FORMATS[fmt], headers=headers)
