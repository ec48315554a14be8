"""From text to a stream of spoken segments: text pipeline → voice routing → cache → scheduler.

``SpeechPipeline.plan`` turns input text into ``Segment``s (cleanup, split, language runs,
normalization); ``stream`` speaks them in order. Each language run of a segment is routed to a voice
that speaks it (the requested voice is a preference), cached per run, synthesized through the
scheduler, resampled to the one output rate, and the runs are joined into one segment of s16 PCM.

Flow control: a request is one stream of the scheduler. Before anything is queued its whole
expected work (every segment's runs, per engine) is admitted or refused by real-time feasibility
(503 before any byte); a live source (an LLM reply, a WebSocket) is admitted on its first segment
and reserves each later one as it arrives. Up to ``lookahead`` later segments are in flight while
earlier ones are sent, each ranked by its playback deadline (earliest deadline first), so the
engine never idles between a request's segments, a first segment never waits behind others' later
segments that still have slack, and later segments of many requests can share batches. Each
delivered segment tells the stream's ``Playback`` its real length, which moves the deadlines of
the segments after it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import anyio
import numpy as np

from ttsgate.audio.chunk import OUTPUT_SAMPLE_RATE, Int16Array, to_int16
from ttsgate.audio.resample import resample
from ttsgate.cache import AudioCache, cache_key
from ttsgate.engines.base import Engine, SynthesisInput
from ttsgate.exceptions import EngineError, InvalidRequestError
from ttsgate.lexicon_store import LexiconStore
from ttsgate.scheduler import Playback, Scheduler, Work
from ttsgate.text import Segment, TextNormalizer, expected_speech_s, prepare
from ttsgate.text.fit import fit_pieces
from ttsgate.text.lexicon import Lexicon
from ttsgate.voices import HAN_LANGUAGES, Voice, VoiceTable

# Silence inserted before a segment, by how the previous one ended.
_SENTENCE_END = "。！？!?.…；;"
_PAUSE_SENTENCE_S = 0.22
_PAUSE_CLAUSE_S = 0.10


@dataclass(frozen=True, slots=True)
class SpeechOptions:
    voice: Voice
    speed: float = 1.0
    params: tuple[tuple[str, str], ...] = ()
    timeout_s: float = 120.0
    # An explicit language for the runs of its script (e.g. "yue": Han text in Cantonese).
    language: str | None = None


@dataclass(frozen=True, slots=True)
class SpokenSegment:
    index: int
    text: str
    pcm: Int16Array  # mono s16 at OUTPUT_SAMPLE_RATE, any leading pause included
    start_s: float  # where this segment's pcm starts in the stream
    speech_start_s: float  # where the speech itself starts (after the pause)

    @property
    def end_s(self) -> float:
        return self.start_s + len(self.pcm) / OUTPUT_SAMPLE_RATE


class SpeechPipeline:
    def __init__(
        self,
        *,
        table: VoiceTable,
        engines: Mapping[str, Engine],
        scheduler: Scheduler,
        cache: AudioCache,
        normalizer: TextNormalizer,
        lookahead: int = 3,
        lexicons: LexiconStore | None = None,
    ) -> None:
        self.table = table
        self.engines = engines
        self.scheduler = scheduler
        self.cache = cache
        self.normalizer = normalizer
        self.lookahead = lookahead
        self.lexicons = lexicons or LexiconStore()

    def plan(
        self,
        text: str,
        voice: Voice,
        language: str | None = None,
        lexicon: Lexicon | None = None,
        param: str = "input",
    ) -> list[Segment]:
        """Speakable segments of ``text`` (``lexicon``'s readings applied); 400 naming ``param`` (the
        request's field) when nothing in it can be spoken."""
        hint, verbatim = text_mode(voice, language)
        segments = [
            s
            for s in prepare(text, hint, normalizer=self.normalizer, verbatim_latin=verbatim, lexicon=lexicon)
            if s.runs
        ]
        if not segments:
            raise InvalidRequestError(
                f"{param} has nothing speakable: only punctuation, symbols, emoji, markup or reasoning",
                param=param,
                code="empty_input",
            )
        return segments

    async def stream(
        self, segments: Iterable[Segment] | AsyncIterable[Segment], opts: SpeechOptions
    ) -> AsyncGenerator[SpokenSegment, None]:
        """Speak segments in order, as they come (a list, or an async source such as an LLM reply).

        A list is admitted whole before anything is queued; a live source on its first segment
        (``OverloadedError`` either way, raised before the first segment is yielded, so a route can
        still answer 503). From then on up to ``lookahead`` later segments are in flight while
        earlier ones are synthesized and sent, ranked by their playback deadlines. Closing the
        consumer cancels every job in flight and frees the stream's reserved work.
        """
        source = _aiter(segments)
        # A list is one request: one deadline. A live source (LLM reply, WebSocket) may run long:
        # each of its segments gets the timeout from when it arrives.
        live = isinstance(segments, AsyncIterable)
        queued: deque[Segment] = deque() if isinstance(segments, AsyncIterable) else deque(segments)
        playback = self.scheduler.open_stream()
        request_deadline = time.monotonic() + opts.timeout_s

        def launch(index: int, seg: Segment) -> asyncio.Task[Int16Array]:
            deadline = time.monotonic() + opts.timeout_s if live else request_deadline
            return asyncio.create_task(
                self.speak(seg, opts, playback=playback, index=index, deadline=deadline)
            )

        pending: deque[tuple[int, Segment, asyncio.Task[Int16Array]]] = deque()
        next_seg: asyncio.Task[Segment | None] | None = None
        try:
            if live:
                first = await anext(source, None)
                if first is None:
                    return
                queued.append(first)
            if not queued:
                return
            self.scheduler.admit(playback, self.plan_work(playback, queued, opts))
            index = 0
            prev: SpokenSegment | None = None
            exhausted = not live
            while True:
                # Top up the window without waiting on a slow source while audio is on its way.
                while len(pending) < self.lookahead + (prev is None):
                    if queued:
                        seg = queued.popleft()
                    elif exhausted:
                        break
                    else:
                        if next_seg is None:
                            next_seg = asyncio.ensure_future(anext(source, None))
                        if pending and not next_seg.done():
                            break
                        got = await next_seg
                        next_seg = None
                        if got is None:
                            exhausted = True
                            break
                        seg = got
                        for engine, work in self.plan_work(playback, [seg], opts).items():
                            self.scheduler.reserve(playback, engine, work)
                    pending.append((index, seg, launch(index, seg)))
                    index += 1
                if not pending:
                    return
                k, seg, task = pending.popleft()
                pcm = await task
                if prev is None:
                    prev = SpokenSegment(0, seg.text, pcm, 0.0, 0.0)
                else:
                    pos = prev.end_s
                    pause = _pause_after(prev.text) / opts.speed
                    lead = np.zeros(round(pause * OUTPUT_SAMPLE_RATE), dtype=np.int16)
                    prev = SpokenSegment(
                        prev.index + 1, seg.text, np.concatenate([lead, pcm]), pos, pos + pause
                    )
                pause_s = prev.speech_start_s - prev.start_s
                playback.delivered(k, len(prev.pcm) / OUTPUT_SAMPLE_RATE, time.monotonic(), pause_s=pause_s)
                yield prev
        finally:
            # First, without awaiting: this may run inside a cancelled scope (Starlette cancels a
            # response whose client hung up), where every await is cancelled again.
            self.scheduler.close_stream(playback)
            tasks: list[asyncio.Future[Any]] = [t for _, _, t in pending]
            if next_seg is not None:
                tasks.append(next_seg)
            for t in tasks:
                t.cancel()
            with anyio.CancelScope(shield=True):
                if tasks:
                    await asyncio.gather(*tasks, return_exceptions=True)
                await source.aclose()

    def plan_work(
        self, playback: Playback, segments: Iterable[Segment], opts: SpeechOptions
    ) -> dict[str, list[Work]]:
        """Add ``segments`` to ``playback`` and return their expected work per engine: one
        ``Work`` per engine call (``calls``), unit ``(segment index, call index)``."""
        work: dict[str, list[Work]] = {}
        for seg in segments:
            index = playback.add(seg.expected_audio_s(opts.speed))
            for i, call in enumerate(self.calls(seg, opts)):
                speech_s = expected_speech_s(call.item.text, call.item.speed)
                work.setdefault(call.engine.name, []).append(Work((index, i), index, speech_s))
        return work

    def calls(self, segment: Segment, opts: SpeechOptions) -> list[EngineCall]:
        """A segment's engine calls, in order: each language run routed (``route_run``) and, when
        it holds more speech than its engine takes in one call at the request's speed
        (``Engine.max_speech_s``), cut between words into pieces that fit (``text/fit.py``); a
        piece after the first of its run is preceded by a clause pause (÷ speed)."""
        out: list[EngineCall] = []
        for language, text in segment.runs:
            engine, item, key = self.route_run(language, text, opts)
            pieces = fit_pieces(text, engine.max_speech_s(opts.speed))
            if len(pieces) == 1:
                out.append(EngineCall(engine, item, key, 0.0))
                continue
            for k, piece in enumerate(pieces):
                engine, item, key = self.route_run(language, piece, opts)
                out.append(EngineCall(engine, item, key, _PAUSE_CLAUSE_S / opts.speed if k else 0.0))
        return out

    def route_run(self, language: str, text: str, opts: SpeechOptions) -> tuple[Engine, SynthesisInput, str]:
        """One language run's engine, engine input and segment cache key."""
        if opts.language is not None and (language == "zh") == (opts.language in HAN_LANGUAGES):
            voice = self.table.route_exact(opts.voice, opts.language)
        else:
            voice = self.table.route(opts.voice, language)
        engine = self.engines.get(voice.engine)
        if engine is None:  # the routed voice's engine is not loaded
            raise EngineError(f"no loaded engine speaks {language!r} (wanted {voice.engine!r})")
        item = SynthesisInput(text, voice.language, voice.speaker, opts.speed, opts.params)
        key = cache_key(
            engine.name,
            engine.version,
            voice.language,
            voice.speaker or "",
            text,
            f"{opts.speed:.4f}",
            repr(opts.params),
            str(OUTPUT_SAMPLE_RATE),
        )
        return engine, item, key

    def pcm_parts(self, segments: Iterable[Segment], opts: SpeechOptions) -> list[str]:
        """Everything that determines the PCM ``stream`` makes of ``segments``, in order: per
        segment its leading pause and the cache keys of its calls and the pauses between them (the
        request cache's key)."""
        parts: list[str] = []
        prev: Segment | None = None
        for seg in segments:
            pause = 0.0 if prev is None else _pause_after(prev.text) / opts.speed
            calls = self.calls(seg, opts)
            parts.append(f"pause={round(pause * OUTPUT_SAMPLE_RATE)};runs={len(calls)}")
            parts.extend(f"{_silence(c.pause_s).size}:{c.key}" if c.pause_s else c.key for c in calls)
            prev = seg
        return parts

    async def speak(
        self,
        segment: Segment,
        opts: SpeechOptions,
        *,
        playback: Playback,
        index: int,
        deadline: float,
    ) -> Int16Array:
        """One segment's audio: its engine calls (``calls``: language runs, cut to what each
        engine takes), each cached and synthesized, joined with the pauses between cut pieces.

        ``playback``/``index``: the admitted stream and the segment's place in it (its jobs rank
        by its playback deadline); each call's reserved work is freed once it has its audio, from
        the engine, the cache or another request's synthesis of the same text."""
        parts: list[Int16Array] = []
        for i, (engine, item, key, pause_s) in enumerate(self.calls(segment, opts)):

            async def compute(engine: Engine = engine, item: SynthesisInput = item, unit: int = i) -> bytes:
                chunk = await self.scheduler.synthesize(
                    engine.name, item, playback=playback, segment=index, unit=(index, unit), deadline=deadline
                )
                samples = resample(chunk.samples, chunk.sample_rate, OUTPUT_SAMPLE_RATE)
                return to_int16(samples).tobytes()

            value, _hit = await self.cache.get_or_compute(key, compute)
            self.scheduler.release(playback, engine.name, (index, i))
            if pause_s:
                parts.append(_silence(pause_s))
            parts.append(np.frombuffer(value, dtype=np.int16))
        if not parts:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]


