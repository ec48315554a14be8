"""The request timeout bounds the server's own work, per segment from when it is asked for: time a
stream spends waiting on its own consumer (a client reading in real time, a full socket) never
counts, so a long input read slowly plays to its end; a segment whose synthesis really takes longer
than the timeout still fails with ``RequestTimeoutError``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest

from tests.support.tables import sine_table
from tests.unit.test_scheduler import RecordingSine
from ttsgate.cache.base import OffCache
from ttsgate.exceptions import RequestTimeoutError
from ttsgate.pipeline import AudioPiece, SpeechOptions, SpeechPipeline, SpokenSegment
from ttsgate.scheduler import Scheduler
from ttsgate.text import Segment, TextNormalizer

TIMEOUT_S = 0.4
TEXT = " ".join(f"This is sentence number {i} of the story." for i in range(1, 11))


@pytest.fixture
async def setup() -> AsyncIterator[tuple[SpeechPipeline, RecordingSine]]:
    engine = RecordingSine(char_s=0.05)
    sched = Scheduler({"sine": engine}, max_batch_size=1, max_wait_ms=0, workers=1)
    await sched.start()
    pipeline = SpeechPipeline(
        table=sine_table(),
        engines={"sine-en": engine},  # the table's en voice; its scheduler lane is the engine's name
        scheduler=sched,
        cache=OffCache(),
        normalizer=TextNormalizer(),
        lookahead=2,
    )
    yield pipeline, engine
    engine.gate.set()
    await sched.close()


async def _live(segments: list[Segment]) -> AsyncIterator[Segment]:
    for seg in segments:
        yield seg


async def _read(
    pipeline: SpeechPipeline, *, pause_s: float, live: bool = False, pieces: bool = False, timeout_s: float
) -> list[SpokenSegment]:
    """Every segment, the consumer pausing ``pause_s`` after each (a listener playing in real time)."""
    voice = pipeline.table.resolve("en_test")
    segments = pipeline.plan(TEXT, voice)
    opts = SpeechOptions(voice=voice, timeout_s=timeout_s)
    source = _live(segments) if live else segments
    run = pipeline.stream_pieces(source, opts) if pieces else pipeline.stream(source, opts)
    got: list[SpokenSegment] = []
    try:
        async for item in run:
            if isinstance(item, AudioPiece):
                continue
            got.append(item)
            await asyncio.sleep(pause_s)
    finally:
        await run.aclose()
    return got


@pytest.mark.parametrize(("live", "pieces"), [(False, False), (False, True), (True, False)])
async def test_a_slow_reader_gets_every_segment_past_the_timeout(
    setup: tuple[SpeechPipeline, RecordingSine], live: bool, pieces: bool
) -> None:
    pipeline, _ = setup
    fast = await _read(pipeline, pause_s=0.0, timeout_s=30.0)
    loop = asyncio.get_running_loop()
    began = loop.time()
    slow = await _read(pipeline, pause_s=0.15, live=live, pieces=pieces, timeout_s=TIMEOUT_S)
    assert loop.time() - began > 3 * TIMEOUT_S  # the stream lasted far longer than the timeout
    assert len(slow) == len(fast) == 10
    assert [s.text for s in slow] == [s.text for s in fast]
    for a, b in zip(slow, fast, strict=True):  # the full audio, the same as a fast reader's
        assert a.start_s == b.start_s
        np.testing.assert_array_equal(a.pcm, b.pcm)


async def test_a_segment_slower_than_the_timeout_still_fails(
    setup: tuple[SpeechPipeline, RecordingSine],
) -> None:
    pipeline, engine = setup
    voice = pipeline.table.resolve("en_test")
    opts = SpeechOptions(voice=voice, timeout_s=TIMEOUT_S)
    run = pipeline.stream(pipeline.plan(TEXT, voice), opts)
    try:
        first = await anext(run)
        assert first.index == 0
        await asyncio.sleep(0.3)  # the reader dawdles: that does not count
        engine.gate.clear()  # from now on the engine hangs inside a segment
        loop = asyncio.get_running_loop()
        began = loop.time()
        with pytest.raises(RequestTimeoutError, match="deadline"):
            async for _ in run:
                pass
        assert loop.time() - began < 3 * TIMEOUT_S  # the stuck segment failed at its own timeout
    finally:
        engine.gate.set()
        await run.aclose()
