"""Every Prometheus metric ttsgate exports, declared in one place, on a registry owned by the app.

One ``Metrics`` object per app (never module globals), so tests and several apps in one process do
not share counters. The seed's dashboards used ``tts_req_total`` and ``tts_req_duration_seconds``;
they are exported under those names too (see ``docs/metrics.md``).
"""

from __future__ import annotations

from collections.abc import Iterable

import psutil
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS_TYPE

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

__all__ = ["CONTENT_TYPE_LATEST", "OPENMETRICS_TYPE", "REJECT_REASONS", "SPEECH_ROUTES", "Metrics"]

# The label values known before any event: exported at 0 from the start (init_labels).
REJECT_REASONS = ("realtime", "queue_full", "queue_wait", "memory")
SPEECH_ROUTES = ("/v1/audio/speech", "/tts", "/api/chatts", "/v1/chat/speech")


class Metrics:
    def __init__(self, version: str, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.build_info = Info("ttsgate_build", "ttsgate build information", registry=r)
        self.build_info.info({"version": version})
        self.requests = Counter(
            "ttsgate_requests", "HTTP requests by route and status", ["route", "status"], registry=r
        )
        self.request_duration = Histogram(
            "ttsgate_request_duration_seconds",
            "Request duration (to the last byte)",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        # The seed's names, kept so its dashboards keep working.
        self.seed_requests = Counter("tts_req", "Total TTS requests (seed-compatible name)", registry=r)
        self.seed_duration = Histogram(
            "tts_req_duration_seconds",
            "Request latency (seed-compatible name)",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.time_to_first_audio = Histogram(
            "ttsgate_time_to_first_audio_seconds",
            "Request start to first audio byte",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.audio_seconds = Counter(
            "ttsgate_audio_seconds", "Seconds of audio produced by engines", ["engine"], registry=r
        )
        self.synthesis_rtf = Histogram(
            "ttsgate_synthesis_real_time_factor",
            "Synthesis wall time / audio duration per batch",
            ["engine"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 2, 5),
            registry=r,
        )
        self.segments_synthesized = Counter(
            "ttsgate_segments_synthesized",
            "Segments that actually ran an engine (cache misses)",
            ["engine"],
            registry=r,
        )
        self.queue_depth = Gauge("ttsgate_queue_depth", "Jobs waiting per engine", ["engine"], registry=r)
        self.queue_expected_wait = Gauge(
            "ttsgate_queue_expected_wait_seconds",
            "Expected wait of a job queued now (queued speech x measured pace; what admission checks)",
            ["engine"],
            registry=r,
        )
        self.queue_wait = Histogram(
            "ttsgate_queue_wait_seconds",
            "Time a job waited before its batch started",
            ["engine"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "ttsgate_batch_size",
            "Jobs per engine batch",
            ["engine"],
            buckets=(1, 2, 3, 4, 6, 8, 12, 16, 32),
            registry=r,
        )
        self.deadline_misses = Counter(
            "ttsgate_deadline_misses",
            "Segments whose synthesis ended after their playback deadline (first segment: the TTFA "
            "target; later ones: when the audio ahead of them has played)",
            ["engine"],
            registry=r,
        )
        self.active_streams = Gauge(
            "ttsgate_active_streams", "Accepted streams with synthesis still reserved", ["engine"], registry=r
        )
        self.rejected = Counter(
            "ttsgate_rejected",
            "Requests refused before any work (reason: realtime, queue_full, queue_wait, memory)",
            ["reason"],
            registry=r,
        )
        self.engine_errors = Counter("ttsgate_engine_errors", "Failed engine batches", ["engine"], registry=r)
        self.cache_requests = Counter(
            "ttsgate_cache_requests", "Cache lookups by backend and result", ["backend", "result"], registry=r
        )
        self.cache_errors = Counter(
            "ttsgate_cache_errors", "Cache backend failures (served uncached)", ["backend"], registry=r
        )
        self.process_rss = Gauge("ttsgate_process_rss_bytes", "Resident memory of the process", registry=r)
        self.process_rss.set_function(_ProcessRSS())  # read at scrape time
        self.gpu_memory = Gauge("ttsgate_gpu_memory_bytes", "GPU memory used", ["device"], registry=r)
        self.engine_ready = Gauge(
            "ttsgate_engine_ready", "1 when the engine is loaded and warm", ["engine"], registry=r
        )
        self.key_requests = Counter(
            "ttsgate_key_requests", "Requests admitted per API key (TTSGATE_API_KEYS)", ["key"], registry=r
        )
        self.key_characters = Counter(
            "ttsgate_key_input_characters", "Input characters charged per API key", ["key"], registry=r
        )

    def init_keys(self, names: list[str]) -> None:
        """Every configured key's counters at 0, so rates and alerts work from the start."""
        for name in names:
            self.key_requests.labels(name)
            self.key_characters.labels(name)

    def init_labels(self, *, engines: Iterable[str], cache_backend: str) -> None:
        """Create every labelled series whose label values are known now, at 0, so that rates,
        ratios and alerts work from the first scrape (a series that appears only with its first
        event has no rate before it, and ``increase()`` misses that first event)."""
        for engine in engines:
            for family in (
                self.audio_seconds, self.segments_synthesized, self.deadline_misses, self.engine_errors,
                self.queue_depth, self.queue_expected_wait, self.active_streams, self.engine_ready,
                self.synthesis_rtf, self.queue_wait, self.batch_size,
            ):  # fmt: skip
                family.labels(engine)
        for reason in REJECT_REASONS:
            self.rejected.labels(reason)
        for route in SPEECH_ROUTES:
            self.time_to_first_audio.labels(route)
            self.request_duration.labels(route)
        for result in ("hit", "miss"):
            self.cache_requests.labels(cache_backend, result)
        self.cache_errors.labels(cache_backend)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _ProcessRSS:
    """Reads this process's resident memory when Prometheus scrapes (0 if the probe fails)."""

    def __init__(self) -> None:
        self._process: psutil.Process | None = None

    def __call__(self) -> float:
        try:
            if self._process is None:
                self._process = psutil.Process()
            return float(self._process.memory_info().rss)
        except Exception:  # never fail a scrape over a probe
            return 0.0
