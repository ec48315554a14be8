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
  ``voice_not_found``, ``empty_input``…) instead of audio; the connection stays usable.

There is no authentication in Wyoming: bind it to a trusted network (Home Assistant's LAN).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.server import AsyncEventHandler, AsyncServer
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeStopped

from ttsgate import __version__
from ttsgate.audio.chunk import OUTPUT_SAMPLE_RATE
from ttsgate.exceptions import InvalidRequestError, TTSGateError
from ttsgate.llm import reply_segments
from ttsgate.pipeline import SpeechOptions, SpokenSegment, text_mode
from ttsgate.runtime import Runtime
from ttsgate.text import Segment
from ttsgate.voices import Voice

log = logging.getLogger("ttsgate.wyoming")

DEFAULT_VOICE = "alloy"
CHUNK_SAMPLES = OUTPUT_SAMPLE_RATE // 10  # 0.1 s of audio per audio-chunk event
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


def pick_voice(rt: Runtime, voice: Any) -> Voice:
    """The table voice a Wyoming ``SynthesizeVoice`` (or None) names; VoiceNotFoundError if unknown."""
    name = getattr(voice, "name", None)
    if name:
        return rt.table.resolve(name)
    language = getattr(voice, "language", None)
    if language:
        base = language.replace("_", "-").split("-", 1)[0].lower()
        if base in rt.table.languages:
            return rt.table.voices[rt.table.languages[base]]
        raise InvalidRequestError(f"no voice for language {language!r}", param="language")
    return rt.table.resolve(DEFAULT_VOICE)


class WyomingHandler(AsyncEventHandler):
    """One Wyoming connection (one Home Assistant pipeline run, or a ``describe`` probe)."""

    def __init__(self, rt: Runtime, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rt = rt
        self._inbox: asyncio.Queue[str | None] | None = None
        self._stream_task: asyncio.Task[None] | None = None

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(describe(self.rt).event())
        elif SynthesizeStart.is_type(event.type):
            start = SynthesizeStart.from_event(event)
            self._inbox = asyncio.Queue()
            self._stream_task = asyncio.create_task(self._speak_stream(start.voice, self._inbox))
        elif SynthesizeChunk.is_type(event.type) and self._inbox is not None:
            await self._inbox.put(SynthesizeChunk.from_event(event).text)
        elif SynthesizeStop.is_type(event.type) and self._inbox is not None and self._stream_task:
            await self._inbox.put(None)
            await self._stream_task
            self._inbox, self._stream_task = None, None
            await self.write_event(SynthesizeStopped().event())
        elif Synthesize.is_type(event.type) and self._inbox is None:
            synth = Synthesize.from_event(event)
            await self._speak(synth.voice, lambda voice: self._plan(synth.text, voice))
        return True

    async def disconnect(self) -> None:
        if self._stream_task is not None:
            self._stream_task.cancel()

    def _plan(self, text: str, voice: Voice) -> list[Segment]:
        pipeline = self.rt.require_ready()
        limit = self.rt.settings.max_input_chars
        if len(text) > limit:
            raise InvalidRequestError(
                f"text: at most {limit} characters", param="text", code="input_too_long"
            )
        return pipeline.plan(text, voice)

    async def _speak_stream(self, voice_ref: Any, inbox: asyncio.Queue[str | None]) -> None:
        ended = False

        async def deltas() -> AsyncIterator[str]:
            nonlocal ended
            while (text := await inbox.get()) is not None:
                yield text
            ended = True

        def live(voice: Voice) -> AsyncIterator[Segment]:
            hint, verbatim = text_mode(voice)
            pipeline = self.rt.require_ready()
            return reply_segments(
                deltas(), normalizer=pipeline.normalizer, lang_hint=hint, verbatim_latin=verbatim
            )

        await self._speak(voice_ref, live)
        while not ended:  # an error ended the audio early: read the chunks up to synthesize-stop
            ended = await inbox.get() is None

    async def _speak(
        self, voice_ref: Any, segments_for: Callable[[Voice], list[Segment] | AsyncIterator[Segment]]
    ) -> None:
        """audio-start, chunks, audio-stop for the segments; an ``error`` event instead on failure
        (after audio-start, the audio already sent stays and audio-stop still ends it)."""
        started = False
        try:
            voice = pick_voice(self.rt, voice_ref)
            pipeline = self.rt.require_ready()
            opts = SpeechOptions(voice=voice, timeout_s=self.rt.settings.request_timeout_s)
            spoken = pipeline.stream(segments_for(voice), opts)
            try:
                async for seg in spoken:
                    if not started:
                        await self.write_event(AudioStart(**_AUDIO).event())
                        started = True
                    await self._write_pcm(seg)
            finally:
                await spoken.aclose()
        except TTSGateError as exc:
            log.info("wyoming request refused: %s (%s)", exc.message, exc.code)
            await self.write_event(Error(text=exc.message, code=exc.code).event())
        if started:
            await self.write_event(AudioStop().event())

    async def _write_pcm(self, seg: SpokenSegment) -> None:
        pcm = seg.pcm
        for i in range(0, len(pcm), CHUNK_SAMPLES):
            chunk = AudioChunk(audio=pcm[i : i + CHUNK_SAMPLES].tobytes(), **_AUDIO)
            await self.write_event(chunk.event())


async def start_wyoming(rt: Runtime, uri: str) -> AsyncServer:
    """Listen on ``uri`` (``tcp://host:port`` or ``unix://path``) in the background; ``stop()`` it
    at shutdown. Raises ``ValueError`` for an unsupported URI."""
    server = AsyncServer.from_uri(uri)
    await server.start(lambda *args, **kwargs: WyomingHandler(rt, *args, **kwargs))
    log.info("Wyoming (Home Assistant) TTS on %s", uri)
    return server
