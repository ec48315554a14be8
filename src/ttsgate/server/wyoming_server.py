"""Home Assistant's Wyoming protocol: ttsgate as a local TTS service (``TTSGATE_WYOMING_URI``).

Home Assistant talks to local speech services over Wyoming (JSONL events with binary payloads on a
TCP socket; protocol: https://github.com/OHF-Voice/wyoming, whose ``wyoming`` library we use for
framing and event types). Served here, in the HTTP server's process, on the same runtime: the same
voices, text pipeline, cache, real-time admission and limits as ``/v1/audio/speech``.

- ``describe`` → ``info`` with one TTS program listing every voice of the table (id, languages,
  description) and ``supports_synthesize_streaming``.
- ``synthesize`` → ``audio-start``, ``audio-chunk`` (s16le mono 24 kHz, ~0.1 s each), ``audio-stop``.
- ``synthesize-start`` / ``synthesize-chunk`` ... / ``synthesize-stop`` (streamed LLM text) →
  audio as sentences complete (one ``audio-start`` … ``audio-stop``), then ``synthesize-stopped``.
  A ``synthesize`` sent alongside a streaming request (Home Assistant does, for old servers) is
  ignored, as Wyoming specifies.
- Voice: ``voice.name`` is a voice id or alias (``GET /v1/audio/voices``); with only
  ``voice.language``, the table's voice for that language; with neither, the default voice.
- Errors: an ``error`` event (``text``, ``code`` as in the HTTP error body: ``realtime``,
  ``voice_not_found``, ``empty_input``, ``input_too_long``…) instead of audio; the connection stays
  usable. A malformed event (``wyoming_protocol``: not JSON, a missing or mistyped field) gets one
  with code ``invalid_request``; so do a second ``synthesize-start`` while a stream is open (it is
  ignored: the open stream goes on) and a ``synthesize-chunk``/``-stop`` without a start. After a
  framing error, or ``MAX_MISTAKES`` invalid events, the connection is closed. Only the first
  refusal of a connection is logged at INFO (the rest at DEBUG).
- Limits: the text of a ``synthesize``, and all the chunks of one streamed request together, at
  most ``TTSGATE_MAX_INPUT_CHARS`` (``input_too_long``); chunks queue ``INBOX`` deep, then the
  connection is read no further until the stream catches up.
- Drain (``server/drain.py``): a request counts as in flight from its ``synthesize`` or
  ``synthesize-start`` to its ``audio-stop`` / ``synthesize-stopped``, so SIGTERM lets it finish;
  while draining a new one gets an ``error`` event with code ``draining`` (``describe`` still works).

There is no authentication in Wyoming: bind it to a trusted network (Home Assistant's LAN).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.server import AsyncEventHandler, AsyncServer
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeStopped

from ttsgate import __version__
from ttsgate.audio.chunk import OUTPUT_SAMPLE_RATE
from ttsgate.exceptions import InvalidRequestError, NotReadyError, TTSGateError
from ttsgate.llm import reply_segments
from ttsgate.pipeline import SpeechOptions, SpokenSegment, text_mode
from ttsgate.runtime import Runtime
from ttsgate.server.drain import Drain
from ttsgate.server.streaming import closing_source
from ttsgate.server.wyoming_protocol import VoiceRef, invalid, pick_voice, read_event, text_of, voice_of
from ttsgate.text import Segment
from ttsgate.voices import Voice

log = logging.getLogger("ttsgate.wyoming")

CHUNK_SAMPLES = OUTPUT_SAMPLE_RATE // 10  # 0.1 s of audio per audio-chunk event
INBOX = 64  # synthesize-chunk texts queued ahead of the stream; then reading waits (backpressure)
MAX_MISTAKES = 16  # invalid events (each answered with an error event) before the connection closes
_ATTRIBUTION = Attribution(name="ttsgate", url="https://github.com/ttsgate/ttsgate")
_AUDIO = {"rate": OUTPUT_SAMPLE_RATE, "width": 2, "channels": 1}


def describe(rt: Runtime) -> Info:
    """Wyoming ``info``: one TTS program, one ``TtsVoice`` per voice of the table."""
    voices = [
        TtsVoice(
            name=voice.id,
            description=voice.name,
            attribution=_ATTRIBUTION,
            installed=True,
            version=__version__,
            languages=[voice.language],
        )
        for voice in (rt.table.voices[v] for v in sorted(rt.table.voices))
    ]
    program = TtsProgram(
        name="ttsgate",
        description="ttsgate speech gateway",
        attribution=_ATTRIBUTION,
        installed=True,
        version=__version__,
        voices=voices,
        supports_synthesize_streaming=True,
    )
    return Info(tts=[program])


@dataclass
class _Stream:
    """An open ``synthesize-start`` … ``synthesize-stop`` request: its text inbox and its task."""

    inbox: asyncio.Queue[str | TTSGateError | None]
    task: asyncio.Task[None] | None = None
    chars: int = 0
    failed: bool = False  # over the length limit: the rest of its chunks are dropped

    def accepts(self) -> bool:
        return self.task is not None and not self.task.done() and not self.failed


class WyomingHandler(AsyncEventHandler):
    """One Wyoming connection (one Home Assistant pipeline run, or a ``describe`` probe)."""

    def __init__(self, rt: Runtime, drain: Drain, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rt = rt
        self.drain = drain
        self._stream: _Stream | None = None
        self._refusals = 0  # error events sent: the first is logged at INFO, the rest at DEBUG
        self._mistakes = 0  # invalid events: MAX_MISTAKES of them close the connection

    async def run(self) -> None:
        """Events until the client closes, ``stop()``, a framing error (answered, then closed: the
        framing is lost) or ``MAX_MISTAKES`` invalid events."""
        self._is_running = True
        max_data = 4 * self.rt.settings.max_input_chars + 4096  # the text in UTF-8, and the voice
        try:
            while self._is_running:
                try:
                    event = await read_event(self.reader, max_data_bytes=max_data)
                except InvalidRequestError as exc:
                    await self._refuse(exc)
                    break
                if event is None:
                    break
                try:
                    await self.handle_event(event)
                except TTSGateError as exc:  # the event is refused; the connection stays usable
                    await self._refuse(exc)
                if self._mistakes >= MAX_MISTAKES:
                    log.info("wyoming: closing a connection after %d invalid events", self._mistakes)
                    break
        except ConnectionError:
            log.debug("wyoming: the client went away")
        except Exception:
            log.exception("wyoming: connection failed")
        finally:
            await self.disconnect()
            self.writer.close()

    async def handle_event(self, event: Event) -> bool:
        """Answer one event; ``TTSGateError`` when it is refused (answered by ``run``)."""
        kind = event.type
        if Describe.is_type(kind):
            await self.write_event(describe(self.rt).event())
        elif SynthesizeStart.is_type(kind):
            self._start(voice_of(event))
        elif SynthesizeChunk.is_type(kind):
            await self._chunk(text_of(event))
        elif SynthesizeStop.is_type(kind):
            await self._stop()
        elif Synthesize.is_type(kind) and self._stream is None:  # alongside a stream: ignored
            text, voice = text_of(event), voice_of(event)
            if self.drain.draining:
                raise _draining()
            with self.drain.hold():
                await self._speak(voice, lambda v: self._plan(text, v))
        return True  # other event types are not for a TTS server: ignored, as Wyoming peers do

    async def disconnect(self) -> None:
        """The connection ends: an open stream is cancelled (and awaited, so no task is left)."""
        stream, self._stream = self._stream, None
        if stream is not None and stream.task is not None:
            stream.task.cancel()
            await asyncio.gather(stream.task, return_exceptions=True)

    def _start(self, voice: VoiceRef) -> None:
        if self._stream is not None:
            raise invalid("synthesize-start: a streamed request is open; send synthesize-stop first")
        stream = _Stream(asyncio.Queue(INBOX))
        held = contextlib.ExitStack()
        refusal = _draining() if self.drain.draining else None
        if refusal is None:
            held.enter_context(self.drain.hold())  # until synthesize-stopped is sent
        stream.task = asyncio.create_task(self._speak_stream(voice, stream.inbox, refusal))
        stream.task.add_done_callback(lambda _task: held.close())
        self._stream = stream

    async def _chunk(self, text: str) -> None:
        stream = self._stream
        if stream is None:
            raise invalid("synthesize-chunk: no synthesize-start before it")
        if not stream.accepts():
            return  # the stream already failed: its text is dropped up to synthesize-stop
        stream.chars += len(text)
        limit = self.rt.settings.max_input_chars
        if stream.chars > limit:
            stream.failed = True
            text_or_error: str | TTSGateError = InvalidRequestError(
                f"text: a streamed request may carry at most {limit} characters",
                param="text",
                code="input_too_long",
            )
        else:
            text_or_error = text
        await stream.inbox.put(text_or_error)  # waits while the stream is behind: backpressure

    async def _stop(self) -> None:
        stream = self._stream
        if stream is None or stream.task is None:
            raise invalid("synthesize-stop: no synthesize-start before it")
        try:
            if not stream.task.done():
                await stream.inbox.put(None)
            await stream.task  # audio to its end, then synthesize-stopped
        finally:
            self._stream = None

    def _plan(self, text: str, voice: Voice) -> list[Segment]:
        pipeline = self.rt.require_ready()
        limit = self.rt.settings.max_input_chars
        if len(text) > limit:
            raise InvalidRequestError(
                f"text: at most {limit} characters", param="text", code="input_too_long"
            )
        return pipeline.plan(text, voice)

    async def _speak_stream(
        self,
        voice_ref: VoiceRef,
        inbox: asyncio.Queue[str | TTSGateError | None],
        refusal: TTSGateError | None,
    ) -> None:
        ended = False

        async def deltas() -> AsyncIterator[str]:
            nonlocal ended
            while (item := await inbox.get()) is not None:
                if isinstance(item, TTSGateError):
                    raise item
                yield item
            ended = True

        def live(voice: Voice) -> AsyncGenerator[Segment, None]:
            hint, verbatim = text_mode(voice)
            pipeline = self.rt.require_ready()
            return reply_segments(
                deltas(), normalizer=pipeline.normalizer, lang_hint=hint, verbatim_latin=verbatim
            )

        try:
            if refusal is not None:
                await self._refuse(refusal)
            else:
                await self._speak(voice_ref, live)
            while not ended:  # refused, or an error ended the audio early: read up to synthesize-stop
                ended = await inbox.get() is None
            await self.write_event(SynthesizeStopped().event())
        finally:
            while not inbox.empty():  # wakes the reader if it waits to queue a chunk
                inbox.get_nowait()

    async def _speak(
        self,
        voice_ref: VoiceRef,
        segments_for: Callable[[Voice], list[Segment] | AsyncGenerator[Segment, None]],
    ) -> None:
        """audio-start, chunks, audio-stop for the segments; an ``error`` event instead on failure
        (after audio-start, the audio already sent stays and audio-stop still ends it)."""
        started = False
        try:
            voice = pick_voice(self.rt, voice_ref)
            pipeline = self.rt.require_ready()
            opts = SpeechOptions(voice=voice, timeout_s=self.rt.settings.request_timeout_s)
            segments = segments_for(voice)
            spoken = pipeline.stream(segments, opts)
            if not isinstance(segments, list):  # a live source is closed after the pipeline
                spoken = closing_source(spoken, segments)
            try:
                async for seg in spoken:
                    if not started:
                        await self.write_event(AudioStart(**_AUDIO).event())
                        started = True
                    await self._write_pcm(seg)
            finally:
                await spoken.aclose()
        except TTSGateError as exc:
            await self._refuse(exc)
        except ConnectionError:
            raise
        except Exception:
            log.exception("wyoming: synthesis failed")
            await self._refuse(TTSGateError("internal error", code="internal_error"))
        if started:
            await self.write_event(AudioStop().event())

    async def _refuse(self, exc: TTSGateError) -> None:
        """An ``error`` event for ``exc``. Client mistakes are counted (``MAX_MISTAKES``); only the
        first refusal of a connection is logged at INFO, so a flood of bad events cannot flood the log."""
        if isinstance(exc, InvalidRequestError):
            self._mistakes += 1
        self._refusals += 1
        level = logging.INFO if self._refusals == 1 else logging.DEBUG
        log.log(level, "wyoming request refused: %s (%s)", exc.message, exc.code)
        await self.write_event(Error(text=exc.message, code=exc.code).event())

    async def _write_pcm(self, seg: SpokenSegment) -> None:
        pcm = seg.pcm
        for i in range(0, len(pcm), CHUNK_SAMPLES):
            chunk = AudioChunk(audio=pcm[i : i + CHUNK_SAMPLES].tobytes(), **_AUDIO)
            await self.write_event(chunk.event())


def _draining() -> NotReadyError:
    return NotReadyError("the server is shutting down; retry (another server)", code="draining")


async def start_wyoming(rt: Runtime, uri: str, drain: Drain) -> AsyncServer:
    """Listen on ``uri`` (``tcp://host:port`` or ``unix://path``) in the background; ``stop()`` it
    at shutdown. Requests count in ``drain`` (refused once it has started). Raises ``ValueError``
    for an unsupported URI."""
    server = AsyncServer.from_uri(uri)
    await server.start(lambda *args, **kwargs: WyomingHandler(rt, drain, *args, **kwargs))
    log.info("Wyoming (Home Assistant) TTS on %s", uri)
    return server
