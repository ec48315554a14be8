"""``ttsgate bench sweep`` end to end against the sine test server: report, JSON and plots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.tables import ZH_CHAR_S
from ttsgate.bench.stats import load_run
from ttsgate.cli import main

TEXTS = ("你好世界。", "今天天气很好。")


def test_tiny_sweep_report(sine_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench"
    args = [
        "bench",
        "sweep",
        "--no-progress",
        "--target",
        f"gate=openai:{sine_url}",
        "--target",
        f"seed=tts:{sine_url}",
        "--voice",
        "zh_test",
        "--concurrency",
        "1,3",
        "--requests",
        "6",
        "--out",
        str(out),
    ]
    for t in TEXTS:
        args += ["--text", t]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "| gate | c=3 | 6 | 6 | 0 | 0 | 0 | 0 |" in printed
    assert "gate / seed" in printed
    run = load_run(out / "results.json")
    measured = [r for r in run.results if r.phase != "reference"]
    assert len(measured) == 2 * 2 * 6
    assert all(r.ok and r.status == 200 for r in measured)
    for r in measured:  # the sine voice gives each character (punctuation too) ZH_CHAR_S of tone
        assert r.audio_s == pytest.approx(len(TEXTS[r.text_id]) * ZH_CHAR_S, abs=0.02)
        assert r.expected_s == pytest.approx(r.audio_s, abs=1e-3)
        assert r.ttfa_s is not None
        assert 0 < r.ttfa_s <= r.latency_s
    summaries = json.loads((out / "results.json").read_text())["summaries"]
    assert [(s["target"], s["phase"], s["requests"], s["ok"]) for s in summaries] == [
        ("gate", "c=1", 6, 6),
        ("seed", "c=1", 6, 6),
        ("gate", "c=3", 6, 6),
        ("seed", "c=3", 6, 6),
    ]
    for png in ("latency.png", "throughput.png", "ttfa_cdf.png"):
        assert (out / png).stat().st_size > 1000
