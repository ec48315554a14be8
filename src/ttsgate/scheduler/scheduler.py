"""Dynamic batching across requests: one bounded queue, one batcher task and a worker pool per engine.

A request is a *stream*: ``open_stream`` gives it a ``Playback`` (when its listener needs each
segment), ``admit`` accepts or refuses its whole expected work on every engine it uses (real-time
feasibility, see ``state.QueueState``), and each ``synthesize(..., playback=, segment=, unit=)`` call
queues one job in its engine's ``QueueState``, ranked by the segment's playback deadline. The
engine's batcher task waits for a free worker, asks the state for the next batch (same
``batch_key``, up to the effective batch size, released when full or after ``max_wait_ms``) and
runs it in the engine's executor, so segments of different users share one model call and the
event loop never blocks on synthesis. A ``synthesize`` call without a playback is a one-segment
stream of its own, admitted the same way.

Threads, not processes: the engines (onnxruntime for Piper, TensorFlow Lite for the Mandarin voice)
release the GIL inside their kernels, so worker threads give real parallelism, share the one loaded
copy of each model (processes would load it per worker: memory times N) and hand numpy arrays back
without pickling. Measured (``benchmarks/threads_vs_processes.md``): two worker processes do 0.97× the
throughput of two worker threads for both CPU engines and cost 1-2 GB more memory. On the 2-core
target two workers per engine (one per core, the default) give 1.3-1.7× the throughput of one;
each worker's engine sizes its intra-op threads to ``cores ÷ workers``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from ttsgate.audio.chunk import AudioChunk
from ttsgate.engines.base import Engine, SynthesisInput
from ttsgate.exceptions import NotFoundError, NotReadyError, OverloadedError, RequestTimeoutError
from ttsgate.metrics import Metrics
from ttsgate.scheduler.deadline import Playback
from ttsgate.scheduler.estimate import expected_speech_s
from ttsgate.scheduler.lane import EngineLimits, Lane, run_batch
from ttsgate.scheduler.state import TTFA_TARGET_S, Job, QueueState, Work

if TYPE_CHECKING:
    from ttsgate.scheduler.guard import MemoryGuard

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self,
        engines: Mapping[str, Engine],
        *,
        max_queue: int = 2048,
        max_batch_size: int = 8,
        max_wait_ms: float = 5.0,
        max_queue_wait_s: float = 0.0,
        workers: int = 1,
        metrics: Metrics | None = None,
        overrides: Mapping[str, EngineLimits] | None = None,
        memory_guard: MemoryGuard | None = None,
        clock: Callable[[], float] = time.monotonic,
        warmup: Mapping[str, Sequence[tuple[float, float]]] | None = None,
        ttfa_target_s: float = TTFA_TARGET_S,
        realtime: bool = True,
    ) -> None:
        self._metrics = metrics
        self._guard = memory_guard
        self._clock = clock
        self.ttfa_target_s = ttfa_target_s
        self._started = False
        self._closed = False
        self._lanes: dict[str, Lane] = {}
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
                samples=(warmup or {}).get(name, ()),  # timed at warm-up; else from the first batch
                realtime=realtime,
            )
            executor = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix=f"ttsgate-{name}")
            self._lanes[name] = Lane(engine, state, n_workers, executor, asyncio.Semaphore(n_workers))

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

    def open_stream(self) -> Playback:
        """A new stream's playback clock, started now."""
        return Playback(self._clock(), self.ttfa_target_s)

    def admit(self, playback: Playback, work: Mapping[str, Sequence[Work]]) -> None:
        """Accept a new stream's expected ``work`` per engine, all or nothing, or raise
        ``OverloadedError`` (503 + Retry-After; nothing stays reserved). Also NotReadyError,
        NotFoundError."""
        lanes = [(self._lane(name), units) for name, units in work.items()]
        if self._closed or not self._started:
            raise NotReadyError("the synthesis scheduler is not running")
        if self._guard is not None:
            try:
                self._guard.check()
            except OverloadedError:
                self._reject("memory")
                raise
        now = self._clock()
        done: list[Lane] = []
        try:
            for lane, units in lanes:
                lane.state.admit(playback, units, now)
                done.append(lane)
        except OverloadedError as exc:
            for lane in done:
                lane.state.close_stream(playback)
            self._reject(exc.code or "queue_full")  # realtime, queue_full (count) or queue_wait (time)
            log.info("refused a stream (%s): %s", exc.code, exc.message)
            raise
        for lane in done:
            self._set_depth(lane)

    def reserve(self, playback: Playback, engine: str, work: Sequence[Work]) -> None:
        """Reserve an accepted live stream's next segment (never refused)."""
        self._lane(engine).state.reserve(playback, work)

    def release(self, playback: Playback, engine: str, unit: Hashable) -> None:
        """A reserved unit was served without synthesis (cache hit, shared with another request)."""
        self._lane(engine).state.release(playback, unit)

    def first_audio(self, playback: Playback, now: float) -> None:
        """The stream's first audio went out at ``now`` (``Playback.started``): its later segments,
        held until then (``QueueState``), may run."""
        if playback.play_start is None:
            playback.started(now)
            for lane in self._lanes.values():
                lane.wake.set()

    def close_stream(self, playback: Playback) -> None:
        """The stream ended: whatever it still had reserved is freed."""
        for lane in self._lanes.values():
            lane.state.close_stream(playback)
            self._set_depth(lane)

    async def synthesize(
        self,
        engine: str,
        item: SynthesisInput,
        *,
        playback: Playback | None = None,
        segment: int = 0,
        unit: Hashable = None,
        deadline: float | None = None,
        on_piece: Callable[[AudioChunk], None] | None = None,
    ) -> AudioChunk:
        """Speak one segment (run) with ``engine``, batched with other callers' segments.

        ``on_piece``: called on the event loop with each piece of the audio as the engine makes it,
        when the engine streams it (``Engine.pieces``) and the job runs alone; the pieces joined are
        the returned audio. Its cost for admission and the engine's pace is the whole synthesis.

        With ``playback`` the job belongs to an admitted stream: it ranks by ``segment``'s playback
        deadline and its start frees the reserved ``unit``. Without, it is a one-segment stream of
        its own, admitted here (refused like a request). ``deadline`` (fail after) is an absolute
        time on the scheduler's clock (``time.monotonic`` by default): the pipeline gives each segment
        the request timeout from when it asks for it. Raises OverloadedError,
        RequestTimeoutError, EngineError, NotReadyError, NotFoundError.
        """
        lane = self._lane(engine)
        if self._closed or not self._started:
            raise NotReadyError("the synthesis scheduler is not running")
        now = self._clock()
        if deadline is not None and deadline <= now:
            raise RequestTimeoutError("the segment's deadline (request timeout) passed before its synthesis")
        own = playback is None
        if playback is None:
            playback = self.open_stream()
            speech_s = expected_speech_s(item.text, item.speed)
            segment, unit = playback.add(speech_s), 0
            self.admit(playback, {engine: [Work(unit, segment, speech_s)]})
        loop = asyncio.get_running_loop()
        future: asyncio.Future[AudioChunk] = loop.create_future()
        key = lane.engine.batch_key(item)
        job = Job(item, key, future, now, playback, segment, unit, deadline, on_piece=on_piece)
        lane.state.append(job)
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
                    f"segment not synthesized within its deadline ({deadline - now:.1f} s after queueing)"
                ) from None
        finally:
            if not future.done():
                future.cancel()  # our caller left: a waiting job is skipped, a running one dropped
            if lane.state.discard(job):
                self._set_depth(lane)
            if own:
                self.close_stream(playback)

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
            "overhead_s": lane.state.work.overhead,  # engine seconds per call
            "overrun": lane.state.work.overrun,  # how much batches lately took longer than estimated
            "released_total": float(lane.state.released_total),
            "rejected_total": float(lane.state.rejected_total),
            "dropped_total": float(lane.state.dropped_total),
            "expired_total": float(lane.state.expired_total),
            "missed_total": float(lane.state.missed_total),  # segments ready after their playback deadline
            "streams": float(lane.state.streams),
        }

    # -- internals -----------------------------------------------------------------------------

    def _lane(self, engine: str) -> Lane:
        lane = self._lanes.get(engine)
        if lane is None:
            raise NotFoundError(f"engine {engine!r} is not loaded; loaded: {', '.join(self._lanes)}")
        return lane

    async def _batch_loop(self, lane: Lane) -> None:
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
            task = asyncio.create_task(run_batch(lane, batch, now, self._metrics, self._clock))
            lane.running.add(task)
            task.add_done_callback(lane.running.discard)

    def _set_depth(self, lane: Lane) -> None:
        if self._metrics is not None:
            self._metrics.queue_depth.labels(engine=lane.state.name).set(len(lane.state))
            wait = lane.state.expected_wait(self._clock())
            self._metrics.queue_expected_wait.labels(engine=lane.state.name).set(wait or 0.0)
            self._metrics.active_streams.labels(engine=lane.state.name).set(lane.state.streams)

    def _reject(self, reason: str) -> None:
        if self._metrics is not None:
            self._metrics.rejected.labels(reason=reason).inc()
