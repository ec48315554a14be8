"""The bench's pure parts: percentiles, error kinds, audio checks, phase summaries, JSON round trip,
target parsing and arrival schedules."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ttsgate.bench.load import Target, arrival_times, parse_target
from ttsgate.bench.report import markdown, ratio_table, summary_table
from ttsgate.bench.stats import (
    BenchRun,
    Phase,
    RequestResult,
    Sample,
    check_audio,
    error_kind,
    load_run,
    percentile,
    summarize,
)


def test_percentile_interpolates_like_numpy() -> None:
    xs = [4.0, 1.0, 3.0, 2.0]
    assert percentile(xs, 0) == 1.0
    assert percentile(xs, 100) == 4.0
    assert percentile(xs, 50) == pytest.approx(2.5)
    assert percentile(xs, 99) == pytest.approx(1.0 + 3 * 0.99)
    assert percentile([7.0], 95) == 7.0
    assert math.isnan(percentile([], 50))


def test_error_kinds_and_audio_checks() -> None:
    assert error_kind(200) is None
    assert error_kind(503) == "http_503"
    assert error_kind(500) == "http_5xx"
    assert error_kind(400) == "http_4xx"
    assert check_audio(None, 2.0, 0.2) == "corrupt"
    assert check_audio(0.0, None, 0.2) == "corrupt"
    assert check_audio(1.5, 2.0, 0.2) == "truncated"
    assert check_audio(1.7, 2.0, 0.2) is None
    assert check_audio(1.0, None, 0.2) is None  # no reference: only decodability is checked


def _r(phase: str, start: float, lat: float, **kw: object) -> RequestResult:
    base: dict[str, object] = {
        "status": 200,
        "ttfa_s": lat / 2,
        "bytes": 100,
        "audio_s": 1.0,
        "expected_s": 1.0,
    }
    base.update(kw)
    return RequestResult("gate", phase, 0, start, lat, **base)  # type: ignore[arg-type]


def _run() -> BenchRun:
    results = [
        _r("c=2", 0.0, 1.0),
        _r("c=2", 0.0, 2.0),
        _r("c=2", 1.0, 1.0),
        _r("c=2", 1.5, 0.1, status=503, audio_s=None, error="http_503"),
        _r("c=2", 2.0, 0.5, audio_s=0.5, error="truncated"),
        _r("c=4", 10.0, 1.0),
    ]
    samples = {"gate": [Sample(0.0, 50.0, 100.0), Sample(1.0, 150.0, 110.0), Sample(20.0, 1.0, 999.0)]}
    phases = [Phase("gate", "c=2", "closed", 2, 0.0, 3.0), Phase("gate", "c=4", "closed", 4, 10.0, 11.0)]
    return BenchRun({"mode": "sweep", "command": "x", "host": {}, "targets": []}, phases, results, samples)


def test_summary_counts_errors_and_throughput() -> None:
    run = _run()
    s = summarize(run.phases[0], run.results, run.samples["gate"])
    assert (s.requests, s.ok, s.n503) == (5, 3, 1)
    assert s.errors == {"http_503": 1, "truncated": 1}
    assert s.wall_s == pytest.approx(2.5)  # first start 0.0, last end 2.5
    assert s.rps == pytest.approx(3 / 2.5)
    assert s.audio_rps == pytest.approx(3.0 / 2.5)
    assert s.latency["p50"] == pytest.approx(1.0)
    assert s.latency["mean"] == pytest.approx(4.0 / 3)
    assert s.ttfa["p50"] == pytest.approx(0.5)
    assert s.audio_ratio_min == pytest.approx(1.0)
    assert s.cpu_mean == pytest.approx(100.0)
    assert (s.rss_start_mb, s.rss_end_mb, s.rss_max_mb) == (100.0, 110.0, 110.0)


def test_empty_phase_summary_is_nan_not_an_error() -> None:
    s = summarize(Phase("other", "c=1", "closed", 1), _run().results)
    assert s.requests == 0
    assert s.rps == 0.0
    assert math.isnan(s.latency["p99"])


def test_json_round_trip(tmp_path: Path) -> None:
    run = _run()
    path = tmp_path / "results.json"
    run.save(path)
    back = load_run(path)
    assert back.results == run.results
    assert back.phases == run.phases
    assert back.samples == run.samples
    assert [s.rps for s in back.summaries()] == [s.rps for s in run.summaries()]


def test_report_tables() -> None:
    run = _run()
    sums = run.summaries()
    table = summary_table(sums)
    assert table.count("\n| gate |") == 2
    assert "| gate | c=2 | 5 | 3 | 1 | 0 | 1 | 0 |" in table
    assert ratio_table(sums, "gate") == ""  # nothing to compare with
    assert "# ttsgate bench: sweep" in markdown(run, sums)


def test_parse_target() -> None:
    t = parse_target("gate=openai:http://127.0.0.1:8000", voice="v", fmt="mp3")
    assert t == Target("gate", "openai", "http://127.0.0.1:8000", "v", "mp3")
    t = parse_target("piper:http://h:5000", voice="v", fmt="mp3")
    assert (t.name, t.kind, t.audio_format) == ("piper", "piper", "wav")
    assert t.request("hi") == ("POST", "http://h:5000/synthesize", {"json": {"text": "hi"}})
    method, url, kw = parse_target("tts:http://h/", voice="v", fmt="wav").request("x")
    assert (method, url, kw["params"]["text"]) == ("GET", "http://h/tts", "x")
    with pytest.raises(ValueError, match="KIND"):
        parse_target("grpc:http://h", voice="v", fmt="wav")


def test_arrival_schedules() -> None:
    fixed = arrival_times(4.0, 2.0, poisson=False)
    assert fixed == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75])
    poisson = arrival_times(50.0, 20.0, poisson=True, seed=1)
    assert 900 < len(poisson) < 1100
    assert poisson == sorted(poisson)
    assert arrival_times(50.0, 20.0, poisson=True, seed=1) == poisson
