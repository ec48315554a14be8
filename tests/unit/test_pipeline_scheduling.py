"""The pipeline's use of the scheduler: a request is admitted whole, its later segments queue at
once, and segments run by playback deadline on a one-worker engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.support.tables import sine_table
from tests.unit.test_scheduler import RecordingSine, wait_for
from ttsgate.cache.base import OffCache
from ttsgate.exceptions import OverloadedError
from ttsgate.pipeline import SpeechOptions, SpeechPipeline
from ttsgate.scheduler import Scheduler
from ttsgate.text import TextNormalizer


@pytest.fixture
async def setup() -> AsyncIterator[tuple[SpeechPipeline, RecordingSine]]:
    table = sine_table()
    engine = RecordingSine(char_s=0.1)
    sched = Scheduler({"sine": engine}, max_batch_size=1, max_wait_ms=0, workers=1)
    await sched.start()
    pipeline = SpeechPipeline(
        table=table,
        engines={"sine-en": engine},  # the table's en voice; its scheduler lane is the engine's name
        scheduler=sched,
        cache=OffCache(),
        normalizer=TextNormalizer(),
    )
    yield pipeline, engine
    engine.gate.set()
    await sched.close()


async def speak(pipeline: SpeechPipeline, text: str) -> list[str]:
    voice = pipeline.table.resolve("en_test")
    segments = pipeline.plan(text, voice)
    return [s.text async for s in pipeline.stream(segments, SpeechOptions(voice=voice))]


async def test_a_new_first_segment_goes_before_later_segments_with_slack(
    setup: tuple[SpeechPipeline, RecordingSine],
) -> None:
    pipeline, engine = setup
    engine.gate.clear()  # hold the engine inside the first segment of P
    p = asyncio.create_task(speak(pipeline, "Peter reads first. Then Peter reads second."))
    await asyncio.to_thread(engine.entered.wait, 5)
    sched = pipeline.scheduler
    # P's second segment is queued while its first is still being synthesized
    await wait_for(lambda: sched.stats("sine")["depth"] == 1)
    r = asyncio.create_task(speak(pipeline, "Rita arrives later. Rita has a second part."))
    await wait_for(lambda: sched.stats("sine")["depth"] == 3)
    engine.gate.set()
    assert len(await p) == 2
    assert len(await r) == 2
    # Earliest playback deadline first: R's first segment is due 1 s after R arrived, P's second
    # only when P's first (1.3 s of speech) has played.
    assert engine.spoken[:2] == ["Peter reads first.", "Rita arrives later."]
    assert sorted(engine.spoken[2:]) == ["Rita has a second part.", "Then Peter reads second."]


async def test_a_refused_request_queues_nothing(setup: tuple[SpeechPipeline, RecordingSine]) -> None:
    pipeline, engine = setup
    state = pipeline.scheduler._lane("sine").state  # white-box: the bound
    state.max_queue = 1
    engine.gate.clear()
    p = asyncio.create_task(speak(pipeline, "Peter reads first. Then Peter reads second."))
    await asyncio.to_thread(engine.entered.wait, 5)
    await wait_for(lambda: len(state) == 1)  # P's second segment, queued behind its running first
    with pytest.raises(OverloadedError):  # P's queued second segment fills the bound
        await speak(pipeline, "Rita arrives later. Rita has a second part.")
    assert len(state) == 1
    engine.gate.set()
    assert len(await p) == 2
    assert not any(t.startswith("Rita") for t in engine.spoken)


async def test_a_departed_client_leaves_nothing_queued(setup: tuple[SpeechPipeline, RecordingSine]) -> None:
    pipeline, engine = setup
    state = pipeline.scheduler._lane("sine").state  # white-box: what waits in the queue
    engine.gate.clear()
    voice = pipeline.table.resolve("en_test")
    segments = pipeline.plan("One thing first. Then a second. And a third. Finally a fourth.", voice)
    stream = pipeline.stream(segments, SpeechOptions(voice=voice))
    first = asyncio.ensure_future(anext(stream))
    await asyncio.to_thread(engine.entered.wait, 5)
    await wait_for(lambda: len(state) == 3)  # the lookahead's later segments, queued at admission
    first.cancel()  # the client leaves while its first segment is being synthesized
    await asyncio.gather(first, return_exceptions=True)
    await stream.aclose()
    assert len(state) == 0
    engine.gate.set()
    await asyncio.sleep(0.2)
    assert engine.spoken == ["One thing first."]  # nothing after the first was synthesized
