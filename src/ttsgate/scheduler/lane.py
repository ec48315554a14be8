"""One engine's lane in the scheduler: its limits, queue state, workers, and the running of a batch.

``run_batch`` is the event-loop side of a batch (metrics, the engine call in the lane's executor,
futures settled, the pace and missed deadlines recorded); ``run_engine`` its worker-thread side, and
``run_pieces`` that of a job alone whose caller takes the audio in pieces (issue #15).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ttsgate.audio.chunk import AudioChunk
from ttsgate.engines.base import Engine, EngineSpec, SynthesisInput
from ttsgate.exceptions import EngineError, InvalidRequestError, TTSGateError
from ttsgate.metrics import Metrics
from ttsgate.scheduler.state import Job, QueueState

log = logging.getLogger("ttsgate.scheduler.scheduler")


@dataclass(frozen=True, slots=True)
class EngineLimits:
    """Per-engine overrides of the scheduler-wide limits (None: use the scheduler's value)."""

    max_batch_size: int | None = None
    max_wait_ms: float | None = None
    max_queue: int | None = None
    workers: int | None = None
    max_queue_wait_s: float | None = None

    @classmethod
    def from_spec(cls, spec: EngineSpec) -> EngineLimits:
        return cls(
            max_batch_size=spec.max_batch_size,
            max_wait_ms=spec.max_wait_ms,
            max_queue=spec.max_queue,
            workers=spec.workers,
            max_queue_wait_s=spec.max_queue_wait_s,
        )


@dataclass(eq=False)
class Lane:
    """Everything the scheduler keeps for one engine."""

    engine: Engine
    state: QueueState
    workers: int
    executor: ThreadPoolExecutor
    slots: asyncio.Semaphore
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    batcher: asyncio.Task[None] | None = None
    running: set[asyncio.Task[None]] = field(default_factory=set)
    in_flight: int = 0


async def run_batch(
    lane: Lane, batch: list[Job], started: float, m: Metrics | None, clock: Callable[[], float]
) -> None:
    """Run one batch in the lane's executor and settle its callers' futures (event-loop side)."""
    name = lane.state.name
    lane.in_flight += len(batch)
    if m is not None:
        m.batch_size.labels(engine=name).observe(len(batch))
        for job in batch:
            m.queue_wait.labels(engine=name).observe(max(0.0, started - job.enqueued))
    items = [job.item for job in batch]
    loop = asyncio.get_running_loop()
    ok = False
    try:
        if len(batch) == 1 and batch[0].on_piece is not None:
            emit = _emitter(loop, batch[0])
            chunks, wall_s = await loop.run_in_executor(
                lane.executor, run_pieces, lane.engine, items[0], emit
            )
        else:
            chunks, wall_s = await loop.run_in_executor(lane.executor, run_engine, lane.engine, items)
        ok = True
    except BaseException as exc:
        if isinstance(exc, InvalidRequestError):
            # The engine refused an input as invalid: a client mistake that got past the checks
            # before the queue (Runtime.check_request), answered 400; not an engine failure.
            log.warning("engine %s refused a batch of %d as invalid: %s", name, len(batch), exc.message)
        elif isinstance(exc, Exception):
            if m is not None:
                m.engine_errors.labels(engine=name).inc()
            log.error("engine %s failed a batch of %d", name, len(batch), exc_info=exc)
        why = f"failed: {exc}" if isinstance(exc, Exception) else "was stopped by shutdown"
        for job in batch:
            if not job.waiter.done():  # one exception object per caller: tracebacks are mutable
                err: BaseException
                if isinstance(exc, TTSGateError):  # the engine's own verdict (e.g. overloaded GPU)
                    err = exc  # shared: our errors carry no per-caller state worth copying
                else:
                    err = EngineError(f"engine {name!r} {why}")
                    err.__cause__ = exc
                job.waiter.set_exception(err)
        if not isinstance(exc, Exception):
            raise
        return
    finally:
        missed = lane.state.finished(batch, clock(), ok=ok)
        if m is not None and missed:
            m.deadline_misses.labels(engine=name).inc(missed)
        lane.in_flight -= len(batch)
        lane.slots.release()
        lane.wake.set()  # jobs held behind this batch's first segments (QueueState._groups) may run
    audio_s = sum(c.duration_s for c in chunks)
    if m is not None:
        m.segments_synthesized.labels(engine=name).inc(len(batch))
        m.audio_seconds.labels(engine=name).inc(audio_s)
        if audio_s > 0:
            m.synthesis_rtf.labels(engine=name).observe(wall_s / audio_s)
    for job, chunk in zip(batch, chunks, strict=True):
        if not job.waiter.done():  # a cancelled caller's result is dropped
            job.waiter.set_result(chunk)


def run_engine(engine: Engine, items: Sequence[SynthesisInput]) -> tuple[list[AudioChunk], float]:
    """Worker-thread side of a batch: run the engine, check the answer, time it."""
    t0 = time.perf_counter()
    chunks = engine.synthesize(items)
    wall_s = time.perf_counter() - t0
    if len(chunks) != len(items):
        raise RuntimeError(f"engine returned {len(chunks)} chunks for {len(items)} items")
    return chunks, wall_s


def _emitter(loop: asyncio.AbstractEventLoop, job: Job) -> Callable[[AudioChunk], None]:
    """A worker-thread callable handing each piece to ``job.on_piece`` on the event loop, in order
    and before the job's future is settled (both go through the loop's FIFO of callbacks); dropped
    once the caller has left."""
    on_piece = job.on_piece
    assert on_piece is not None

    def deliver(piece: AudioChunk) -> None:
        if not job.waiter.done():
            on_piece(piece)

    def emit(piece: AudioChunk) -> None:
        loop.call_soon_threadsafe(deliver, piece)

    return emit


def run_pieces(
    engine: Engine, item: SynthesisInput, emit: Callable[[AudioChunk], None]
) -> tuple[list[AudioChunk], float]:
    """Worker-thread side of a job taken in pieces: each piece of ``engine.pieces(item)`` goes to
    ``emit`` as it comes; the answer is their join (or ``synthesize`` when the engine does not
    stream this item, with nothing emitted), timed as a whole."""
    t0 = time.perf_counter()
    pieces = engine.pieces(item)
    if pieces is None:
        return run_engine(engine, [item])
    parts: list[AudioChunk] = []
    for piece in pieces:
        if piece.sample_rate != engine.sample_rate:
            raise RuntimeError(f"engine piece at {piece.sample_rate} Hz, not {engine.sample_rate}")
        parts.append(piece)
        emit(piece)
    samples = np.concatenate([p.samples for p in parts]) if parts else np.zeros(0, np.float32)
    return [AudioChunk(samples, engine.sample_rate)], time.perf_counter() - t0
