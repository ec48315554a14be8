"""Benchmark records and their aggregation: pure functions over plain dataclasses, JSON in and out.

A run is a list of ``Phase``s (one target at one concurrency level or arrival rate, with its time
window), the ``RequestResult`` of every request, and resource samples of each target's server
process. ``summarize`` turns one phase into a ``Summary``: counts, errors by kind (503 apart),
truncated/corrupt audio, P50/P95/P99 of latency and of time to first audio byte over the successful
requests, throughput in requests/s and audio-seconds/s, and the server's CPU/RSS over the window.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Error kinds a request can end with (None: a complete, decodable response of the expected length).
ERROR_KINDS = ("http_503", "http_4xx", "http_5xx", "timeout", "connect", "aborted", "corrupt", "truncated")


@dataclass(slots=True)
class RequestResult:
    target: str
    phase: str
    text_id: int
    start_s: float  # since the run started
    latency_s: float
    status: int = 0  # 0: no HTTP response
    ttfa_s: float | None = None  # time to the first body byte
    bytes: int = 0
    audio_s: float | None = None  # decoded duration
    expected_s: float | None = None  # decoded duration of a reference response of the same text
    error: str | None = None  # one of ERROR_KINDS

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def end_s(self) -> float:
        return self.start_s + self.latency_s


@dataclass(slots=True)
class Phase:
    target: str
    name: str  # "c=8", "rate=40.0", "sequential", ...
    mode: str  # "closed" | "open" | "sequential"
    level: float  # concurrency, or arrival rate (requests/s)
    t0: float = 0.0
    t1: float = 0.0


@dataclass(slots=True)
class Sample:
    t: float
    cpu_pct: float
    rss_mb: float
    gpu_mb: float | None = None


@dataclass(slots=True)
class Summary:
    target: str
    phase: str
    mode: str
    level: float
    requests: int
    ok: int
    n503: int
    errors: dict[str, int]
    wall_s: float
    rps: float
    audio_rps: float
    latency: dict[str, float]  # p50, p95, p99, mean (ok requests)
    ttfa: dict[str, float]
    audio_ratio_min: float | None  # smallest decoded/expected duration among ok requests
    cpu_mean: float | None = None
    cpu_max: float | None = None
    rss_start_mb: float | None = None
    rss_end_mb: float | None = None
    rss_max_mb: float | None = None
    gpu_max_mb: float | None = None


@dataclass
class BenchRun:
    meta: dict[str, Any]
    phases: list[Phase]
    results: list[RequestResult]
    samples: dict[str, list[Sample]] = field(default_factory=dict)

    def summaries(self) -> list[Summary]:
        return [summarize(p, self.results, self.samples.get(p.target, ())) for p in self.phases]

    def to_json(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "phases": [asdict(p) for p in self.phases],
            "summaries": [asdict(s) for s in self.summaries()],
            "results": [asdict(r) for r in self.results],
            "samples": {k: [asdict(s) for s in v] for k, v in self.samples.items()},
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False), encoding="utf-8")


def load_run(path: Path | str) -> BenchRun:
    """Read back what ``BenchRun.save`` wrote (summaries are recomputed, not trusted)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return BenchRun(
        meta=dict(data.get("meta", {})),
        phases=[Phase(**p) for p in data["phases"]],
        results=[RequestResult(**r) for r in data["results"]],
        samples={k: [Sample(**s) for s in v] for k, v in data.get("samples", {}).items()},
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100), linear between closest ranks (numpy's default); NaN if empty."""
    if not values:
        return math.nan
    xs = sorted(values)
    if len(xs) == 1:
        return xs[0]
    pos = (len(xs) - 1) * min(max(q, 0.0), 100.0) / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def distribution(values: Sequence[float]) -> dict[str, float]:
    mean = sum(values) / len(values) if values else math.nan
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "mean": mean,
    }


def error_kind(status: int) -> str | None:
    if status == 503:
        return "http_503"
    if status >= 500:
        return "http_5xx"
    if status >= 400:
        return "http_4xx"
    return None


def check_audio(audio_s: float | None, expected_s: float | None, tolerance: float) -> str | None:
    """``corrupt`` when nothing decoded, ``truncated`` when shorter than ``expected * (1 - tolerance)``."""
    if audio_s is None or audio_s <= 0:
        return "corrupt"
    if expected_s is not None and audio_s < expected_s * (1.0 - tolerance):
        return "truncated"
    return None


def summarize(phase: Phase, results: Iterable[RequestResult], samples: Iterable[Sample] = ()) -> Summary:
    mine = [r for r in results if r.target == phase.target and r.phase == phase.name]
    ok = [r for r in mine if r.ok]
    errors = Counter(r.error for r in mine if r.error is not None)
    if mine:
        t0 = min(r.start_s for r in mine)
        t1 = max(r.end_s for r in mine)
    else:
        t0, t1 = phase.t0, phase.t1
    wall = max(t1 - t0, 1e-9)
    ratios = [r.audio_s / r.expected_s for r in ok if r.audio_s is not None and r.expected_s]
    window = [s for s in samples if phase.t0 <= s.t <= phase.t1]
    cpu = [s.cpu_pct for s in window]
    rss = [s.rss_mb for s in window]
    gpu = [s.gpu_mb for s in window if s.gpu_mb is not None]
    return Summary(
        target=phase.target,
        phase=phase.name,
        mode=phase.mode,
        level=phase.level,
        requests=len(mine),
        ok=len(ok),
        n503=errors.get("http_503", 0),
        errors=dict(sorted(errors.items())),
        wall_s=wall if mine else 0.0,
        rps=len(ok) / wall if mine else 0.0,
        audio_rps=sum(r.audio_s or 0.0 for r in ok) / wall if mine else 0.0,
        latency=distribution([r.latency_s for r in ok]),
        ttfa=distribution([r.ttfa_s for r in ok if r.ttfa_s is not None]),
        audio_ratio_min=min(ratios) if ratios else None,
        cpu_mean=sum(cpu) / len(cpu) if cpu else None,
        cpu_max=max(cpu) if cpu else None,
        rss_start_mb=rss[0] if rss else None,
        rss_end_mb=rss[-1] if rss else None,
        rss_max_mb=max(rss) if rss else None,
        gpu_max_mb=max(gpu) if gpu else None,
    )


def ratio(a: float, b: float) -> float:
    """a / b, NaN when b is 0 or either is NaN."""
    if b == 0 or math.isnan(a) or math.isnan(b):
        return math.nan
    return a / b
