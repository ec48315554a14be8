"""How many CPU cores this process may really use: affinity, capped by a cgroup CPU quota.

A container limited to 2 CPUs on a 32-core node sees 32 cores through ``os.sched_getaffinity``
(Kubernetes and Docker enforce ``--cpus`` / ``resources.limits.cpu`` with a CFS quota, not with an
affinity mask). Sizing worker threads by the node would run 32 synthesis threads on a 2-CPU budget:
every stream slower, admission's cost model wrong. The quota is read the way the JVM and Go's
``automaxprocs`` do (cgroup v2 ``cpu.max``, else v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``),
rounded up to whole cores.

Which cgroup: the process's own, from ``/proc/self/cgroup`` (``0::/system.slice/ttsgate@8001.service``
on a systemd host with ``CPUQuota=``), and every ancestor up to the mount root: a limit on a parent
slice binds too, so the smallest quota wins. In a container with its own cgroup namespace the path
is ``/`` and the mount root is the container's cgroup; where the path does not exist under the
mount (v1 without a namespace), the levels that do exist are read.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")


def _affinity() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def own_cgroups(proc_cgroup: Path = PROC_CGROUP) -> tuple[str, str]:
    """(the v2 path, the v1 ``cpu`` controller's path) of this process; ``/`` for what is not listed.

    Lines of ``/proc/self/cgroup``: ``0::/path`` (v2), ``4:cpu,cpuacct:/path`` (v1)."""
    v2 = v1 = "/"
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return v2, v1
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":
            v2 = path or "/"
        elif "cpu" in controllers.split(","):
            v1 = path or "/"
    return v2, v1


def _levels(mount: Path, path: str) -> list[Path]:
    """``mount/path`` and each of its ancestors down to ``mount`` itself."""
    parts = [p for p in path.split("/") if p and p not in (".", "..")]
    return [mount.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]


def _v2_quota(directory: Path) -> float | None:
    try:
        quota, period = (directory / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def _v1_quota(directory: Path) -> float | None:
    try:
        q = int((directory / "cpu.cfs_quota_us").read_text())
        p = int((directory / "cpu.cfs_period_us").read_text())
        return None if q <= 0 or p <= 0 else q / p
    except (OSError, ValueError):
        return None


def cgroup_quota(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> float | None:
    """The CPU quota in cores (``2.5`` for ``cpu.max = "250000 100000"``), or None when unlimited
    or unreadable: the smallest of the process's own cgroup and its ancestors, cgroup v2's
    ``cpu.max`` under ``root`` and v1's ``cpu.cfs_*`` under ``root/cpu``."""
    v2_path, v1_path = own_cgroups(proc_cgroup)
    quotas = [_v2_quota(d) for d in _levels(root, v2_path)]
    quotas += [_v1_quota(d) for d in _levels(root / "cpu", v1_path)]
    found = [q for q in quotas if q is not None]
    return min(found) if found else None


def available_cpus(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int:
    """Cores this process may use: its affinity mask, capped by the cgroup quota (rounded up)."""
    cores = _affinity()
    quota = cgroup_quota(root, proc_cgroup)
    return cores if quota is None else max(1, min(cores, math.ceil(quota)))
