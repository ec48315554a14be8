"""Refuse new work while memory is short: process RSS above a limit, or GPU memory above a fraction.

Cheap by design: ``pressure()`` is called on every admission, so it re-samples at most every
``interval_s`` (0.5 s) and otherwise answers from the last sample. The GPU is read through NVML
(``nvidia-ml-py``, module ``pynvml``) when it is importable and finds a device; otherwise the GPU
check is skipped. Only the admission of *new* requests is refused; accepted work always finishes.

Reclaiming before refusing (``reclaim``: the Runtime passes ``malloc.trim``). Much of an RSS above
the limit can be freed memory the C allocator still holds: an edge server after a burst of long
inputs sat at 434 MB, over a 430 MB limit, refusing every request while idle; ``malloc_trim`` took it
to 398 MB. So when a sample is over the limit the guard hands freed memory back (in a worker thread:
a trim walks the whole heap) and samples again at once; at most once per ``reclaim_interval_s``
(2 s) and one at a time, so a refusal storm does not trim hundreds of times a second. Admission is
synchronous on the event loop and cannot wait for the thread: the request that found RSS over the
limit is refused (503 + Retry-After, 5 s) while the trim runs, and the next admission (its retry,
any other client's request, or ``/ready``) sees the new sample. Reclaiming on *idle* means this
rarely has to happen: once the server has had no work for ``idle_s`` (1 s) after handling
requests, the guard trims (``watch_idle``), so the freed pages of a burst go back before the next
request arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from collections.abc import Callable
from typing import Any

import psutil

from ttsgate.exceptions import OverloadedError
from ttsgate.metrics import Metrics

log = logging.getLogger(__name__)

MEMORY_RETRY_AFTER_S = 5.0
RECLAIM_INTERVAL_S = 2.0  # at most one reclaim (malloc_trim) per this many seconds
IDLE_S = 1.0  # reclaim once the server has had no work for this long after a burst


class MemoryGuard:
    """``memory_limit_mb`` (0 = off) and ``gpu_memory_fraction`` (>= 1 = off) bound new admissions.

    ``reclaim``: hands freed memory back to the system (``malloc.trim``), run in a worker thread
    when RSS is over the limit and when the server goes idle (module docstring); None: never.
    ``rss_reader`` / ``gpu_reader`` (bytes; fraction or None) and ``clock`` replace the real probes
    in tests.
    """

    def __init__(
        self,
        memory_limit_mb: int = 0,
        gpu_memory_fraction: float = 0.9,
        *,
        interval_s: float = 0.5,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
        rss_reader: Callable[[], int] | None = None,
        gpu_reader: Callable[[], float | None] | None = None,
        reclaim: Callable[[], object] | None = None,
        reclaim_interval_s: float = RECLAIM_INTERVAL_S,
    ) -> None:
        self.rss_limit_bytes = memory_limit_mb * 1024 * 1024
        self.gpu_memory_fraction = gpu_memory_fraction
        self.interval_s = interval_s
        self._metrics = metrics
        self._clock = clock
        self._rss_reader = rss_reader or self._read_rss
        self._gpu_reader = gpu_reader
        self._process: psutil.Process | None = None
        self._nvml: Any = None
        self._gpu_handles: list[Any] | None = None  # None: not probed yet; []: no GPU / no NVML
        self._sampled_at = -float("inf")
        self.rss_bytes = 0
        self.gpu_fraction: float | None = None
        self._reclaim = reclaim
        self.reclaim_interval_s = reclaim_interval_s
        self._reclaimed_at = -float("inf")
        self._reclaiming: asyncio.Task[None] | None = None
        self.reclaims = 0  # reclaims run (tests, logs)
        self.admissions = 0  # admissions checked: activity the idle reclaim looks for
        self._activity = asyncio.Event() if reclaim is not None else None
        self._idle_task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self.rss_limit_bytes > 0 or self.gpu_memory_fraction < 1.0

    def pressure(self) -> str | None:
        """Why new work should be refused now, or None when memory is fine."""
        if not self.enabled:
            return None
        now = self._clock()
        if now - self._sampled_at >= self.interval_s:
            self._sampled_at = now
            self._sample()
        if self._over_rss():  # hand freed memory back: in a worker thread, the next sample sees it;
            self._start_reclaim()  # without an event loop here, sampled again at once
        if self._over_rss():
            return (  # MiB (2**20 bytes) as TTSGATE_MEMORY_LIMIT_MB and /ready's rss_mb count them
                f"process memory {self.rss_bytes / 2**20:.0f} MiB is above the "
                f"{self.rss_limit_bytes / 2**20:.0f} MiB limit"
            )
        if self.gpu_fraction is not None and self.gpu_fraction > self.gpu_memory_fraction:
            return f"GPU memory {self.gpu_fraction:.0%} used, above the {self.gpu_memory_fraction:.0%} limit"
        return None

    def check(self, retry_after_s: float = MEMORY_RETRY_AFTER_S) -> None:
        """Raise ``OverloadedError`` (code ``memory``) when ``pressure()`` says so."""
        self.admissions += 1
        if self._activity is not None:
            self._activity.set()
        reason = self.pressure()
        if reason is not None:
            raise OverloadedError(
                f"server is short of memory: {reason}", retry_after_s=retry_after_s, code="memory"
            )

    # -- reclaiming freed memory ---------------------------------------------------------------

    def _over_rss(self) -> bool:
        return bool(self.rss_limit_bytes) and self.rss_bytes > self.rss_limit_bytes

    def _start_reclaim(self) -> bool:
        """Start a reclaim in a worker thread unless one runs or ran less than
        ``reclaim_interval_s`` ago; without an event loop (synchronous callers, tests) run it here.
        True when it ran here (and sampled again)."""
        if self._reclaim is None or (self._reclaiming is not None and not self._reclaiming.done()):
            return False
        if self._clock() - self._reclaimed_at < self.reclaim_interval_s:
            return False
        self._reclaimed_at = self._clock()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._run_reclaim()
            self._resample()
            return True
        self._reclaiming = asyncio.create_task(self.reclaim(), name="ttsgate-memory-reclaim")
        return False

    async def reclaim(self) -> None:
        """Hand freed memory back (off the event loop), then sample again."""
        await asyncio.to_thread(self._run_reclaim)
        self._resample()

    def _run_reclaim(self) -> None:
        assert self._reclaim is not None
        before = self.rss_bytes
        try:
            self._reclaim()
        except Exception:  # reclaiming is best effort
            log.warning("reclaiming freed memory failed", exc_info=True)
        self.reclaims += 1
        log.debug("reclaimed freed memory (RSS %.0f MiB before)", before / 2**20)

    def _resample(self) -> None:
        self._sampled_at = self._clock()
        self._sample()

    async def watch_idle(self, is_idle: Callable[[], bool], idle_s: float = IDLE_S) -> None:
        """Run for the server's life (the Runtime's task): after admissions, once ``is_idle()`` has
        held and no admission came for ``idle_s``, reclaim freed memory (rate-limited like the
        reclaim on pressure). Sleeps on an event while nothing is admitted."""
        if self._activity is None:
            return
        while True:
            await self._activity.wait()
            self._activity.clear()
            seen = self.admissions
            while True:
                await asyncio.sleep(idle_s)
                if self.admissions == seen and is_idle():
                    break
                seen = self.admissions
            self._activity.clear()  # the admissions of this burst are covered by this reclaim
            wait = self._reclaimed_at + self.reclaim_interval_s - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            if self._reclaiming is not None and not self._reclaiming.done():
                await self._reclaiming
            self._reclaimed_at = self._clock()
            await self.reclaim()
            if self._over_rss() and is_idle():  # nothing left to free: the limit is below what is used
                log.warning(
                    "process memory %.0f MiB stays above the %.0f MiB limit with no work in progress "
                    "(memory in use, not freed memory): every new request is refused until it falls; "
                    "raise TTSGATE_MEMORY_LIMIT_MB",
                    self.rss_bytes / 2**20,
                    self.rss_limit_bytes / 2**20,
                )

    def start(self, is_idle: Callable[[], bool]) -> None:
        """Start the idle reclaim (``watch_idle``); a no-op without ``reclaim``."""
        if self._activity is not None and self._idle_task is None:
            self._idle_task = asyncio.create_task(self.watch_idle(is_idle), name="ttsgate-idle-reclaim")

    async def aclose(self) -> None:
        """Stop the idle reclaim and wait for a reclaim in progress; then ``close``."""
        tasks = [t for t in (self._idle_task, self._reclaiming) if t is not None]
        if self._idle_task is not None:
            self._idle_task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.close()

    def close(self) -> None:
        if self._nvml is not None and self._gpu_handles:
            with contextlib.suppress(Exception):
                self._nvml.nvmlShutdown()
        self._gpu_handles = []

    # -- probes --------------------------------------------------------------------------------

    def _sample(self) -> None:
        if self.rss_limit_bytes or self._metrics is not None:
            try:
                self.rss_bytes = self._rss_reader()
            except Exception:  # a failing probe must never refuse work
                log.warning("reading process RSS failed", exc_info=True)
                self.rss_bytes = 0
            if self._metrics is not None:
                self._metrics.process_rss.set(self.rss_bytes)
        if self.gpu_memory_fraction < 1.0:
            reader = self._gpu_reader or self._read_gpu
            try:
                self.gpu_fraction = reader()
            except Exception:
                log.warning("reading GPU memory failed; GPU memory check disabled", exc_info=True)
                self.gpu_fraction = None
                self._gpu_reader = lambda: None

    def _read_rss(self) -> int:
        if self._process is None:
            self._process = psutil.Process()
        return int(self._process.memory_info().rss)

    def _read_gpu(self) -> float | None:
        if self._gpu_handles is None:
            self._gpu_handles = []
            try:
                self._nvml = importlib.import_module("pynvml")
                self._nvml.nvmlInit()
                count = int(self._nvml.nvmlDeviceGetCount())
                self._gpu_handles = [self._nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            except Exception:  # not installed, no driver, no device: skip the GPU check
                log.debug("NVML unavailable; GPU memory is not checked", exc_info=True)
        if not self._gpu_handles:
            return None
        worst = 0.0
        for index, handle in enumerate(self._gpu_handles):
            info = self._nvml.nvmlDeviceGetMemoryInfo(handle)
            if self._metrics is not None:
                self._metrics.gpu_memory.labels(device=str(index)).set(float(info.used))
            if info.total:
                worst = max(worst, float(info.used) / float(info.total))
        return worst
