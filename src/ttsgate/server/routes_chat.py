"""Spoken chat: ``POST /v1/chat/speech`` asks the LLM and speaks its reply while it is generated.

LLM text deltas → ``IncrementalSegmenter`` → ``prepare`` → ``SpeechPipeline.stream``: the first
segment is synthesized as soon as its end is certain, later ones while the reply goes on. The route
awaits the first spoken segment before sending headers, so an unreachable LLM is a 503 naming the
upstream, an LLM error status a 502, and a full queue a 503 — all before any audio byte. After that,
an audio body is aborted and an SSE body ends with an ``error`` event (server/streaming.py).

Closing the response (the client went away) closes the spoken stream, which cancels the queued
synthesis and closes the segment source and with it the LLM request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from ttsgate.audio.encode import create_encoder
from ttsgate.exceptions import UpstreamError
from ttsgate.llm import ChatMessage, create_backend, read_ahead, reply_segments
from ttsgate.llm.policy import apply_policy
from ttsgate.pipeline import SpeechOptions, text_mode
from ttsgate.runtime import Runtime
from ttsgate.server.access import charge_characters
from ttsgate.server.openapi import CHAT_ERRORS, audio, errors
from ttsgate.server.protocol import ChatSpeechBody
from ttsgate.server.streaming import audio_body, chat_sse_body, closing_source, scrub_surrogates

router = APIRouter()
ROUTE = "/v1/chat/speech"


async def charged(request: Request, tokens: AsyncIterator[str]) -> AsyncIterator[str]:
    """``tokens``, each charged to the request's API key after the fact (never refused mid-reply)."""
    async for token in tokens:
        await charge_characters(request, len(token), refuse=False)
        yield token


@router.post(
    ROUTE,
    tags=["chat"],
    summary="Ask the LLM and stream its reply as speech",
    response_class=Response,
    responses={
        **audio("The reply as audio in response_format, or SSE events (stream_format=sse).", sse=True),
        **errors(*CHAT_ERRORS),
    },
)
async def chat_speech(body: ChatSpeechBody, request: Request) -> Response:
    started = time.perf_counter()
    rt: Runtime = request.app.state.runtime
    voice = rt.table.resolve(body.voice_id)
    lexicon = rt.lexicons.lexicon(body.lexicon)  # validated before the LLM is asked
    pipeline = rt.require_ready()
    language = rt.check_request(voice, body.language)
    backend = create_backend(rt.settings, rt.require_llm_http())
    messages = [ChatMessage(role=m.role, content=m.content) for m in body.messages]
    sse = body.stream_format == "sse"
    deltas: asyncio.Queue[str] = asyncio.Queue()  # bounded by the reply's length
    llm = apply_policy(rt.settings, body.model, body.options, body.keep_alive)  # the operator's limits
    # The key's characters per minute: everything the LLM reads now (429 when over), the reply as spoken.
    await charge_characters(request, sum(len(m.content) for m in body.messages))
    tokens = read_ahead(
        charged(
            request,
            _scrubbed(
                backend.stream(messages, model=llm.model, options=llm.options, keep_alive=llm.keep_alive)
            ),
        )
    )
    on_delta = deltas.put_nowait if sse else None
    hint, verbatim = text_mode(voice, language)
    segments = reply_segments(
        tokens,
        normalizer=pipeline.normalizer,
        lang_hint=hint,
        verbatim_latin=verbatim,
        on_delta=on_delta,
        lexicon=lexicon,
    )
    encoder = create_encoder(body.response_format)
    opts = SpeechOptions(
        voice=voice, speed=body.speed, timeout_s=rt.settings.request_timeout_s, language=language
    )
    spoken = closing_source(pipeline.stream(segments, opts), segments)
    try:
        first = await anext(spoken)
    except StopAsyncIteration:
        await spoken.aclose()
        raise UpstreamError(
            f"the reply of the LLM at {backend.url} has nothing speakable", code="empty_reply"
        ) from None
    except BaseException:
        await spoken.aclose()
        raise
    headers = {"X-Accel-Buffering": "no", "Cache-Control": "no-store"}
    if sse:
        events = chat_sse_body(
            first, spoken, encoder, deltas, metrics=rt.metrics, route=ROUTE, started=started
        )
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)
    audio = audio_body(first, spoken, encoder, metrics=rt.metrics, route=ROUTE, started=started)
    return StreamingResponse(audio, media_type=encoder.media_type, headers=headers)


async def _scrubbed(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    """The LLM's text deltas with lone surrogates (JSON can carry ``\\ud800``; it is not text) made
    U+FFFD: the reply is still spoken and shown, and nothing downstream meets unencodable text."""
    try:
        async for delta in deltas:
            yield scrub_surrogates(delta)
    finally:
        aclose = getattr(deltas, "aclose", None)
        if aclose is not None:
            await aclose()
