"""Response bodies that stream spoken segments as encoded audio or as SSE events.

Errors: whatever fails before the first byte is raised by the route (a real status). Here, after
the first byte: an audio stream is aborted (the chunked body never gets its terminating chunk, so
clients see an incomplete read, never silently truncated audio with a clean end); an SSE stream
sends an ``error`` event and ends.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import AsyncIterator

from ttsgate.audio.encode import StreamEncoder
from ttsgate.exceptions import TTSGateError
from ttsgate.metrics import Metrics
from ttsgate.pipeline import SpokenSegment
from ttsgate.server.errors import error_body

log = logging.getLogger("ttsgate.server")


class StreamAborted(Exception):
    """Raised inside a body iterator to abort the HTTP response after its first byte."""


async def audio_body(
    first: SpokenSegment,
    rest: AsyncIterator[SpokenSegment],
    encoder: StreamEncoder,
    *,
    metrics: Metrics,
    route: str,
    started: float,
) -> AsyncIterator[bytes]:
    sent_first = False
    try:
        async for seg in _chain(first, rest):
            data = encoder.encode(seg.pcm)
            if data:
                if not sent_first:
                    metrics.time_to_first_audio.labels(route).observe(time.perf_counter() - started)
                    sent_first = True
                yield data
        tail = encoder.finish()
        if tail:
            if not sent_first:
                metrics.time_to_first_audio.labels(route).observe(time.perf_counter() - started)
            yield tail
    except TTSGateError as exc:
        log.error("aborting audio stream after its first byte: %s", exc.message)
        raise StreamAborted(exc.message) from exc
    finally:
        await rest.aclose()


async def sse_body(
    first: SpokenSegment,
    rest: AsyncIterator[SpokenSegment],
    encoder: StreamEncoder,
    *,
    metrics: Metrics,
    route: str,
    started: float,
    input_chars: int,
) -> AsyncIterator[bytes]:
    """OpenAI's speech SSE: ``speech.audio.delta`` (base64 audio) … ``speech.audio.done``.

    ttsgate adds ``speech.segment`` events (the text and timing of each spoken segment) that
    OpenAI clients ignore and subtitle-aware clients use.
    """
    sent_first = False
    try:
        async for seg in _chain(first, rest):
            yield _event({
                "type": "speech.segment", "index": seg.index, "text": seg.text,
                "start": round(seg.speech_start_s, 3), "end": round(seg.end_s, 3),
            })
            data = encoder.encode(seg.pcm)
            if data:
                if not sent_first:
                    metrics.time_to_first_audio.labels(route).observe(time.perf_counter() - started)
                    sent_first = True
                yield _event({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()})
        tail = encoder.finish()
        if tail:
            yield _event({"type": "speech.audio.delta", "audio": base64.b64encode(tail).decode()})
        usage = {"input_tokens": input_chars, "output_tokens": 0, "total_tokens": input_chars}
        yield _event({"type": "speech.audio.done", "usage": usage})
    except TTSGateError as exc:
        yield _event({"type": "error", **error_body(exc)})
    finally:
        await rest.aclose()


def _event(payload: dict[str, object]) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


async def _chain(first: SpokenSegment, rest: AsyncIterator[SpokenSegment]) -> AsyncIterator[SpokenSegment]:
    yield first
    async for seg in rest:
        yield seg