async def _aiter(segments: Iterable[Segment] | AsyncIterable[Segment]) -> AsyncGenerator[Segment, None]:
    if isinstance(segments, AsyncIterable):
        try:
            async for seg in segments:
                yield seg
        finally:  # closing the stream closes its source too (an LLM request, a WebSocket reader)
            aclose = getattr(segments, "aclose", None)
            if aclose is not None:
                await aclose()
    else:
        for seg in segments:
            yield seg


def text_mode(voice: Voice, language: str | None = None) -> tuple[str, bool]:
    """How a request's text is prepared: (normalization language for script-less pieces,
    verbatim_latin). Latin runs for a Latin-script language other than English go to the engine as
    written (espeak-ng reads French numbers in French); English and Chinese get our normalizers."""
    lang = language or voice.language
    han = lang in HAN_LANGUAGES
    return ("zh" if han else "en"), (not han and lang != "en")


def _silence(seconds: float) -> Int16Array:
    return np.zeros(round(seconds * OUTPUT_SAMPLE_RATE), dtype=np.int16)


class EngineCall(NamedTuple):
    """One engine call of a segment: its engine, input, cache key and the pause before its audio."""

    engine: Engine
    item: SynthesisInput
    key: str
    pause_s: float


def _pause_after(text: str) -> float:
    tail = text.rstrip()
    if not tail:
        return 0.0
    return _PAUSE_SENTENCE_S if tail[-1] in _SENTENCE_END else _PAUSE_CLAUSE_S
