"""From text to a stream of spoken segments: text pipeline → voice routing → cache → scheduler.

``SpeechPipeline.plan`` turns input text into ``Segment``s (cleanup, split, language runs,
normalization); ``stream`` speaks them in order. Each language run of a segment is routed to a voice
that speaks it (the requested voice is a preference), cached per run, synthesized through the
scheduler, resampled to the one output rate, and the runs are joined into one segment of s16 PCM.

Flow control: the first segment's job is the request's admission ticket (a full queue refuses it
with 503 before any byte is sent); once it is queued, up to ``lookahead`` later segments are in
flight too, ranked by the request's start and the speech before them (virtual start time in the
scheduler), so the engine never idles between a request's segments, requests finish in arrival
order, a long request's tail gives way to new requests' first segments, and later segments of many
requests can share batches.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ttsgate.audio.chunk import OUTPUT_SAMPLE_RATE, Int16Array, to_int16
from ttsgate.audio.resample import resample
from ttsgate.cache import AudioCache, cache_key
from ttsgate.engines.base import Engine, SynthesisInput
from ttsgate.exceptions import EngineError, InvalidRequestError
from ttsgate.scheduler import Scheduler
from ttsgate.text import Segment, TextNormalizer, prepare
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
    ) -> None:
        self.table = table
        self.engines = engines
        self.scheduler = scheduler
        self.cache = cache
        self.normalizer = normalizer
        self.lookahead = lookahead

    def plan(self, text: str, voice: Voice, language: str | None = None) -> list[Segment]:
        """Speakable segments of ``text``; 400 naming ``input`` when nothing in it can be spoken."""
        hint, verbatim = text_mode(voice, language)
        segments = [
            s for s in prepare(text, hint, normalizer=self.normalizer, verbatim_latin=verbatim) if s.runs
        ]
        if not segments:
            raise InvalidRequestError(
                "input has nothing speakable after cleanup (only markup, emoji or punctuation?)",
                param="input",
                code="empty_input",
            )
        return segments

    async def stream(
        self, segments: Iterable[Segment] | AsyncIterable[Segment], opts: SpeechOptions
    ) -> AsyncGenerator[SpokenSegment, None]:
        """Speak segments in order, as they come (a list, or an async source such as an LLM reply).

        The first segment's job is the admission ticket: nothing else is queued until it is (a
        refused request leaves no trace in the queue). From then on up to ``lookahead`` later
        segments are in flight while earlier ones are synthesized and sent, each ranked by its
        request's start and the speech expected before it, so the engine never idles between the
        segments of a request, requests finish in arrival order, and a long request's tail gives
        way to new requests' first segments. Closing the consumer cancels every job in flight.
        """
        source = _aiter(segments)
        # A list is one request: one deadline. A live source (LLM reply, WebSocket) may run long:
        # each of its segments gets the timeout from when it arrives.
        live = isinstance(segments, AsyncIterable)
        started = time.monotonic()
        request_deadline = started + opts.timeout_s
        speech_before = 0.0  # expected seconds of speech before the next segment

        def launch(seg: Segment, admitted: asyncio.Event | None = None) -> asyncio.Task[Int16Array]:
            nonlocal speech_before
            now = time.monotonic()
            # A live source's segments are queued as they arrive; a request's by its start and
            # the speech before them (the scheduler's virtual start time).
            since, before = (now, 0.0) if live else (started, speech_before)
            speech_before += seg.expected_audio_s(opts.speed)
            deadline = now + opts.timeout_s if live else request_deadline
            return asyncio.create_task(
                self.speak(
                    seg,
                    opts,
                    first=admitted is not None,
                    deadline=deadline,
                    since=since,
                    speech_before_s=before,
                    admitted=admitted,
                )
            )

        pending: deque[tuple[Segment, asyncio.Task[Int16Array]]] = deque()
        next_seg: asyncio.Task[Segment | None] | None = None
        try:
            first = await anext(source, None)
            if first is None:
                return
            admitted = asyncio.Event()
            task = launch(first, admitted)
            pending.append((first, task))
            await _first_of(task, admitted)
            if task.done():
                task.result()  # refused or failed: raise before anything else is queued
            prev: SpokenSegment | None = None
            exhausted = False
            while True:
                # Top up the window without waiting on a slow source while audio is on its way.
                while not exhausted and len(pending) < self.lookahead + (prev is None):
                    if next_seg is None:
                        next_seg = asyncio.ensure_future(anext(source, None))
                    if live and pending and not next_seg.done():  # a list never makes us wait
                        break
                    seg = await next_seg
                    next_seg = None
                    if seg is None:
                        exhausted = True
                        break
                    pending.append((seg, launch(seg)))
                if not pending:
                    return
                seg, task = pending.popleft()
                pcm = await task
                if prev is None:
                    prev = SpokenSegment(0, seg.text, pcm, 0.0, 0.0)
                else:
                    pos = prev.end_s
                    pause = _pause_after(prev.text)
                    lead = np.zeros(round(pause * OUTPUT_SAMPLE_RATE), dtype=np.int16)
                    prev = SpokenSegment(
                        prev.index + 1, seg.text, np.concatenate([lead, pcm]), pos, pos + pause
                    )
                yield prev
        finally:
            tasks: list[asyncio.Future[Any]] = [t for _, t in pending]
            if next_seg is not None:
                tasks.append(next_seg)
            for t in tasks:
                t.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            await source.aclose()

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
        segment its leading pause and the cache keys of its runs (the request cache's key)."""
        parts: list[str] = []
        prev: Segment | None = None
        for seg in segments:
            pause = 0.0 if prev is None else _pause_after(prev.text)
            parts.append(f"pause={round(pause * OUTPUT_SAMPLE_RATE)};runs={len(seg.runs)}")
            parts.extend(self.route_run(language, text, opts)[2] for language, text in seg.runs)
            prev = seg
        return parts

    async def speak(
        self,
        segment: Segment,
        opts: SpeechOptions,
        *,
        first: bool,
        deadline: float,
        since: float | None = None,
        speech_before_s: float = 0.0,
        admitted: asyncio.Event | None = None,
    ) -> Int16Array:
        """One segment's audio: its language runs, each routed, cached and synthesized, joined.

        ``first``: the segment's first run is the request's admission (refused when the queue is
        full) and ``admitted`` is set once it is queued; ``since`` and ``speech_before_s`` order its jobs
        (see ``Scheduler.synthesize``)."""
        parts: list[Int16Array] = []
        for i, (language, text) in enumerate(segment.runs):
            engine, item, key = self.route_run(language, text, opts)

            async def compute(
                engine: Engine = engine, item: SynthesisInput = item, admit: bool = first and i == 0
            ) -> bytes:
                chunk = await self.scheduler.synthesize(
                    engine.name,
                    item,
                    priority=0 if first else 1,
                    admit=admit,
                    deadline=deadline,
                    since=since,
                    speech_before_s=speech_before_s,
                    on_queued=admitted.set if admit and admitted is not None else None,
                )
                samples = resample(chunk.samples, chunk.sample_rate, OUTPUT_SAMPLE_RATE)
                return to_int16(samples).tobytes()

            value, _hit = await self.cache.get_or_compute(key, compute)
            parts.append(np.frombuffer(value, dtype=np.int16))
        if not parts:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]


async def _first_of(task: asyncio.Task[Any], event: asyncio.Event) -> None:
    """Wait until ``task`` is done or ``event`` is set, whichever comes first."""
    if task.done() or event.is_set():
        return
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()


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


def _pause_after(text: str) -> float:
    tail = text.rstrip()
    if not tail:
        return 0.0
    return _PAUSE_SENTENCE_S if tail[-1] in _SENTENCE_END else _PAUSE_CLAUSE_S
