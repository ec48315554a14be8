"""Speech routes: OpenAI's ``/v1/audio/speech`` and the seed's ``/tts`` and ``/api/chatts``. Thin:
validate, plan, await the first segment (so failures before audio get a real status), stream."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from functools import partial
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from ttsgate.audio.encode import create_encoder
from ttsgate.exceptions import InputTooLongError, InvalidRequestError
from ttsgate.offload import off_loop
from ttsgate.pipeline import SpeechOptions
from ttsgate.request_cache import finalize_wav
from ttsgate.runtime import Runtime
from ttsgate.server.access import charge_characters
from ttsgate.server.openapi import QUERY_SPEECH_ERRORS, SPEECH_ERRORS, audio, errors, redirect
from ttsgate.server.protocol import LEXICON_SCHEMA, AudioFormat, ChattsBody, Language, SpeechBody, Speed
from ttsgate.server.routes_audio import cached_response, request_cache_of
from ttsgate.server.streaming import (
    audio_body,
    client_gone,
    encoded_audio,
    sse_body,
    unless_disconnected,
)
from ttsgate.server.validation import client_names

router = APIRouter()
_T = TypeVar("_T")


def runtime_of(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


async def _speak(
    request: Request,
    *,
    route: str,
    text: str,
    voice_id: str,
    speed: float,
    fmt: str,
    sse: bool = False,
    stream: bool = True,
    language: str | None = None,
    lexicon: Mapping[str, str] | None = None,
) -> Response:
    """Speak ``text``; errors name OpenAI's fields (``input``, ``voice``, ``speed``): a route whose
    client calls them otherwise wraps the call in ``client_names``."""
    started = time.perf_counter()
    rt = runtime_of(request)
    limit = rt.settings.max_input_chars
    if len(text) > limit:
        raise InputTooLongError(
            f"input is {len(text)} characters; the limit is {limit}", param="input", code="input_too_long"
        )
    await charge_characters(request, len(text))  # the API key's characters per minute (429 when over)
    voice = rt.table.resolve(voice_id)
    lex = rt.lexicons.lexicon(lexicon)  # the file's entries (re-read if changed) + the request's
    pipeline = rt.require_ready()
    language = rt.check_request(voice, language)  # a client mistake is refused before any engine work
    rc = request_cache_of(request)
    respond = partial(cached_response, request, rt, route=route, started=started, fmt=fmt)
    front = None
    if rc.enabled and not sse:
        front = rc.front_key(pipeline, voice, text, speed, fmt, language, lex.version)
    if front is not None and (found := await rc.front(front)) is not None:
        return await respond(request_key=found.request_key, data=found.data)
    segments = await off_loop(len(text), pipeline.plan, text, voice, language, lexicon=lex)
    opts = SpeechOptions(voice=voice, speed=speed, timeout_s=rt.settings.request_timeout_s, language=language)
    rec = None
    if rc.enabled:
        rkey = rc.request_key(pipeline, segments, opts)
        if front is not None and (data := await rc.encoded(rkey, fmt)) is not None:
            await rc.put_front(front, rkey, data)
            return await respond(request_key=rkey, data=data)
        rec = rc.recording(rkey, front, fmt)
    encoder = create_encoder(fmt)
    headers = {"X-Accel-Buffering": "no", "Cache-Control": "no-store"}
    if sse:
        spoken = pipeline.stream(segments, opts)
        first = await _first(spoken)
        if rec is not None:
            spoken = rc.tap_segments(rec, first, spoken)
        body = sse_body(
            first, spoken, encoder, metrics=rt.metrics, route=route, started=started, input_chars=len(text)
        )
        if rec is not None:
            body = rc.tap_body(rec, body, audio=False)
        return StreamingResponse(body, media_type="text/event-stream", headers=headers)
    pieces = pipeline.stream_pieces(segments, opts)
    head = await _first(pieces)
    if rec is not None:
        pieces = rc.tap_segments(rec, head, pieces)
    if not stream:  # nothing is sent before the whole body: a failure still gets its status (504 …)
        whole: AsyncIterator[bytes]
        whole = encoded_audio(head, pieces, encoder, metrics=rt.metrics, route=route, started=started)
        if rec is not None:
            whole = rc.tap_body(rec, whole, audio=True)
        data = await unless_disconnected(request.receive, _joined(whole))
        if data is None:  # the client went away: the synthesis was cancelled
            return client_gone(route)
        return Response(finalize_wav(fmt, data), media_type=encoder.media_type)
    # Audio bodies start with the first segment's first piece (issue #15): a failure before it is
    # still a real status; after it, the body is aborted (README, errors).
    audio = audio_body(head, pieces, encoder, metrics=rt.metrics, route=route, started=started)
    if rec is not None:
        audio = rc.tap_body(rec, audio, audio=True)
    return StreamingResponse(audio, media_type=encoder.media_type, headers=headers)


async def _joined(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def _first(spoken: AsyncGenerator[_T, None]) -> _T:
    """The stream's first item; the stream closed when getting it fails (then nothing was sent)."""
    try:
        return await anext(spoken)
    except BaseException:
        await spoken.aclose()
        raise


