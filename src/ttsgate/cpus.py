"""How many CPU cores this process may really use: affinity, capped by a cgroup CPU quota.

A container limited to 2 CPUs on a 32-core node sees 32 cores through ``os.sched_getaffinity``
(Kubernetes and Docker enforce ``--cpus`` / ``resources.limits.cpu`` with a CFS quota, not with an
affinity mask). Sizing worker threads by the node would run 32 synthesis threads on a 2-CPU budget:
every stream slower, admission's cost model wrong. The quota is read the way the JVM and Go's
``automaxprocs`` do (cgroup v2 ``cpu.max``, else v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``),
rounded up to whole cores.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _affinity() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def cgroup_quota(root: Path = CGROUP_ROOT) -> float | None:
    """The CPU quota in cores (``2.5`` for ``cpu.max = "250000 100000"``), or None when unlimited
    or unreadable. Reads cgroup v2's ``cpu.max`` at ``root``, else v1's ``cpu/cpu.cfs_*`` files."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        q = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        p = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return None if q <= 0 or p <= 0 else q / p
    except (OSError, ValueError):
        return None


def available_cpus(root: Path = CGROUP_ROOT) -> int:
    """Cores this process may use: its affinity mask, capped by the cgroup quota (rounded up)."""
    cores = _affinity()
    quota = cgroup_quota(root)
    return cores if quota is None else max(1, min(cores, math.ceil(quota)))
