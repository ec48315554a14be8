"""Admission probes: reserved work must not outlive its stream, and work that cannot run now
(a listener that stopped reading) must not block everyone else."""

from __future__ import annotations

import asyncio
import contextlib

import anyio

from tests.support.tables import sine_table
from tests.unit.test_scheduler import RecordingSine
from ttsgate.cache.base import OffCache
from ttsgate.pipeline import SpeechOptions, SpeechPipeline
from ttsgate.scheduler import Scheduler
from ttsgate.scheduler.deadline import Playback
from ttsgate.scheduler.state import QueueState, Work
from ttsgate.text import TextNormalizer

LONG_EN = " ".join(f"This is sentence number {i} of a long answer." for i in range(12))


async def test_a_stream_closed_inside_a_cancelled_scope_frees_its_reservation() -> None:
    # What Starlette does when the client hangs up: the response's anyio scope is cancelled and the
    # body (audio_body / sse_body) closes the spoken stream from inside it, where every await is
    # cancelled again. SpeechPipeline.stream's finally awaits the gather of its in-flight segments
    # before close_stream(), so the reservation of the segments never started stays forever.
    engine = RecordingSine(char_s=0.01)
    sched = Scheduler({"sine": engine}, max_batch_size=1, max_wait_ms=0, workers=1)
    await sched.start()
    try:
        table = sine_table()
        pipeline = SpeechPipeline(
            table=table, engines={"sine-en": engine}, scheduler=sched, cache=OffCache(),
            normalizer=TextNormalizer(),
        )  # fmt: skip
        voice = table.resolve("en_test")
        spoken = pipeline.stream(pipeline.plan(LONG_EN, voice), SpeechOptions(voice=voice))
        await anext(spoken)
        assert sched.stats("sine")["streams"] == 1
        with contextlib.suppress(asyncio.CancelledError), anyio.CancelScope() as scope:
            scope.cancel()
            await spoken.aclose()
        assert sched.stats("sine")["streams"] == 0
    finally:
        await sched.close()


def test_a_listener_that_stopped_reading_does_not_block_new_streams() -> None:
    # docs/architecture.md: "a client that reads slowly (its deadlines long past) does not block
    # others". A 100-segment request whose client read only its first segment keeps 96 segments
    # reserved (only `lookahead` are ever queued) with deadlines long past; EDF puts all of them
    # before any new first segment, so every new stream is refused until that client goes away.
    q = QueueState(max_queue=2048, max_batch_size=8, max_wait_ms=0, workers=2, pace=0.1)
    q.work.overrun = 0.0
    slow = Playback(0.0, 1.0)
    for _ in range(100):
        slow.add(3.0)
    q.admit(slow, [Work((k, 0), k, 3.0) for k in range(100)], 0.0)
    for k in range(4):  # its lookahead started
        q.release(slow, (k, 0))
    slow.delivered(0, 3.0, 0.5)
    new = Playback(60.0, 1.0)  # a minute later its listener has still read nothing more
    new.add(3.0)
    q.admit(new, [Work((0, 0), 0, 3.0)], 60.0)
