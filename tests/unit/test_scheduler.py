"""Scheduler with the sine engine: real threads, real event loop, generous timings."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest

from ttsgate.audio.chunk import AudioChunk
from ttsgate.engines.base import EngineSpec, SynthesisInput
from ttsgate.engines.sine import SineEngine
from ttsgate.exceptions import (
    EngineError,
    NotFoundError,
    NotReadyError,
    OverloadedError,
    RequestTimeoutError,
)
from ttsgate.metrics import Metrics
from ttsgate.scheduler import EngineLimits, MemoryGuard, Scheduler, Work


class RecordingSine(SineEngine):
    """Sine engine that records the texts it spoke and can be held in ``synthesize``."""

    def __init__(self, **options: Any) -> None:
        super().__init__(EngineSpec(name="sine", kind="sine", options=options))
        self.spoken: list[str] = []
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def synthesize(self, batch: Sequence[SynthesisInput]) -> list[AudioChunk]:
        self.spoken.extend(item.text for item in batch)
        self.entered.set()
        assert self.gate.wait(timeout=10)
        return super().synthesize(batch)


def seg(text: str, speaker: str | None = None) -> SynthesisInput:
    return SynthesisInput(text=text, language="en", speaker=speaker)


async def wait_for(cond: Callable[[], bool], limit_s: float = 5.0) -> None:
    end = time.monotonic() + limit_s
    while not cond():
        assert time.monotonic() < end, "condition not reached in time"
        await asyncio.sleep(0.005)


@pytest.fixture
async def make() -> AsyncIterator[Callable[..., Awaitable[Scheduler]]]:
    made: list[Scheduler] = []

    async def factory(engine: SineEngine, **kwargs: Any) -> Scheduler:
        sched = Scheduler({"sine": engine}, **kwargs)
        await sched.start()
        made.append(sched)
        return sched

    yield factory
    for sched in made:
        await sched.close()


async def hold_worker(sched: Scheduler, engine: RecordingSine) -> asyncio.Task[AudioChunk]:
    """Occupy the single worker with a blocker batch until ``engine.gate`` is set."""
    engine.gate.clear()
    blocker = asyncio.create_task(sched.synthesize("sine", seg("blocker")))
    await wait_for(engine.entered.is_set)
    return blocker


async def test_concurrent_calls_share_batches(make: Callable[..., Awaitable[Scheduler]]) -> None:
    engine = SineEngine(EngineSpec(name="sine", kind="sine", options={"delay_s": 0.05}))
    metrics = Metrics("test")
    sched = await make(engine, max_wait_ms=50, metrics=metrics)
    texts = [f"hello {i}" for i in range(8)]
    chunks = await asyncio.gather(*(sched.synthesize("sine", seg(t)) for t in texts))
    assert [round(c.duration_s / 0.06) for c in chunks] == [len(t) for t in texts]
    assert sum(engine.batches) == 8
    assert max(engine.batches) > 1
    value = metrics.registry.get_sample_value
    assert value("ttsgate_segments_synthesized_total", {"engine": "sine"}) == 8
    assert value("ttsgate_batch_size_count", {"engine": "sine"}) == len(engine.batches)
    assert value("ttsgate_audio_seconds_total", {"engine": "sine"}) == pytest.approx(
        sum(len(t) for t in texts) * 0.06
    )
    assert value("ttsgate_queue_depth", {"engine": "sine"}) == 0
    assert sched.stats("sine")["in_flight"] == 0


async def test_batch_size_is_the_smallest_limit(make: Callable[..., Awaitable[Scheduler]]) -> None:
    engine = RecordingSine(max_batch_size=8)
    sched = await make(
        engine, max_batch_size=6, max_wait_ms=50, overrides={"sine": EngineLimits(max_batch_size=3)}
    )
    assert sched.stats("sine")["max_batch_size"] == 3
    await asyncio.gather(*(sched.synthesize("sine", seg(f"t{i}")) for i in range(7)))
    assert max(engine.batches) <= 3


async def test_different_batch_keys_never_share(make: Callable[..., Awaitable[Scheduler]]) -> None:
    engine = SineEngine(EngineSpec(name="sine", kind="sine"))
    sched = await make(engine, max_wait_ms=50)
    await asyncio.gather(*(sched.synthesize("sine", seg("x", speaker=f"s{i % 2}")) for i in range(4)))
    assert sorted(engine.batches) == [2, 2]


async def test_failing_batch_fails_every_member_then_recovers(
    make: Callable[..., Awaitable[Scheduler]],
) -> None:
    engine = SineEngine(EngineSpec(name="sine", kind="sine", options={"fail_on": "boom"}))
    metrics = Metrics("test")
    sched = await make(engine, max_wait_ms=50, metrics=metrics)
    results = await asyncio.gather(
        sched.synthesize("sine", seg("fine")),
        sched.synthesize("sine", seg("boom")),
        sched.synthesize("sine", seg("also fine")),
        return_exceptions=True,
    )
    assert engine.batches == [3]
    assert all(isinstance(r, EngineError) for r in results)
    assert all(isinstance(r.__cause__, RuntimeError) for r in results)  # type: ignore[union-attr]
    assert metrics.registry.get_sample_value("ttsgate_engine_errors_total", {"engine": "sine"}) == 1
    chunk = await sched.synthesize("sine", seg("after"))
    assert chunk.duration_s == pytest.approx(5 * 0.06)


async def test_cancelled_waiting_call_is_never_synthesized(
    make: Callable[..., Awaitable[Scheduler]],
) -> None:
    engine = RecordingSine()
    sched = await make(engine, max_wait_ms=0)
    blocker = await hold_worker(sched, engine)
    leaving = asyncio.create_task(sched.synthesize("sine", seg("client left")))
    staying = asyncio.create_task(sched.synthesize("sine", seg("client stayed")))
    await wait_for(lambda: sched.stats("sine")["depth"] == 2)
    leaving.cancel()
    await asyncio.sleep(0.01)
    assert sched.stats("sine")["depth"] == 1
    engine.gate.set()
    await blocker
    await staying
    assert leaving.cancelled()
    assert "client left" not in engine.spoken
    assert "client stayed" in engine.spoken


async def test_cancelled_running_call_drops_its_result(make: Callable[..., Awaitable[Scheduler]]) -> None:
    engine = RecordingSine()
    sched = await make(engine, max_wait_ms=0)
    blocker = await hold_worker(sched, engine)
    blocker.cancel()
    engine.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await blocker
    await wait_for(lambda: sched.stats("sine")["in_flight"] == 0)
    assert (await sched.synthesize("sine", seg("next"))).duration_s > 0


async def test_full_queue_refuses_new_requests_but_accepts_follow_ups(
    make: Callable[..., Awaitable[Scheduler]],
) -> None:
    engine = RecordingSine()
    metrics = Metrics("test")
    sched = await make(engine, max_queue=3, max_wait_ms=0, metrics=metrics)
    accepted = sched.open_stream()  # its one segment is reserved: it counts against the bound
    accepted.add(1.0)
    sched.admit(accepted, {"sine": [Work((0, 0), 0, 1.0)]})
    blocker = await hold_worker(sched, engine)
    queued = [asyncio.create_task(sched.synthesize("sine", seg(f"q{i}"))) for i in range(2)]
    await wait_for(lambda: sched.stats("sine")["depth"] == 2)
    with pytest.raises(OverloadedError) as info:
        await sched.synthesize("sine", seg("refused"))
    assert 1.0 <= info.value.retry_after_s <= 60.0
    with pytest.raises(OverloadedError):  # a new stream is refused before anything is queued
        sched.admit(sched.open_stream(), {"sine": [Work((0, 0), 0, 1.0)]})
    follow_up = asyncio.create_task(  # a segment of a stream accepted earlier is never refused
        sched.synthesize("sine", seg("follow-up"), playback=accepted, segment=0, unit=(0, 0))
    )
    await wait_for(lambda: sched.stats("sine")["depth"] == 3)
    engine.gate.set()
    await asyncio.gather(blocker, *queued, follow_up)
    assert "follow-up" in engine.spoken
    assert "refused" not in engine.spoken
    assert metrics.registry.get_sample_value("ttsgate_rejected_total", {"reason": "queue_full"}) == 2
    sched.close_stream(accepted)
    assert sched.stats("sine")["streams"] == 0


async def test_deadline_gives_request_timeout(make: Callable[..., Awaitable[Scheduler]]) -> None:
    engine = RecordingSine()
    sched = await make(engine, max_wait_ms=0)
    blocker = await hold_worker(sched, engine)
    with pytest.raises(RequestTimeoutError):
        await sched.synthesize("sine", seg("too late"), deadline=time.monotonic() + 0.05)
    with pytest.raises(RequestTimeoutError):
        await sched.synthesize("sine", seg("already late"), deadline=time.monotonic() - 1)
    engine.gate.set()
    await blocker
    assert "too late" not in engine.spoken
    assert (await sched.synthesize("sine", seg("in time"), deadline=time.monotonic() + 30)).duration_s > 0


async def test_first_segments_go_before_earlier_queued_later_segments(
    make: Callable[..., Awaitable[Scheduler]],
) -> None:
    engine = RecordingSine(max_batch_size=1)
    sched = await make(engine, max_wait_ms=0)
    blocker = await hold_worker(sched, engine)
    older = sched.open_stream()  # a request that arrived first: its later segments are queued
    for _ in range(3):
        older.add(3.0)
    sched.admit(older, {"sine": [Work((k, 0), k, 3.0) for k in range(3)]})
    older.delivered(0, 3.0, time.monotonic())  # its first 3 s are playing: the rest has slack
    later = [
        asyncio.create_task(sched.synthesize("sine", seg(f"later{k - 1}"), playback=older, segment=k))
        for k in (1, 2)
    ]
    await wait_for(lambda: sched.stats("sine")["depth"] == 2)
    first = asyncio.create_task(sched.synthesize("sine", seg("first")))  # a new request's first
    await wait_for(lambda: sched.stats("sine")["depth"] == 3)
    engine.gate.set()
    await asyncio.gather(blocker, first, *later)
    assert engine.spoken == ["blocker", "first", "later0", "later1"]


async def test_memory_guard_refuses_new_work_only(make: Callable[..., Awaitable[Scheduler]]) -> None:
    engine = RecordingSine()
    metrics = Metrics("test")
    rss = [50 * 2**20]
    guard = MemoryGuard(
        memory_limit_mb=100, gpu_memory_fraction=1.0, rss_reader=lambda: rss[0], interval_s=0.0
    )
    sched = await make(engine, memory_guard=guard, metrics=metrics)
    accepted = sched.open_stream()
    accepted.add(1.0)
    sched.admit(accepted, {"sine": [Work((0, 0), 0, 1.0)]})
    rss[0] = 200 * 2**20
    with pytest.raises(OverloadedError) as info:
        await sched.synthesize("sine", seg("new"))
    assert info.value.code == "memory"
    assert (await sched.synthesize("sine", seg("follow"), playback=accepted)).duration_s > 0
    assert metrics.registry.get_sample_value("ttsgate_rejected_total", {"reason": "memory"}) == 1


async def test_lifecycle_errors() -> None:
    engine = RecordingSine()
    sched = Scheduler({"sine": engine})
    with pytest.raises(NotReadyError):
        await sched.synthesize("sine", seg("before start"))
    await sched.start()
    with pytest.raises(NotFoundError):
        await sched.synthesize("nope", seg("x"))
    blocker = await hold_worker(sched, engine)
    waiting = asyncio.create_task(sched.synthesize("sine", seg("waiting")))
    await wait_for(lambda: sched.stats("sine")["depth"] == 1)
    closing = asyncio.create_task(sched.close())
    with pytest.raises(NotReadyError):
        await waiting
    engine.gate.set()
    await closing
    assert (await blocker).duration_s > 0  # running work finishes
    with pytest.raises(NotReadyError):
        await sched.synthesize("sine", seg("after close"))


def test_memory_guard_samples_at_most_every_interval() -> None:
    now = [0.0]
    rss = [50 * 2**20]
    reads: list[int] = []

    def read_rss() -> int:
        reads.append(rss[0])
        return rss[0]

    guard = MemoryGuard(
        memory_limit_mb=100, gpu_memory_fraction=1.0, clock=lambda: now[0], rss_reader=read_rss
    )
    assert guard.pressure() is None
    rss[0] = 200 * 2**20
    now[0] = 0.2
    assert guard.pressure() is None  # still the cached sample
    now[0] = 0.6
    assert guard.pressure() is not None
    assert len(reads) == 2
    with pytest.raises(OverloadedError):
        guard.check()


def test_memory_guard_gpu_fraction_and_off_switches() -> None:
    assert MemoryGuard(memory_limit_mb=0, gpu_memory_fraction=1.0).pressure() is None
    hot = MemoryGuard(gpu_memory_fraction=0.9, gpu_reader=lambda: 0.95)
    assert "GPU" in (hot.pressure() or "")

    def broken() -> float | None:
        raise RuntimeError("nvml died")

    assert MemoryGuard(gpu_memory_fraction=0.9, gpu_reader=broken).pressure() is None
    real = MemoryGuard(memory_limit_mb=10**6)  # real psutil; NVML absent or present, never raises
    assert real.pressure() is None
    assert real.rss_bytes > 0
    real.close()


async def test_engine_verdicts_pass_through_unwrapped() -> None:
    """An engine that refuses with a TTSGateError (e.g. GPU memory) keeps its status, not a 500."""
    from ttsgate.engines.base import EngineSpec, SynthesisInput
    from ttsgate.engines.sine import SineEngine
    from ttsgate.exceptions import OverloadedError
    from ttsgate.scheduler import Scheduler

    class Refusing(SineEngine):
        def synthesize(self, batch: object) -> list[AudioChunk]:
            raise OverloadedError("GPU memory above the guard", retry_after_s=3, code="memory")

    engine = Refusing(EngineSpec(name="r", kind="sine"))
    engine.load()
    scheduler = Scheduler({"r": engine})
    await scheduler.start()
    try:
        with pytest.raises(OverloadedError) as info:
            await scheduler.synthesize("r", SynthesisInput("你好", "zh"))
        assert info.value.code == "memory"
        assert info.value.retry_after_s == 3
    finally:
        await scheduler.close()


def test_engine_table_overrides_the_scheduler_settings() -> None:
    from ttsgate.exceptions import InvalidRequestError
    from ttsgate.voices import VoiceTable

    def table(**limits: object) -> VoiceTable:
        return VoiceTable.from_mapping(
            {
                "engines": {"sine": {"kind": "sine", "char_s": 0.01, **limits}},
                "voices": {"v": {"engine": "sine", "language": "en"}},
                "languages": {"en": "v"},
            }
        )

    spec = table(max_queue=2, max_wait_ms=3, max_queue_wait_s=0.5, workers=2, max_batch_size=1).engines[
        "sine"
    ]
    assert "max_queue" not in spec.options  # limits are not engine options
    sched = Scheduler(
        {"sine": SineEngine(spec)},
        max_queue=64,
        max_wait_ms=5.0,
        overrides={"sine": EngineLimits.from_spec(spec)},
    )
    state = sched._lane("sine").state  # white-box: the lane's effective limits
    assert (state.max_queue, state.max_wait_s, state.max_queue_wait_s) == (2, 0.003, 0.5)
    assert (state.work.workers, state.max_batch_size) == (2, 1)
    for bad in ({"max_queue": 0}, {"max_queue_wait_s": -1}, {"workers": 1.5}, {"max_wait_ms": "5"}):
        with pytest.raises(InvalidRequestError, match=next(iter(bad))):
            table(**bad)


async def test_expected_wait_gauge_follows_the_queue(make: Callable[..., Awaitable[Scheduler]]) -> None:
    metrics = Metrics("test")
    engine = RecordingSine()
    sched = await make(engine, max_batch_size=1, max_wait_ms=0, metrics=metrics)

    def gauge() -> float:
        value = metrics.registry.get_sample_value("ttsgate_queue_expected_wait_seconds", {"engine": "sine"})
        return value or 0.0

    await sched.synthesize("sine", seg("x" * 28))  # times one batch: the pace is known from here on
    engine.gate.clear()
    running = asyncio.create_task(sched.synthesize("sine", seg("x" * 28)))
    await asyncio.to_thread(engine.entered.wait, 5)
    queued = asyncio.create_task(sched.synthesize("sine", seg("x" * 28)))
    await wait_for(lambda: gauge() > 0)  # the queued job's expected synthesis
    engine.gate.set()
    await asyncio.gather(running, queued)
    await wait_for(lambda: gauge() == 0)
