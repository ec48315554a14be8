"""Refuse new work while memory is short: process RSS above a limit, or GPU memory above a fraction.

Cheap by design: ``pressure()`` is called on every admission, so it re-samples at most every
``interval_s`` (0.5 s) and otherwise answers from the last sample. The GPU is read through NVML
(``nvidia-ml-py``, module ``pynvml``) when it is importable and finds a device; otherwise the GPU
check is skipped. Only the admission of *new* requests is refused; accepted work always finishes.
"""

from __future__ import annotations

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


class MemoryGuard:
    """``memory_limit_mb`` (0 = off) and ``gpu_memory_fraction`` (>= 1 = off) bound new admissions.

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
        if self.rss_limit_bytes and self.rss_bytes > self.rss_limit_bytes:
            return (
                f"process memory {self.rss_bytes / 2**20:.0f} MB is above the "
                f"{self.rss_limit_bytes / 2**20:.0f} MB limit"
            )
        if self.gpu_fraction is not None and self.gpu_fraction > self.gpu_memory_fraction:
            return f"GPU memory {self.gpu_fraction:.0%} used, above the {self.gpu_memory_fraction:.0%} limit"
        return None

    def check(self, retry_after_s: float = MEMORY_RETRY_AFTER_S) -> None:
        """Raise ``OverloadedError`` (code ``memory``) when ``pressure()`` says so."""
        reason = self.pressure()
        if reason is not None:
            raise OverloadedError(
                f"server is short of memory: {reason}", retry_after_s=retry_after_s, code="memory"
            )

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
