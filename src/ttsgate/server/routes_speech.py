"""Speech routes: OpenAI's ``/v1/audio/speech`` and the seed's ``/tts`` and ``/api/chatts``. Thin:
validate, plan, await the first segment (so failures before audio get a real status), stream."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from ttsgate.audio.encode import create_encoder
from ttsgate.exceptions import InputTooLongError
from ttsgate.pipeline import SpeechOptions
from ttsgate.runtime import Runtime
from ttsgate.server.protocol import AudioFormat, ChattsBody, SpeechBody, Speed
from ttsgate.server.streaming import audio_body, sse_body

router = APIRouter()


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
    param: str = "input",
) -> Response:
    started = time.perf_counter()
    rt = runtime_of(request)
    limit = rt.settings.max_input_chars
    if len(text) > limit:
        raise InputTooLongError(
            f"{param} is {len(text)} characters; the limit is {limit}", param=param, code="input_too_long"
        )
    voice = rt.table.resolve(voice_id)
    pipeline = rt.require_ready()
    segments = pipeline.plan(text, voice)
    encoder = create_encoder(fmt)
    opts = SpeechOptions(voice=voice, speed=speed, timeout_s=rt.settings.request_timeout_s)
    spoken = pipeline.stream(segments, opts)
    try:
        first = await anext(spoken)
    except BaseException:
        await spoken.aclose()
        raise
    headers = {"X-Accel-Buffering": "no", "Cache-Control": "no-store"}
    if sse:
        body = sse_body(
            first, spoken, encoder, metrics=rt.metrics, route=route, started=started, input_chars=len(text)
        )
        return StreamingResponse(body, media_type="text/event-stream", headers=headers)
    audio = audio_body(first, spoken, encoder, metrics=rt.metrics, route=route, started=started)
    if not stream:
        data = b"".join([chunk async for chunk in audio])
        return Response(_finalize(fmt, data), media_type=encoder.media_type)
    return StreamingResponse(audio, media_type=encoder.media_type, headers=headers)


def _finalize(fmt: str, data: bytes) -> bytes:
    """A complete (non-streamed) WAV gets its real RIFF/data sizes instead of the streaming ones."""
    if fmt != "wav" or len(data) < 44 or data[:4] != b"RIFF":
        return data
    buf = bytearray(data)
    buf[4:8] = (len(buf) - 8).to_bytes(4, "little")
    idx = buf.find(b"data", 12)
    if idx >= 0:
        buf[idx + 4 : idx + 8] = (len(buf) - idx - 8).to_bytes(4, "little")
    return bytes(buf)


@router.post("/v1/audio/speech", tags=["speech"], summary="OpenAI-compatible text to speech")
async def create_speech(body: SpeechBody, request: Request) -> Response:
    return await _speak(
        request,
        route="/v1/audio/speech",
        text=body.input,
        voice_id=body.voice_id,
        speed=body.speed,
        fmt=body.response_format,
        sse=body.stream_format == "sse",
    )


@router.get("/tts", tags=["seed"], summary="The seed's GET /tts: streamed audio/wav")
async def seed_tts(
    request: Request,
    text: Annotated[str, Query(min_length=1, description="Text to speak.")],
    voice_id: Annotated[str, Query(min_length=1, max_length=200)] = "zh_female_001",
    speed: Annotated[Speed, Query()] = 1.0,
    response_format: Annotated[AudioFormat, Query()] = "wav",
) -> Response:
    return await _speak(
        request, route="/tts", text=text, voice_id=voice_id, speed=speed, fmt=response_format, param="text"
    )


@router.post("/api/chatts", tags=["seed"], summary="The seed client's POST /api/chatts")
async def seed_chatts(body: ChattsBody, request: Request) -> Response:
    voice_id, speed = body.resolved()
    return await _speak(
        request,
        route="/api/chatts",
        text=body.prompt,
        voice_id=voice_id,
        speed=speed,
        fmt=body.response_format,
        stream=body.stream,
        param="prompt",
    )
