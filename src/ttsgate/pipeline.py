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

Timeout (``SpeechOptions.timeout_s``, ``TTSGATE_REQUEST_TIMEOUT_S``): each segment must be
synthesized within it after it was asked for (launched into the window), else
``RequestTimeoutError``. Time the stream spends waiting on its own client (the socket or queue
full, the listener not yet needing more audio) holds no segment in flight and counts against
nothing, so a long input read in real time plays to its end; a body sent whole asks for every
segment as soon as the window allows, so there the timeout bounds the server's work segment by
segment, and the client bounds its total wait by hanging up (which cancels the synthesis).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import numpy as np

from ttsgate.audio.chunk import OUTPUT_SAMPLE_RATE, AudioChunk, Int16Array, to_int16
from ttsgate.audio.resample import resample
from ttsgate.cache import AudioCache
from ttsgate.engines.base import Engine, SynthesisInput
from ttsgate.exceptions import InvalidRequestError
from ttsgate.lexicon_store import LexiconStore
from ttsgate.routing import EngineCall, Router, SpeechOptions, pause_after, silence, text_mode
from ttsgate.scheduler import Playback, Scheduler, Work
from ttsgate.text import Segment, TextNormalizer, expected_speech_s, prepare
from ttsgate.text.lexicon import Lexicon
from ttsgate.voices import Voice, VoiceTable

__all__ = ["AudioPiece", "EngineCall", "SpeechOptions", "SpeechPipeline", "SpokenSegment", "text_mode"]


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


@dataclass(frozen=True, slots=True)
class AudioPiece:
    """The next samples of segment ``index``'s ``SpokenSegment.pcm`` (its leading pause first), out
    before the segment is complete (``SpeechPipeline.stream_pieces``); s16 at OUTPUT_SAMPLE_RATE."""

    index: int
    pcm: Int16Array


