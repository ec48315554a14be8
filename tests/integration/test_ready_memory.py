"""/ready reports the process RSS and what each engine's load + warm-up added (issue #15)."""

from __future__ import annotations

import httpx

from ttsgate.cli import main


def test_ready_reports_rss(sine_url: str) -> None:
    body = httpx.get(f"{sine_url}/ready").json()
    assert body["ready"] is True
    assert body["profile"] == "default"
    memory = body["memory"]
    assert 20 < memory["rss_mb"] < 4096
    assert set(memory["engines_rss_mb"]) == set(body["engines"])
    assert all(isinstance(v, float) for v in memory["engines_rss_mb"].values())


def test_voices_cli_prints_rss(sine_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["voices", "--url", sine_url]) == 0
    out = capsys.readouterr().out
    assert "MiB RSS (load + warm-up)" in out  # /ready's rss_mb figures are MiB (2**20 bytes)
    assert " MB RSS" not in out
    assert out.strip().splitlines()[-1].startswith("server")
