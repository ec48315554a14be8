"""Issue #15: a segment's audio handed out in pieces as its engine makes it.

The pieces join to exactly the whole audio (engine, scheduler, pipeline), the first piece is out
while the engine is still working, and a failure after a piece fails the stream after that piece.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from tests.support.tables import sine_table
from ttsgate.audio.chunk import AudioChunk
from ttsgate.cache.base import OffCache
from ttsgate.engines.base import EngineSpec, SynthesisInput
from ttsgate.engines.sine import SineEngine
from ttsgate.exceptions import EngineError
from ttsgate.pipeline import AudioPiece, SpeechOptions, SpeechPipeline, SpokenSegment
from ttsgate.scheduler import Scheduler
from ttsgate.text import TextNormalizer

TEXT = "第一句话很长很长。第二句，第三句话。"


def sine(**options: object) -> SineEngine:
    engine = SineEngine(EngineSpec(name="sine-zh", kind="sine", options={"char_s": 0.02, **options}))
    engine.load()
    return engine


class Gated(SineEngine):
    """Hands out its first piece, then waits for ``gate`` before the rest."""

    def __init__(self) -> None:
        super().__init__(EngineSpec(name="sine-zh", kind="sine", options={"char_s": 0.02, "piece_chars": 2}))
        self.gate = threading.Event()

    def pieces(self, item: SynthesisInput) -> Iterator[AudioChunk] | None:
        inner = super().pieces(item)
        assert inner is not None

        def gated() -> Iterator[AudioChunk]:
            for k, piece in enumerate(inner):
                if k == 1:
                    assert self.gate.wait(timeout=10)
                yield piece

        return gated()


def test_sine_pieces_join_to_the_whole_call() -> None:
    engine = sine(piece_chars=3)
    item = SynthesisInput("一二三四五六七八", "zh", speed=1.3)
    pieces = engine.pieces(item)
    assert pieces is not None
    parts = [p.samples for p in pieces]
    assert len(parts) == 3
    np.testing.assert_array_equal(np.concatenate(parts), engine.synthesize([item])[0].samples)
    assert sine().pieces(item) is None  # an engine that does not stream says so


async def test_scheduler_hands_pieces_out_before_the_whole_audio() -> None:
    engine = sine(piece_chars=2)
    sched = Scheduler({"sine": engine}, max_batch_size=1, max_wait_ms=0)
    await sched.start()
    try:
        got: list[AudioChunk] = []
        item = SynthesisInput("一二三四五", "zh")
        whole = await sched.synthesize("sine", item, on_piece=got.append)
        assert len(got) == 3  # every piece arrived before the whole audio
        np.testing.assert_array_equal(np.concatenate([c.samples for c in got]), whole.samples)
        np.testing.assert_array_equal(whole.samples, engine.synthesize([item])[0].samples)
    finally:
        await sched.close()


async def _pipeline(engine: SineEngine) -> tuple[SpeechPipeline, Scheduler]:
    sched = Scheduler({"sine-zh": engine}, max_batch_size=1, max_wait_ms=0, workers=1)
    await sched.start()
    table = sine_table().only_engines(["sine-zh"])
    pipeline = SpeechPipeline(
        table=table, engines={"sine-zh": engine}, scheduler=sched, cache=OffCache(),
        normalizer=TextNormalizer(),
    )  # fmt: skip
    return pipeline, sched


@pytest.mark.parametrize("speed", [1.0, 0.7])
async def test_pipeline_pieces_are_each_segments_audio(speed: float) -> None:
    pipeline, sched = await _pipeline(sine(piece_chars=2))
    try:
        voice = pipeline.table.resolve("zh_test")
        opts = SpeechOptions(voice=voice, speed=speed)
        segments = pipeline.plan(TEXT, voice)
        assert len(segments) >= 2
        whole = [s async for s in pipeline.stream(segments, opts)]
        items = [s async for s in pipeline.stream_pieces(segments, opts)]
        spoken = [s for s in items if isinstance(s, SpokenSegment)]
        assert [(s.index, s.text, s.start_s) for s in spoken] == [(s.index, s.text, s.start_s) for s in whole]
        for seg, ref in zip(spoken, whole, strict=True):
            np.testing.assert_array_equal(seg.pcm, ref.pcm)
        assert isinstance(items[0], AudioPiece)  # the first audio is a piece of segment 0
        assert items[0].index == 0
        # Each segment's pieces are the start of its PCM (its leading pause first), in order.
        k = 0
        for item in items:
            if isinstance(item, AudioPiece):
                seg = spoken[item.index]
                np.testing.assert_array_equal(item.pcm, seg.pcm[k : k + len(item.pcm)])
                k += len(item.pcm)
            else:
                k = 0
    finally:
        await sched.close()


async def test_the_first_piece_is_out_while_the_engine_still_works() -> None:
    engine = Gated()
    engine.load()
    pipeline, sched = await _pipeline(engine)
    try:
        voice = pipeline.table.resolve("zh_test")
        pieces = pipeline.stream_pieces(pipeline.plan("一二三四五六", voice), SpeechOptions(voice=voice))
        first = await asyncio.wait_for(anext(pieces), 10)
        assert isinstance(first, AudioPiece)
        assert not engine.gate.is_set()  # the engine is blocked before its second piece
        engine.gate.set()
        rest = [s async for s in pieces]
        assert isinstance(rest[-1], SpokenSegment)
        assert rest[-1].pcm[: len(first.pcm)].tobytes() == first.pcm.tobytes()
    finally:
        engine.gate.set()
        await sched.close()


async def test_a_failure_after_a_piece_fails_the_stream_after_it() -> None:
    pipeline, sched = await _pipeline(sine(piece_chars=2, fail_on="KABOOM"))
    try:
        voice = pipeline.table.resolve("zh_test")
        pieces = pipeline.stream_pieces(pipeline.plan("一二 KABOOM 三四", voice), SpeechOptions(voice=voice))
        first = await anext(pieces)
        assert isinstance(first, AudioPiece)
        with pytest.raises(EngineError):
            async for _ in pieces:
                pass
        assert sched.stats("sine-zh")["streams"] == 0  # nothing stays reserved
    finally:
        await sched.close()


async def test_later_segments_wait_for_the_first_audio() -> None:
    """Two free workers: the request's second segment starts only once its first audio is out, so
    that it does not slow the first one down (issue #15); then the rest runs ahead as before."""
    from tests.unit.test_scheduler import RecordingSine

    engine = RecordingSine(char_s=0.01)
    sched = Scheduler({"sine": engine}, max_batch_size=1, max_wait_ms=0, workers=2)  # lane: engine.name
    await sched.start()
    try:
        table = sine_table().only_engines(["sine-en"])
        pipeline = SpeechPipeline(
            table=table, engines={"sine-en": engine}, scheduler=sched, cache=OffCache(),
            normalizer=TextNormalizer(),
        )  # fmt: skip
        voice = table.resolve("en_test")
        segments = pipeline.plan("One thing first. Then a second. And a third.", voice)
        engine.gate.clear()
        stream = pipeline.stream(segments, SpeechOptions(voice=voice))
        first = asyncio.ensure_future(anext(stream))
        await asyncio.to_thread(engine.entered.wait, 5)
        await asyncio.sleep(0.2)  # a free worker, and two later segments queued
        assert sched.stats("sine")["depth"] == 2
        assert engine.spoken == ["One thing first."]  # held behind the first segment
        engine.gate.set()
        assert (await first).text == "One thing first."
        rest = [s.text async for s in stream]
        assert rest == ["Then a second.", "And a third."]
    finally:
        engine.gate.set()
        await sched.close()
