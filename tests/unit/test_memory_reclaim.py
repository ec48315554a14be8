"""The memory guard hands freed memory back before it keeps refusing (reviewer: an idle edge server
sat at 434 MB over a 430 MB limit and refused every request, while malloc_trim took it to 398 MB)."""

from __future__ import annotations

import asyncio

import pytest

from ttsgate.exceptions import OverloadedError
from ttsgate.scheduler import MemoryGuard

MiB = 2**20


class Heap:
    """A process whose RSS holds ``freed`` bytes a trim gives back."""

    def __init__(self, used_mib: int, freed_mib: int) -> None:
        self.rss = (used_mib + freed_mib) * MiB
        self.freed = freed_mib * MiB
        self.trims = 0

    def trim(self) -> bool:
        self.trims += 1
        self.rss, self.freed = self.rss - self.freed, 0
        return True


def make(heap: Heap, now: list[float], **kw: float) -> MemoryGuard:
    return MemoryGuard(
        memory_limit_mb=430,
        gpu_memory_fraction=1.0,
        clock=lambda: now[0],
        rss_reader=lambda: heap.rss,
        reclaim=heap.trim,
        **kw,
    )


async def test_freed_memory_over_the_limit_is_reclaimed_and_admission_recovers() -> None:
    heap, now = Heap(398, 36), [0.0]
    guard = make(heap, now)
    with pytest.raises(OverloadedError) as info:
        guard.check()  # found over the limit: refused, a trim starts in a worker thread
    assert info.value.code == "memory"
    assert info.value.retry_after_s
    assert "434 MiB is above the 430 MiB limit" in info.value.message
    assert guard._reclaiming is not None
    await guard._reclaiming
    assert heap.trims == 1
    assert guard.rss_bytes == 398 * MiB
    guard.check()  # the retry is admitted
    assert guard.pressure() is None


async def test_a_refusal_storm_trims_once_per_interval_and_real_use_stays_refused() -> None:
    heap, now = Heap(500, 0), [0.0]  # really in use: a trim frees nothing
    guard = make(heap, now, interval_s=0.0)
    for _ in range(200):
        with pytest.raises(OverloadedError):
            guard.check()
        await asyncio.sleep(0)
    assert guard._reclaiming is not None
    await guard._reclaiming
    assert heap.trims == 1
    now[0] = 2.5  # past reclaim_interval_s
    with pytest.raises(OverloadedError):
        guard.check()
    await guard._reclaiming
    assert heap.trims == 2


async def test_idle_after_work_reclaims_so_rss_falls_back_under_the_limit() -> None:
    heap, now = Heap(300, 36), [0.0]  # under the limit: the idle trim is about RSS after a burst
    guard = make(heap, now, interval_s=0.0)
    busy = [True]
    task = asyncio.create_task(guard.watch_idle(lambda: not busy[0], idle_s=0.01))
    await asyncio.sleep(0.05)
    assert heap.trims == 0  # nothing admitted yet: an idle server is left alone
    guard.check()  # a request
    await asyncio.sleep(0.05)
    assert heap.trims == 0  # still busy
    busy[0] = False
    for _ in range(100):
        if heap.trims:
            break
        await asyncio.sleep(0.01)
    assert heap.trims == 1
    assert guard.rss_bytes == 300 * MiB
    await asyncio.sleep(0.05)
    assert heap.trims == 1  # once per burst, not once per poll
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def test_without_an_event_loop_the_reclaim_runs_in_place() -> None:
    heap, now = Heap(398, 36), [0.0]
    guard = make(heap, now)
    assert guard.pressure() is None  # over at the sample, trimmed, sampled again: under
    assert heap.trims == 1


def test_no_reclaim_keeps_the_old_behaviour() -> None:
    guard = MemoryGuard(memory_limit_mb=430, gpu_memory_fraction=1.0, rss_reader=lambda: 434 * MiB)
    assert guard.pressure() is not None


async def test_idle_over_the_limit_after_reclaiming_says_the_limit_is_too_low(
    caplog: pytest.LogCaptureFixture,
) -> None:
    heap, now = Heap(500, 0), [0.0]  # in use: nothing to free
    guard = make(heap, now, interval_s=0.0)
    task = asyncio.create_task(guard.watch_idle(lambda: True, idle_s=0.01))
    with pytest.raises(OverloadedError):
        guard.check()
    now[0] = 5.0  # past the reclaim interval
    for _ in range(100):
        if "stays above the 430 MiB limit with no work in progress" in caplog.text:
            break
        await asyncio.sleep(0.01)
    assert "raise TTSGATE_MEMORY_LIMIT_MB" in caplog.text
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
