"""Subtitles for a speech request: the same body as ``/v1/audio/speech`` → SRT, WebVTT or JSON cues.

The cues are the spoken segments with their times in the audio stream (pauses included), so they
line up with the audio of the same request. Segment audio is cached, so asking for the subtitles
and then the audio (or the other way round) synthesizes once.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from ttsgate.audio.subtitles import Cue, to_srt, to_vtt
from ttsgate.exceptions import InputTooLongError
from ttsgate.offload import off_loop
from ttsgate.pipeline import SpeechOptions
from ttsgate.server.access import charge_characters
from ttsgate.server.openapi import SPEECH_ERRORS, TEXT, errors
from ttsgate.server.protocol import SpeechBody
from ttsgate.server.responses import Subtitles
from ttsgate.server.routes_speech import runtime_of
from ttsgate.server.streaming import client_gone, unless_disconnected

router = APIRouter()


class SubtitlesBody(SpeechBody):
    subtitle_format: Literal["srt", "vtt", "json"] = "vtt"


@router.post(
    "/v1/audio/subtitles",
    tags=["speech"],
    summary="Timed captions of what a speech request says",
    response_class=Response,
    responses={
        200: {
            "description": "Cues in subtitle_format: WebVTT, SRT or JSON.",
            "content": {"text/vtt": TEXT, "application/x-subrip": TEXT},
            "model": Subtitles,
        },
        **errors(*SPEECH_ERRORS),
    },
)
async def create_subtitles(body: SubtitlesBody, request: Request) -> Response:
    rt = runtime_of(request)
    limit = rt.settings.max_input_chars
    if len(body.input) > limit:
        raise InputTooLongError(
            f"input is {len(body.input)} characters; the limit is {limit}",
            param="input",
            code="input_too_long",
        )
    await charge_characters(request, len(body.input))  # the API key's characters per minute
    voice = rt.table.resolve(body.voice_id)
    lexicon = rt.lexicons.lexicon(body.lexicon)
    pipeline = rt.require_ready()
    language = rt.check_request(voice, body.language)
    segments = await off_loop(len(body.input), pipeline.plan, body.input, voice, language, lexicon=lexicon)
    opts = SpeechOptions(
        voice=voice, speed=body.speed, timeout_s=rt.settings.request_timeout_s, language=language
    )

    async def timed() -> list[Cue]:
        spoken = pipeline.stream(segments, opts)
        try:
            return [Cue(seg.speech_start_s, seg.end_s, seg.text) async for seg in spoken]
        finally:
            await spoken.aclose()

    found = await unless_disconnected(request.receive, timed())
    if found is None:  # the client went away: the synthesis was cancelled
        return client_gone("/v1/audio/subtitles")
    cues = found
    end = cues[-1].end_s if cues else 0.0
    if body.subtitle_format == "srt":
        return PlainTextResponse(to_srt(cues), media_type="application/x-subrip")
    if body.subtitle_format == "vtt":
        return PlainTextResponse(to_vtt(cues), media_type="text/vtt")
    return JSONResponse(
        {
            "duration": round(end, 3),
            "cues": [{"start": round(c.start_s, 3), "end": round(c.end_s, 3), "text": c.text} for c in cues],
        }
    )
