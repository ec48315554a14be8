"""Response bodies that stream spoken segments as encoded audio or as SSE events.

Errors: whatever fails before the first byte is raised by the route (a real status). Here, after
the first byte, every failure (a ``TTSGateError`` or a bug) is reported and logged: an audio stream
is aborted (the chunked body never gets its terminating chunk, so clients see an incomplete read,
never silently truncated audio with a clean end); an SSE stream sends an ``error`` event and ends
(a bug: ``server_error`` with a generic message, the traceback in the log). A body that is sent
whole (``"stream": false``) uses ``encoded_audio``, whose errors the route answers with their status.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

import anyio
from starlette.responses import Response
from starlette.types import Receive

from ttsgate.audio.chunk import OUTPUT_SAMPLE_RATE, Int16Array
from ttsgate.audio.encode import StreamEncoder
from ttsgate.exceptions import TTSGateError
from ttsgate.metrics import Metrics
from ttsgate.offload import encode_off_loop
from ttsgate.pipeline import AudioPiece, SpokenSegment
from ttsgate.server.errors import error_body
from ttsgate.server.validation import lone_surrogate_at
from ttsgate.text import Segment

log = logging.getLogger("ttsgate.server")
_R = TypeVar("_R")


class StreamAborted(Exception):
    """Raised inside a body iterator to abort the HTTP response after its first byte (the server
    then closes the connection without the body's end). A designed abort, logged once as a WARNING
    where it is decided (``_mid_stream``): the error handler and uvicorn do not log it again."""


class DesignedAbortFilter(logging.Filter):
    """Drops uvicorn's ``Exception in ASGI application`` traceback for a ``StreamAborted``: raising
    is how an ASGI app aborts a started response, not a bug."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, StreamAborted)


def quiet_designed_aborts() -> None:
    """Install ``DesignedAbortFilter`` on uvicorn's error logger (once)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, DesignedAbortFilter) for f in logger.filters):
        logger.addFilter(DesignedAbortFilter())


CLIENT_CLOSED = 499  # nginx's status for a request whose client went away before the response


async def unless_disconnected(receive: Receive, work: Coroutine[Any, Any, _R]) -> _R | None:
    """``work``'s result, or None when the client disconnects first (``work`` is then cancelled,
    freeing what it holds: a body sent whole is collected before its first byte, and a client
    that has gone must not keep the engines busy). ``work``'s own errors are raised."""
    task: asyncio.Future[_R] = asyncio.ensure_future(work)
    watch = asyncio.ensure_future(_disconnect(receive))
    try:
        await asyncio.wait((task, watch), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for fut in (task, watch):
            fut.cancel()
        await asyncio.gather(task, watch, return_exceptions=True)
    if task.cancelled():
        return None
    return task.result()


async def _disconnect(receive: Receive) -> None:
    """Returns when the client has gone (the request's body was read already: nothing else comes)."""
    while True:
        if (await receive())["type"] == "http.disconnect":
            return
        await asyncio.sleep(0.05)  # a server that answers at once with an empty body: do not spin


def client_gone(route: str) -> Response:
    """What a route returns when its client disconnected before the response: nothing is sent;
    the access log and the metrics record 499 (as nginx does)."""
    log.info("%s: the client disconnected before the response; its synthesis was cancelled", route)
    return Response(status_code=CLIENT_CLOSED)


_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub_surrogates(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (for text we did not get from the client,
    e.g. an LLM's reply, which is spoken anyway)."""
    return _SURROGATE.sub("\ufffd", text)


def json_text(payload: dict[str, object]) -> str:
    """``payload`` as JSON, non-ASCII kept; always encodable as UTF-8 (a lone surrogate is written as
    its ``\\u`` escape)."""
    text = json.dumps(payload, ensure_ascii=False)
    return text if lone_surrogate_at(text) is None else json.dumps(payload)


def _mid_stream(exc: Exception) -> TTSGateError:
    """The error a stream reports after its first byte: ours as it is, a bug as a generic 500 (logged)."""
    if isinstance(exc, TTSGateError):
        log.warning("stream failed after its first byte: %s (%s)", exc.message, exc.code or exc.error_type)
        return exc
    log.error("stream failed after its first byte", exc_info=exc)
    return TTSGateError("internal server error")


_PIECE_SAMPLES = OUTPUT_SAMPLE_RATE // 2
# A response's first piece: 0.1 s, enough for the first mp3/aac/opus packet (mp3: 429 bytes after
# 2400 samples, ~2.5 ms of encoding instead of ~7-10 ms for half a second; issue #15).
FIRST_PIECE_SAMPLES = OUTPUT_SAMPLE_RATE // 10


def pcm_pieces(pcm: Int16Array, first: int = _PIECE_SAMPLES) -> Iterator[Int16Array]:
    """A segment's PCM in half-second pieces (the first one ``first`` samples): the first bytes
    leave after encoding that much, not the whole segment (mp3/aac/opus encoding costs ~10-30 ms
    per second of audio), and a long segment's encoding does not hold the event loop in one piece."""
    if len(pcm) > first:
        yield pcm[:first]
        pcm = pcm[first:]
    for start in range(0, len(pcm), _PIECE_SAMPLES):
        yield pcm[start : start + _PIECE_SAMPLES]


class _FirstAudio:
    """Records time-to-first-audio once, when the first non-empty encoded bytes go out."""

    def __init__(self, metrics: Metrics, route: str, started: float) -> None:
        self._observe = metrics.time_to_first_audio.labels(route).observe
        self._started = started
        self.sent = False

    def __call__(self, data: bytes) -> bytes:
        if data and not self.sent:
            self._observe(time.perf_counter() - self._started)
            self.sent = True
        return data


async def encoded_audio(
    first: SpokenSegment | AudioPiece,
    rest: AsyncGenerator[SpokenSegment | AudioPiece, None],
    encoder: StreamEncoder,
    *,
    metrics: Metrics,
    route: str,
    started: float,
) -> AsyncGenerator[bytes, None]:
    """Encoded audio of ``SpeechPipeline.stream_pieces`` (or ``stream``): each ``AudioPiece`` is
    encoded as it comes, and a ``SpokenSegment`` adds what its pieces did not hold, so the bytes
    are the same as for whole segments (every encoder frames its input the same way however it is
    fed). Errors are raised as they are (a body sent whole); ``audio_body`` streams it."""
    first_audio = _FirstAudio(metrics, route, started)
    sent = 0  # samples of the current segment already encoded from its pieces
    try:
        async for spoken in _chain(first, rest):
            if isinstance(spoken, AudioPiece):
                pcm, sent = spoken.pcm, sent + len(spoken.pcm)
            else:
                pcm, sent = spoken.pcm[sent:], 0
            for piece in pcm_pieces(pcm, _PIECE_SAMPLES if first_audio.sent else FIRST_PIECE_SAMPLES):
                if data := first_audio(await encode_off_loop(encoder, piece)):
                    yield data
        if tail := first_audio(await encode_off_loop(encoder, None)):
            yield tail
    finally:
        await rest.aclose()


async def audio_body(
    first: SpokenSegment | AudioPiece,
    rest: AsyncGenerator[SpokenSegment | AudioPiece, None],
    encoder: StreamEncoder,
    *,
    metrics: Metrics,
    route: str,
    started: float,
) -> AsyncIterator[bytes]:
    """``encoded_audio`` for a streamed body: any failure aborts the response (``StreamAborted``)."""
    pieces = encoded_audio(first, rest, encoder, metrics=metrics, route=route, started=started)
    try:
        async for data in pieces:
            yield data
    except Exception as exc:
        raise StreamAborted(_mid_stream(exc).message) from exc
    finally:
        await pieces.aclose()


async def sse_body(
    first: SpokenSegment,
    rest: AsyncGenerator[SpokenSegment, None],
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
    first_audio = _FirstAudio(metrics, route, started)
    try:
        async for seg in _chain(first, rest):
            yield _segment_event(seg)
            for piece in pcm_pieces(seg.pcm):
                if data := first_audio(await encode_off_loop(encoder, piece)):
                    yield _audio_event(data)
        if tail := first_audio(await encode_off_loop(encoder, None)):
            yield _audio_event(tail)
        usage = {"input_tokens": input_chars, "output_tokens": 0, "total_tokens": input_chars}
        yield _event({"type": "speech.audio.done", "usage": usage})
    except Exception as exc:
        yield _event({"type": "error", **error_body(_mid_stream(exc))})
    finally:
        await rest.aclose()


async def chat_sse_body(
    first: SpokenSegment,
    rest: AsyncGenerator[SpokenSegment, None],
    encoder: StreamEncoder,
    deltas: asyncio.Queue[str],
    *,
    metrics: Metrics,
    route: str,
    started: float,
) -> AsyncIterator[bytes]:
    """``sse_body`` for a spoken LLM reply: ``chat.text.delta`` events (``{"delta"}``) as the reply's
    text arrives, interleaved with ``speech.segment`` / ``speech.audio.delta`` as it is spoken, then
    ``chat.text.done`` (the whole reply) and ``speech.audio.done``. A segment's text deltas always come
    before its ``speech.segment`` event.
    """
    reply: list[str] = []
    first_audio = _FirstAudio(metrics, route, started)
    waiting: list[asyncio.Future[Any]] = []

    def text_event(delta: str) -> bytes:
        reply.append(delta)
        return _event({"type": "chat.text.delta", "delta": delta})

    try:
        seg: SpokenSegment | None = first
        while seg is not None:
            while not deltas.empty():
                yield text_event(deltas.get_nowait())
            yield _segment_event(seg)
            for piece in pcm_pieces(seg.pcm):
                if data := first_audio(await encode_off_loop(encoder, piece)):
                    yield _audio_event(data)
            upcoming = asyncio.ensure_future(anext(rest, None))
            waiting = [upcoming]
            while True:  # pass text through while the next segment is being generated and spoken
                getter = asyncio.ensure_future(deltas.get())
                waiting = [upcoming, getter]
                await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    break
                yield text_event(getter.result())
            waiting = []
            seg = upcoming.result()
        while not deltas.empty():
            yield text_event(deltas.get_nowait())
        if tail := first_audio(await encode_off_loop(encoder, None)):
            yield _audio_event(tail)
        text = "".join(reply)
        yield _event({"type": "chat.text.done", "text": text})
        usage = {"input_tokens": 0, "output_tokens": len(text), "total_tokens": len(text)}
        yield _event({"type": "speech.audio.done", "usage": usage})
    except Exception as exc:
        yield _event({"type": "error", **error_body(_mid_stream(exc))})
    finally:
        for fut in waiting:
            fut.cancel()
        if waiting:
            await asyncio.gather(*waiting, return_exceptions=True)
        await rest.aclose()


async def closing_source(
    spoken: AsyncIterator[SpokenSegment], source: AsyncGenerator[Segment, None]
) -> AsyncGenerator[SpokenSegment, None]:
    """``spoken``, then, however it ends, ``source`` closed too (and so the LLM request under it).

    ``SpeechPipeline.stream`` closes only its own wrapper of the source. The close is shielded:
    a disconnect cancels the response's scope, and an unshielded await here would be cancelled
    before the upstream request is closed.
    """
    try:
        async for seg in spoken:
            yield seg
    finally:
        with anyio.CancelScope(shield=True):
            aclose = getattr(spoken, "aclose", None)
            if aclose is not None:
                await aclose()
            await source.aclose()


def _audio_event(data: bytes) -> bytes:
    return _event({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()})


def _segment_event(seg: SpokenSegment) -> bytes:
    return _event(
        {
            "type": "speech.segment",
            "index": seg.index,
            "text": seg.text,
            "start": round(seg.speech_start_s, 3),
            "end": round(seg.end_s, 3),
        }
    )


def _event(payload: dict[str, object]) -> bytes:
    return f"data: {json_text(payload)}\n\n".encode()


_T = TypeVar("_T")


async def _chain(first: _T, rest: AsyncIterator[_T]) -> AsyncIterator[_T]:
    yield first
    async for seg in rest:
        yield seg