class SpeechPipeline(Router):
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
        super().__init__(table, engines)
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
        run = self._run(segments, opts, pieces=False)
        try:
            async for spoken in run:
                if isinstance(spoken, SpokenSegment):
                    yield spoken
        finally:
            with anyio.CancelScope(shield=True):  # closed from a cancelled scope too (a hang-up)
                await run.aclose()

    def stream_pieces(
        self, segments: Iterable[Segment] | AsyncIterable[Segment], opts: SpeechOptions
    ) -> AsyncGenerator[SpokenSegment | AudioPiece, None]:
        """``stream``, plus the first segment's audio as its engines make it (issue #15: first
        audio): ``AudioPiece``s of segment 0 (its engines' pieces, or a cached run whole) come before
        ``SpokenSegment`` 0, whose ``pcm`` starts with exactly those samples; a consumer sends
        ``pcm`` past what the pieces held. A first segment already complete when asked for has no
        pieces. A failure after a piece raises from the generator as usual.

        Only the first: later segments are synthesized ahead (``lookahead``) while earlier ones
        play, and vocoding in pieces costs zh-baker 32 frames of context per piece boundary (8-36 %
        of a segment's synthesis, benchmarks/first_audio.md), which would come out of the capacity
        in streams."""
        return self._run(segments, opts, pieces=True)

    async def _run(
        self, segments: Iterable[Segment] | AsyncIterable[Segment], opts: SpeechOptions, *, pieces: bool
    ) -> AsyncGenerator[SpokenSegment | AudioPiece, None]:
        source = _aiter(segments)
        live = isinstance(segments, AsyncIterable)
        queued: deque[Segment] = deque() if isinstance(segments, AsyncIterable) else deque(segments)
        playback = self.scheduler.open_stream()

        def launch(
            index: int, seg: Segment
        ) -> tuple[asyncio.Task[Int16Array], asyncio.Queue[Int16Array] | None]:
            # The timeout bounds the server's own work, per segment from when it is asked for
            # (launched into the window), never the stream: a segment is launched only once the
            # consumer has taken the one ``lookahead`` before it, so a client that reads in real
            # time (a 4096-character input is 5-15 minutes of audio) or a slow socket would
            # otherwise have its playback time counted as synthesis time and be cut off mid-stream.
            deadline = time.monotonic() + opts.timeout_s
            out: asyncio.Queue[Int16Array] | None = asyncio.Queue() if pieces and index == 0 else None
            emit = out.put_nowait if out is not None else None
            coro = self.speak(seg, opts, playback=playback, index=index, deadline=deadline, emit=emit)
            return asyncio.create_task(coro), out

        pending: deque[tuple[int, Segment, asyncio.Task[Int16Array], asyncio.Queue[Int16Array] | None]]
        pending = deque()
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
                    pending.append((index, seg, *launch(index, seg)))
                    index += 1
                if not pending:
                    return
                k, seg, task, out = pending.popleft()
                pause = 0.0 if prev is None else pause_after(prev.text) / opts.speed
                lead = np.zeros(round(pause * OUTPUT_SAMPLE_RATE), dtype=np.int16)
                if out is not None and not task.done():
                    if len(lead):
                        yield AudioPiece(k, lead)
                    async for pcm in _pieces_until(task, out):
                        if k == 0:  # the listener's player starts now; its later segments may run
                            self.scheduler.first_audio(playback, time.monotonic())
                        yield AudioPiece(k, pcm)
                pcm = await task
                if prev is None:
                    prev = SpokenSegment(0, seg.text, pcm, 0.0, 0.0)
                else:
                    pos = prev.end_s
                    prev = SpokenSegment(
                        prev.index + 1, seg.text, np.concatenate([lead, pcm]), pos, pos + pause
                    )
                pause_s = prev.speech_start_s - prev.start_s
                if k == 0:
                    self.scheduler.first_audio(playback, time.monotonic())
                playback.delivered(k, len(prev.pcm) / OUTPUT_SAMPLE_RATE, time.monotonic(), pause_s=pause_s)
                yield prev
        finally:
            # First, without awaiting: this may run inside a cancelled scope (Starlette cancels a
            # response whose client hung up), where every await is cancelled again.
            self.scheduler.close_stream(playback)
            tasks: list[asyncio.Future[Any]] = [t for _, _, t, _ in pending]
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

    async def speak(
        self,
        segment: Segment,
        opts: SpeechOptions,
        *,
        playback: Playback,
        index: int,
        deadline: float,
        emit: Callable[[Int16Array], None] | None = None,
    ) -> Int16Array:
        """One segment's audio: its engine calls (``calls``: language runs, cut to what each
        engine takes), each cached and synthesized, joined with the pauses between cut pieces.

        ``deadline``: when the segment's synthesis fails with ``RequestTimeoutError`` (the
        request timeout after it was asked for), on ``time.monotonic``'s clock.

        ``playback``/``index``: the admitted stream and the segment's place in it (its jobs rank
        by its playback deadline); each call's reserved work is freed once it has its audio, from
        the engine, the cache or another request's synthesis of the same text.

        ``emit``: called with the segment's audio in order as it comes (the pauses, each engine's
        pieces when it streams at the output rate, else each call's audio whole); joined, exactly
        the returned PCM."""
        parts: list[Int16Array] = []
        for i, (engine, item, key, pause_s) in enumerate(self.calls(segment, opts)):
            sent = [0]  # samples of this call already emitted as the engine's pieces
            on_piece = None
            if emit is not None and engine.sample_rate == OUTPUT_SAMPLE_RATE:
                on_piece = _piece_emitter(emit, sent)

            async def compute(
                engine: Engine = engine,
                item: SynthesisInput = item,
                unit: int = i,
                on_piece: Callable[[AudioChunk], None] | None = on_piece,
            ) -> bytes:
                chunk = await self.scheduler.synthesize(
                    engine.name,
                    item,
                    playback=playback,
                    segment=index,
                    unit=(index, unit),
                    deadline=deadline,
                    on_piece=on_piece,
                )
                samples = resample(chunk.samples, chunk.sample_rate, OUTPUT_SAMPLE_RATE)
                return to_int16(samples).tobytes()

            if pause_s:
                parts.append(silence(pause_s))
                if emit is not None:
                    emit(parts[-1])
            value, _hit = await self.cache.get_or_compute(key, compute)
            self.scheduler.release(playback, engine.name, (index, i))
            parts.append(np.frombuffer(value, dtype=np.int16))
            if emit is not None and sent[0] < len(parts[-1]):
                emit(parts[-1][sent[0] :])
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


def _piece_emitter(emit: Callable[[Int16Array], None], sent: list[int]) -> Callable[[AudioChunk], None]:
    """An engine piece (at the output rate) → s16 to ``emit``, counted in ``sent[0]``; ``to_int16``
    works sample by sample, so the pieces' s16 joined is the whole call's."""

    def on_piece(chunk: AudioChunk) -> None:
        pcm = to_int16(chunk.samples)
        if len(pcm):
            sent[0] += len(pcm)
            emit(pcm)

    return on_piece


async def _pieces_until(
    task: asyncio.Task[Int16Array], out: asyncio.Queue[Int16Array]
) -> AsyncGenerator[Int16Array, None]:
    """What ``task`` puts in ``out`` while it runs, as it comes, then whatever is left once it ends."""
    getter: asyncio.Future[Int16Array] | None = None
    try:
        while not task.done():
            getter = asyncio.ensure_future(out.get())
            await asyncio.wait((getter, task), return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                break
            got, getter = getter.result(), None
            yield got
        while not out.empty():
            yield out.get_nowait()
    finally:
        if getter is not None and not getter.done():
            getter.cancel()
