"""Dynamic batching across requests: one bounded queue, one batcher task and a worker pool per engine.

Every ``synthesize()`` call queues one job in its engine's ``QueueState``; the engine's batcher task
waits for a free worker, asks the state for the next batch (same ``batch_key``, up to the effective
batch size, released when full or after ``max_wait_ms``) and runs it in the engine's executor, so
segments of different users share one model call and the event loop never blocks on synthesis.

Threads, not processes: the engines (onnxruntime for Piper, TensorFlow Lite for the Mandarin voice)
release the GIL inside their kernels, so worker threads give real parallelism, share the one loaded
copy of each model (processes would load it per worker: memory times N) and hand numpy arrays back
without pickling. Measured (``benchmarks/threads_vs_processes.md``): two worker processes do 0.97× the
throughput of two worker threads for both CPU engines and cost 1-2 GB more memory. On the 2-core
target one worker per engine is the default (lowest latency for a lone request); two give 1.3-1.7×
the throughput of a busy server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ttsgate.audio.chunk import AudioChunk
from ttsgate.engines.base import Engine, EngineSpec, SynthesisInput
from ttsgate.exceptions import (
    EngineError,
    NotFoundError,
    NotReadyError,
    OverloadedError,
    RequestTimeoutError,
    TTSGateError,
)
from ttsgate.metrics import Metrics
from ttsgate.scheduler.state import Job, QueueState

if TYPE_CHECKING:
    from ttsgate.scheduler.guard import MemoryGuard

log = logging.getLogger(__name__)


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
class _Lane:
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


class Scheduler:
    def __init__(
        self,
        engines: Mapping[str, Engine],
        *,
        max_queue: int = 64,
        max_batch_size: int = 8,
        max_wait_ms: float = 5.0,
        max_queue_wait_s: float = 0.0,
        workers: int = 1,
        metrics: Metrics | None = None,
        overrides: Mapping[str, EngineLimits] | None = None,
        memory_guard: MemoryGuard | None = None,
        clock: Callable[[], float] = time.monotonic,
        paces: Mapping[str, float] | None = None,
    ) -> None:
        self._metrics = metrics
        self._guard = memory_guard
        self._clock = clock
        self._started = False
        self._closed = False
        self._lanes: dict[str, _Lane] = {}
        overrides = overrides or {}
        for name, engine in engines.items():
            lim = overrides.get(name, EngineLimits())
            n_workers = max(1, lim.workers or workers)
            batch = min(engine.max_batch_size, max_batch_size, lim.max_batch_size or max_batch_size)
            state = QueueState(
                name=name,
                max_queue=lim.max_queue or max_queue,
                max_batch_size=max(1, batch),
                max_wait_ms=max_wait_ms if lim.max_wait_ms is None else lim.max_wait_ms,
                max_queue_wait_s=max_queue_wait_s if lim.max_queue_wait_s is None else lim.max_queue_wait_s,
                workers=n_workers,
                pace=(paces or {}).get(name),  # measured at warm-up; else after the first batch
            )
            executor = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix=f"ttsgate-{name}")
            self._lanes[name] = _Lane(engine, state, n_workers, executor, asyncio.Semaphore(n_workers))

    @property
    def engines(self) -> list[str]:
        return list(self._lanes)

    async def start(self) -> None:
        """Start one batcher task per engine (engines must already be loaded)."""
        if self._closed:
            raise NotReadyError("scheduler is closed")
        if self._started:
            return
        self._started = True
        for name, lane in self._lanes.items():
            lane.batcher = asyncio.create_task(self._batch_loop(lane), name=f"ttsgate-batcher-{name}")

    async def close(self, grace_s: float = 10.0) -> None:
        """Refuse new work, fail waiting jobs (NotReadyError), let running batches finish for up to
        ``grace_s`` (then fail their callers with EngineError) and shut the executors down."""
        if self._closed:
            return
        self._closed = True
        for lane in self._lanes.values():
            if lane.batcher is not None:
                lane.batcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lane.batcher
            for job in lane.state.drain():
                if not job.waiter.done():
                    job.waiter.set_exception(NotReadyError("server is shutting down"))
            self._set_depth(lane)
        running = [t for lane in self._lanes.values() for t in lane.running]
        if running:
            _, pending = await asyncio.wait(running, timeout=grace_s)
            for task in pending:
                task.cancel()  # the thread runs on, but its callers get EngineError now
            if pending:
                await asyncio.wait(pending)
        for lane in self._lanes.values():
            lane.executor.shutdown(wait=False, cancel_futures=True)

    async def synthesize(
        self,
        engine: str,
        item: SynthesisInput,
        *,
        priority: int = 1,
        admit: bool = True,
        deadline: float | None = None,
        since: float | None = None,
        speech_before_s: float = 0.0,
        on_queued: Callable[[], None] | None = None,
    ) -> AudioChunk:
        """Speak one segment with ``engine``, batched with other callers' segments.

        ``priority`` 0 is a request's first segment (served ahead of later ones, 1). ``admit=False``
        marks a follow-up segment of an accepted request: never refused for a full queue or memory.
        ``deadline`` (fail after) and ``since`` (the request's start) are absolute times on the
        scheduler's clock (``time.monotonic`` by default); ``since`` and ``speech_before_s`` (the
        request's expected speech before this segment) order the queue (see ``QueueState``).
        ``on_queued`` is called once the job is in the queue (admitted).
        Raises OverloadedError, RequestTimeoutError, EngineError, NotReadyError, NotFoundError.
        """
        lane = self._lane(engine)
        if self._closed or not self._started:
            raise NotReadyError("the synthesis scheduler is not running")
        now = self._clock()
        if deadline is not None and deadline <= now:
            raise RequestTimeoutError("the request's deadline passed before synthesis")
        if admit and self._guard is not None:
            try:
                self._guard.check()
            except OverloadedError:
                self._reject("memory")
                raise
        loop = asyncio.get_running_loop()
        future: asyncio.Future[AudioChunk] = loop.create_future()
        key = lane.engine.batch_key(item)
        job = Job(item, key, future, now, priority, deadline, since=since, speech_before_s=speech_before_s)
        try:
            lane.state.append(job, admit=admit)
        except OverloadedError as exc:
            self._reject(exc.code or "queue_full")  # queue_full (count) or queue_wait (time)
            raise
        if on_queued is not None:
            on_queued()
        self._set_depth(lane)
        lane.wake.set()
        try:
            if deadline is None:
                return await future
            try:
                async with asyncio.timeout(deadline - now):
                    return await future
            except TimeoutError:
                raise RequestTimeoutError(
                    f"segment not synthesized within the request's deadline ({deadline - now:.1f} s)"
                ) from None
        finally:
            if not future.done():
                future.cancel()  # our caller left: a waiting job is skipped, a running one dropped
            if lane.state.discard(job):
                self._set_depth(lane)

    def stats(self, engine: str) -> dict[str, float]:
        """Point-in-time load figures of one engine (for /health, logs and tests)."""
        lane = self._lane(engine)
        now = self._clock()
        return {
            "depth": float(len(lane.state)),
            "in_flight": float(lane.in_flight),
            "workers": float(lane.workers),
            "max_batch_size": float(lane.state.max_batch_size),
            "drain_rate": lane.state.drain_rate(now),
            "retry_after_s": lane.state.retry_after(now),
            "expected_wait_s": lane.state.expected_wait(now) or 0.0,
            "pace": lane.state.work.pace or 0.0,  # engine seconds per second of speech (0: unknown)
            "released_total": float(lane.state.released_total),
            "rejected_total": float(lane.state.rejected_total),
            "dropped_total": float(lane.state.dropped_total),
            "expired_total": float(lane.state.expired_total),
        }

    # -- internals -----------------------------------------------------------------------------

    def _lane(self, engine: str) -> _Lane:
        lane = self._lanes.get(engine)
        if lane is None:
            raise NotFoundError(f"engine {engine!r} is not loaded; loaded: {', '.join(self._lanes)}")
        return lane

    async def _batch_loop(self, lane: _Lane) -> None:
        while True:
            await lane.slots.acquire()
            batch: list[Job] | None = None
            try:
                while batch is None:
                    lane.wake.clear()
                    now = self._clock()
                    batch = lane.state.next_batch(now)
                    self._set_depth(lane)
                    if batch is None:
                        timeout = lane.state.next_wakeup(now)
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(timeout):
                                await lane.wake.wait()
            except Exception:  # a bug here must not stop the engine's queue for good
                lane.slots.release()
                log.exception("batcher of engine %s failed; continuing", lane.state.name)
                await asyncio.sleep(0.05)
                continue
            except BaseException:
                lane.slots.release()
                raise
            task = asyncio.create_task(self._run_batch(lane, batch, now))
            lane.running.add(task)
            task.add_done_callback(lane.running.discard)

    async def _run_batch(self, lane: _Lane, batch: list[Job], started: float) -> None:
        name = lane.state.name
        lane.in_flight += len(batch)
        m = self._metrics
        if m is not None:
            m.batch_size.labels(engine=name).observe(len(batch))
            for job in batch:
                m.queue_wait.labels(engine=name).observe(max(0.0, started - job.enqueued))
        items = [job.item for job in batch]
        loop = asyncio.get_running_loop()
        ok = False
        try:
            chunks, wall_s = await loop.run_in_executor(lane.executor, _run_engine, lane.engine, items)
            ok = True
        except BaseException as exc:
            if isinstance(exc, Exception):
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
            lane.state.finished(batch, self._clock(), ok=ok)
            lane.in_flight -= len(batch)
            lane.slots.release()
        audio_s = sum(c.duration_s for c in chunks)
        if m is not None:
            m.segments_synthesized.labels(engine=name).inc(len(batch))
            m.audio_seconds.labels(engine=name).inc(audio_s)
            if audio_s > 0:
                m.synthesis_rtf.labels(engine=name).observe(wall_s / audio_s)
        for job, chunk in zip(batch, chunks, strict=True):
            if not job.waiter.done():  # a cancelled caller's result is dropped
                job.waiter.set_result(chunk)

    def _set_depth(self, lane: _Lane) -> None:
        if self._metrics is not None:
            self._metrics.queue_depth.labels(engine=lane.state.name).set(len(lane.state))
            wait = lane.state.expected_wait(self._clock())
            self._metrics.queue_expected_wait.labels(engine=lane.state.name).set(wait or 0.0)

    def _reject(self, reason: str) -> None:
        if self._metrics is not None:
            self._metrics.rejected.labels(reason=reason).inc()


def _run_engine(engine: Engine, items: Sequence[SynthesisInput]) -> tuple[list[AudioChunk], float]:
    """Worker-thread side of a batch: run the engine, check the answer, time it."""
    t0 = time.perf_counter()
    chunks = engine.synthesize(items)
    wall_s = time.perf_counter() - t0
    if len(chunks) != len(items):
        raise RuntimeError(f"engine returned {len(chunks)} chunks for {len(items)} items")
    return chunks, wall_s