@router.post(
    "/v1/audio/speech",
    tags=["speech"],
    summary="OpenAI-compatible text to speech",
    response_class=Response,
    responses={
        **audio("Audio in response_format, streamed; SSE events with stream_format=sse.", sse=True),
        **redirect(),
        **errors(*SPEECH_ERRORS),
    },
)
async def create_speech(body: SpeechBody, request: Request) -> Response:
    return await _speak(
        request,
        route="/v1/audio/speech",
        text=body.input,
        voice_id=body.voice_id,
        speed=body.speed,
        fmt=body.response_format,
        sse=body.stream_format == "sse",
        language=body.language,
        lexicon=body.lexicon,
    )


@router.get(
    "/tts",
    tags=["seed"],
    summary="The seed's GET /tts: streamed audio/wav",
    response_class=Response,
    responses={**audio("Audio in response_format (wav by default), streamed."), **redirect(),
               **errors(*QUERY_SPEECH_ERRORS)},
)  # fmt: skip
async def seed_tts(
    request: Request,
    text: Annotated[str, Query(min_length=1, description="Text to speak.")],
    voice_id: Annotated[str, Query(min_length=1, max_length=200)] = "zh_female_001",
    speed: Annotated[Speed, Query()] = 1.0,
    response_format: Annotated[AudioFormat, Query()] = "wav",
    language: Annotated[Language | None, Query(description="Dialect for Han text, e.g. yue.")] = None,
    lexicon: Annotated[
        str | None,
        Query(
            max_length=16384,
            description='Pronunciation lexicon, a JSON object of strings: {"乐清": "yue4 qing1"}',
            json_schema_extra={"contentMediaType": "application/json", "contentSchema": LEXICON_SCHEMA},
        ),
    ] = None,
) -> Response:
    with client_names({"input": "text", "voice": "voice_id"}):
        return await _speak(
            request,
            route="/tts",
            text=text,
            voice_id=voice_id,
            speed=speed,
            fmt=response_format,
            language=language,
            lexicon=query_lexicon(lexicon),
        )


@router.post(
    "/api/chatts",
    tags=["seed"],
    summary="The seed client's POST /api/chatts",
    response_class=Response,
    responses={**audio("Audio in response_format (wav by default)."), **redirect(), **errors(*SPEECH_ERRORS)},
)
async def seed_chatts(body: ChattsBody, request: Request) -> Response:
    voice_id, speed = body.resolved()
    with client_names(body.client_names()):
        return await _speak(
            request,
            route="/api/chatts",
            text=body.prompt,
            voice_id=voice_id,
            speed=speed,
            fmt=body.response_format,
            stream=body.stream,
            lexicon=body.lexicon,
        )


def query_lexicon(raw: str | None) -> dict[str, str] | None:
    """The ``lexicon`` query parameter: a JSON object of strings (400 naming ``lexicon`` otherwise)."""
    if raw is None or not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidRequestError(
            'lexicon: must be a JSON object of strings, e.g. {"乐清": "yue4 qing1"}',
            param="lexicon",
            code="invalid_lexicon",
        )
    return value
