"""Worker count under a container CPU quota (cgroup v1 and v2 files in a temporary root)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ttsgate import cpus


@pytest.mark.parametrize(
    ("cpu_max", "expected"), [("200000 100000\n", 2.0), ("250000 100000\n", 2.5), ("max 100000\n", None)]
)
def test_cgroup_v2_quota(tmp_path: Path, cpu_max: str, expected: float | None) -> None:
    (tmp_path / "cpu.max").write_text(cpu_max)
    assert cpus.cgroup_quota(tmp_path) == expected


def test_cgroup_v1_quota(tmp_path: Path) -> None:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("150000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cpus.cgroup_quota(tmp_path) == 1.5
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert cpus.cgroup_quota(tmp_path) is None


def test_quota_caps_affinity_rounded_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpus, "_affinity", lambda: 32)
    (tmp_path / "cpu.max").write_text("250000 100000\n")
    assert cpus.available_cpus(tmp_path) == 3
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    assert cpus.available_cpus(tmp_path) == 1
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cpus.available_cpus(tmp_path) == 32
    assert cpus.available_cpus(tmp_path / "missing") == 32


def test_affinity_below_quota_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpus, "_affinity", lambda: 2)
    (tmp_path / "cpu.max").write_text("800000 100000\n")
    assert cpus.available_cpus(tmp_path) == 2
