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


SERVICE = "system.slice/system-ttsgate.slice/ttsgate@8001.service"


def fake_tree(tmp_path: Path, proc_line: str, quotas: dict[str, str], name: str = "cpu.max") -> Path:
    """A cgroup mount under ``tmp_path/cgroup`` with ``name`` at the given levels, and a
    /proc/self/cgroup file holding ``proc_line``; returns the latter."""
    for level, value in quotas.items():
        directory = tmp_path / "cgroup" / level
        directory.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(value)
    proc = tmp_path / "proc_self_cgroup"
    proc.write_text(proc_line)
    return proc


def test_v2_reads_the_processs_own_cgroup_not_only_the_root(tmp_path: Path) -> None:
    """systemd: ``CPUQuota=150%`` on the unit is ``cpu.max`` of the service's cgroup."""
    proc = fake_tree(tmp_path, f"0::/{SERVICE}\n", {"": "max 100000\n", SERVICE: "150000 100000\n"})
    assert cpus.cgroup_quota(tmp_path / "cgroup", proc) == 1.5


def test_v2_the_smallest_quota_of_the_cgroup_and_its_ancestors_wins(tmp_path: Path) -> None:
    proc = fake_tree(
        tmp_path,
        f"0::/{SERVICE}\n",
        {SERVICE: "400000 100000\n", "system.slice/system-ttsgate.slice": "200000 100000\n"},
    )
    assert cpus.cgroup_quota(tmp_path / "cgroup", proc) == 2.0


def test_v1_reads_the_cpu_controllers_own_cgroup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proc = fake_tree(tmp_path, f"12:memory:/{SERVICE}\n4:cpu,cpuacct:/{SERVICE}\n", {}, "")
    directory = tmp_path / "cgroup" / "cpu" / SERVICE
    directory.mkdir(parents=True)
    (directory / "cpu.cfs_quota_us").write_text("250000\n")
    (directory / "cpu.cfs_period_us").write_text("100000\n")
    assert cpus.cgroup_quota(tmp_path / "cgroup", proc) == 2.5
    monkeypatch.setattr(cpus, "_affinity", lambda: 32)
    assert cpus.available_cpus(tmp_path / "cgroup", proc) == 3


def test_a_path_missing_under_the_mount_falls_back_to_the_levels_that_exist(tmp_path: Path) -> None:
    """Docker on cgroup v1 without a cgroup namespace: /proc says /docker/<id>, the mount root is
    the container's own cgroup."""
    proc = fake_tree(tmp_path, "0::/docker/0123abcd\n", {"": "100000 100000\n"})
    assert cpus.cgroup_quota(tmp_path / "cgroup", proc) == 1.0


def test_no_quota_anywhere_is_unlimited(tmp_path: Path) -> None:
    proc = fake_tree(tmp_path, f"0::/{SERVICE}\n", {"": "max 100000\n", SERVICE: "max 100000\n"})
    assert cpus.cgroup_quota(tmp_path / "cgroup", proc) is None
    assert cpus.cgroup_quota(tmp_path / "cgroup", tmp_path / "no-proc-file") is None
