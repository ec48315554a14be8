"""``/v1/audio/speech/ws``: text in (e.g. LLM tokens as they come), audio out (docs/websocket.md).

One session per connection: a receiver task turns client messages into text deltas (bounded inbox:
a client that sends faster than we read is slowed down by TCP), ``reply_segments`` cuts them into
segments, ``SpeechPipeline.stream`` speaks them, and a sender task writes a ``segment`` event and
the segment's encoded audio (one encoder per connection). Between synthesis and the sender there is
a bounded queue: with a slow reader the socket's send blocks, the queue fills and synthesis waits,
so the server never buffers more than a few segments for one client.

Every failure ends the session with an ``error`` event and a close code (docs/websocket.md): 1008
for bad messages (naming the field), 1009 for a message over the size limit, 1013 for overload /
not ready, 1011 for an engine failure, and 1011 with a generic message for anything unexpected
(the traceback goes to the log, never to the client).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from ttsgate.audio.encode import StreamEncoder, create_encoder
from ttsgate.exceptions import (
    InvalidRequestError,
    NotFoundError,
    NotReadyError,
    OverloadedError,
    PayloadTooLargeError,
    RateLimitError,
    TTSGateError,
    UpstreamUnavailableError,
)
from ttsgate.llm import Flush, reply_segments
from ttsgate.offload import encode_off_loop
from ttsgate.pipeline import SpeechOptions, SpeechPipeline, SpokenSegment, text_mode
from ttsgate.runtime import Runtime
from ttsgate.server.access import charge_characters, ws_start_key
from ttsgate.server.errors import error_body, validation_to_error
from ttsgate.server.protocol import WsStartMessage
from ttsgate.server.streaming import closing_source, json_text, pcm_pieces
from ttsgate.server.validation import lone_surrogate_at
from ttsgate.text.lexicon import Lexicon

router = APIRouter()
log = logging.getLogger("ttsgate.server")

START_TIMEOUT_S = 30.0  # the client must say "start" within this
SEND_QUEUE = 2  # spoken segments waiting for the socket (beyond the pipeline's lookahead)
INBOX = 256  # client messages not yet segmented

CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011
CLOSE_TRY_AGAIN = 1013


class _ClientGone(Exception):
    """The client disconnected; nothing more can be sent."""


def close_code_for(exc: TTSGateError) -> int:
    if isinstance(exc, PayloadTooLargeError):
        return CLOSE_TOO_BIG
    if isinstance(exc, InvalidRequestError | NotFoundError):
        return CLOSE_POLICY
    if isinstance(exc, OverloadedError | NotReadyError | UpstreamUnavailableError | RateLimitError):
        return CLOSE_TRY_AGAIN
    return CLOSE_INTERNAL


def close_reason(message: str) -> str:
    """A close reason must fit in 123 bytes of UTF-8 (a lone surrogate is written as ``\\udXXX``)."""
    raw = message.encode("utf-8", "backslashreplace")
    return message if len(raw) <= 123 else raw[:120].decode(errors="ignore") + "…"


@router.websocket("/v1/audio/speech/ws")
async def speech_ws(ws: WebSocket) -> None:
    await ws.accept()
    rt: Runtime = ws.app.state.runtime
    try:
        start = await asyncio.wait_for(_read_start(ws, rt.settings.body_limit()), START_TIMEOUT_S)
        voice = rt.table.resolve(start.voice_id)
        lexicon = rt.lexicons.lexicon(start.lexicon)  # the file's entries now + the start message's
        pipeline = rt.require_ready()
        language = rt.check_request(voice, start.language)
        encoder = create_encoder(start.response_format)
        opts = SpeechOptions(
            voice=voice, speed=start.speed, timeout_s=rt.settings.request_timeout_s, language=language
        )
        session = _Session(
            ws,
            pipeline,
            opts,
            encoder,
            max_chars=rt.settings.max_input_chars,
            max_bytes=rt.settings.body_limit(),
            lexicon=lexicon,
        )
        await session.run()
    except TimeoutError:
        await _close_with(
            ws, InvalidRequestError(f"no start message within {START_TIMEOUT_S:.0f} s", param="type")
        )
    except TTSGateError as exc:
        await _close_with(ws, exc)
    except (_ClientGone, WebSocketDisconnect):
        return
    except Exception:  # a bug: the client still gets an error event and 1011, the log the traceback
        log.exception("websocket session failed")
        await _close_with(ws, TTSGateError("internal server error"))


async def _close_with(ws: WebSocket, exc: TTSGateError) -> None:
    try:
        await ws.send_text(json_text({"type": "error", **error_body(exc)}))
        await ws.close(close_code_for(exc), close_reason(exc.message))
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # already gone


async def _receive_json(ws: WebSocket, max_bytes: int) -> dict[str, Any]:
    """The next message as a JSON object. A message over ``max_bytes`` (the server refuses larger
    frames itself, with 1009), binary, not JSON, nested too deep or not an object: a client error."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise _ClientGone()
    text = message.get("text")
    if text is None:
        raise InvalidRequestError("messages must be JSON text frames, not binary", param="type")
    if len(text) > max_bytes:  # characters <= bytes
        raise PayloadTooLargeError.over(max_bytes, "message")
    try:
        data = json.loads(text)
    except RecursionError:
        raise InvalidRequestError("message is nested too deeply", param="body", code="invalid_json") from None
    except ValueError:
        raise InvalidRequestError("message is not valid JSON", param="body", code="invalid_json") from None
    if not isinstance(data, dict):
        raise InvalidRequestError("message must be a JSON object", param="body")
    return data


async def _read_start(ws: WebSocket, max_bytes: int) -> WsStartMessage:
    data = await _receive_json(ws, max_bytes)
    await ws_start_key(ws.scope, data)  # a key given in the start message (TTSGATE_API_KEYS)
    if data.get("type") != "start":
        raise InvalidRequestError('the first message must be {"type": "start", "voice": ...}', param="type")
    try:
        return WsStartMessage.model_validate(data)
    except ValidationError as exc:
        raise validation_to_error(RequestValidationError(exc.errors(), body=data)) from None


class _Session:
    def __init__(
        self,
        ws: WebSocket,
        pipeline: SpeechPipeline,
        opts: SpeechOptions,
        encoder: StreamEncoder,
        *,
        max_chars: int,
        max_bytes: int,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.ws = ws
        self.pipeline = pipeline
        self.opts = opts
        self.encoder = encoder
        self.max_chars = max_chars
        self.max_bytes = max_bytes
        self.lexicon = lexicon
        self.inbox: asyncio.Queue[str | Flush | None] = asyncio.Queue(INBOX)
        self.outbox: asyncio.Queue[SpokenSegment | None] = asyncio.Queue(SEND_QUEUE)

    async def run(self) -> None:
        receiver = asyncio.create_task(self._receive())
        producer = asyncio.create_task(self._produce())
        sender = asyncio.create_task(self._send())
        tasks = {receiver, producer, sender}
        try:
            pending = set(tasks)
            while not sender.done():
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()  # re-raises the first failure
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(RuntimeError, OSError):  # the client closed first
            await self.ws.close(CLOSE_NORMAL)

    async def _receive(self) -> None:
        while True:
            data = await _receive_json(self.ws, self.max_bytes)
            kind = data.get("type")
            if kind == "text":
                text = data.get("text")
                if not isinstance(text, str):
                    raise InvalidRequestError("text: must be a string", param="text")
                if (at := lone_surrogate_at(text)) is not None:
                    raise InvalidRequestError(
                        f"text: must be valid Unicode (a lone surrogate at character {at})",
                        param="text",
                        code="invalid_value",
                    )
                if len(text) > self.max_chars:
                    raise InvalidRequestError(
                        f"text: one message may carry {self.max_chars} characters",
                        param="text",
                        code="input_too_long",
                    )
                if text:
                    await charge_characters(self.ws, len(text))  # the key's characters per minute
                    await self.inbox.put(text)
            elif kind == "flush":
                await self.inbox.put(Flush())
            elif kind == "close":
                await self.inbox.put(None)
                return  # what follows "close" is not read; the sender ends the session
            else:
                got = f"unknown message type {json.dumps(kind)[:60]}" if kind is not None else "missing"
                raise InvalidRequestError(f"type: {got}; expected text, flush or close", param="type")

    async def _deltas(self) -> AsyncIterator[str | Flush]:
        while (item := await self.inbox.get()) is not None:
            yield item

    async def _produce(self) -> None:
        hint, verbatim = text_mode(self.opts.voice, self.opts.language)
        segments = reply_segments(
            self._deltas(),
            normalizer=self.pipeline.normalizer,
            lang_hint=hint,
            verbatim_latin=verbatim,
            lexicon=self.lexicon,
        )
        spoken = closing_source(self.pipeline.stream(segments, self.opts), segments)
        try:
            async for seg in spoken:
                await self.outbox.put(seg)  # waits while the sender is behind: backpressure
        finally:
            await spoken.aclose()
        await self.outbox.put(None)

    async def _send(self) -> None:
        segments, end = 0, 0.0
        try:
            while (seg := await self.outbox.get()) is not None:
                await self.ws.send_text(json_text({
                    "type": "segment", "index": seg.index, "text": seg.text,
                    "start": round(seg.speech_start_s, 3), "end": round(seg.end_s, 3),
                }))  # fmt: skip
                for piece in pcm_pieces(seg.pcm):  # first bytes after half a second of encoding
                    if data := await encode_off_loop(self.encoder, piece):
                        await self.ws.send_bytes(data)
                segments, end = segments + 1, seg.end_s
            tail = await encode_off_loop(self.encoder, None)
            if tail:
                await self.ws.send_bytes(tail)
            await self.ws.send_text(
                json_text({"type": "done", "segments": segments, "duration": round(end, 3)})
            )
        except WebSocketDisconnect as exc:
            raise _ClientGone() from exc
