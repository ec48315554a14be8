"""Over TTSGATE_MEMORY_LIMIT_MB the server refuses new work (503 + Retry-After) and recovers: freed
memory is handed back before it keeps refusing, and /ready says so while it refuses (reviewer: an
idle edge server stayed at 434 MB over a 430 MB limit, refused everything, /ready said ready)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.scheduler import MemoryGuard
from ttsgate.server import create_app

MiB = 2**20
BODY = {"input": "Hello there.", "voice": "en_test", "response_format": "wav"}


class Heap:
    """The process as the guard sees it: ``rss`` bytes, ``freed`` of them given back by a trim."""

    def __init__(self) -> None:
        self.rss = self.freed = 0
        self.trims = 0

    def trim(self) -> bool:
        self.trims += 1
        self.rss, self.freed = self.rss - self.freed, 0
        return True


LIMIT_MIB = 430


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, FastAPI]]:
    # A limit the test process's real RSS (engines loaded by other tests) cannot reach, so that the
    # server gets ready; ``heap`` then sets 430 MiB with a fake RSS reader.
    app = create_app(Settings(cache="off", memory_limit_mb=1 << 20), table=sine_table())
    with serve_app(app) as url:
        yield url, app


@pytest.fixture
def heap(served: tuple[str, FastAPI]) -> Iterator[Heap]:
    guard: MemoryGuard = served[1].state.runtime.memory_guard
    fake = Heap()
    fake.rss = 300 * MiB
    saved = guard._rss_reader, guard._reclaim, guard.interval_s, guard.rss_limit_bytes
    guard._rss_reader, guard._reclaim, guard.interval_s = (lambda: fake.rss), fake.trim, 0.0
    guard.rss_limit_bytes = LIMIT_MIB * MiB
    guard._reclaimed_at = -float("inf")
    yield fake
    guard._rss_reader, guard._reclaim, guard.interval_s, guard.rss_limit_bytes = saved
    guard._reclaimed_at = -float("inf")


def test_freed_memory_over_the_limit_is_handed_back_and_requests_are_taken_again(
    served: tuple[str, FastAPI], heap: Heap
) -> None:
    url, _ = served
    heap.rss, heap.freed = 434 * MiB, 36 * MiB  # after a burst: 36 MiB freed, still held by malloc
    codes = []
    for _ in range(40):  # the first may be refused while the trim runs; its retry is not
        r = httpx.post(f"{url}/v1/audio/speech", json=BODY, timeout=10)
        codes.append(r.status_code)
        if r.status_code == 200:
            break
        assert r.status_code == 503
        assert r.headers["retry-after"]
        assert r.json()["error"]["code"] == "memory"
        time.sleep(0.05)
    assert codes[-1] == 200, codes
    assert len(codes) <= 2, codes
    assert heap.trims == 1
    assert httpx.get(f"{url}/ready").status_code == 200


def test_ready_says_503_while_memory_refuses_new_work(served: tuple[str, FastAPI], heap: Heap) -> None:
    url, _ = served
    heap.rss = 500 * MiB  # really in use: a trim gives nothing back
    r = httpx.get(f"{url}/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["ready"] is False
    assert body["refusing"]["code"] == "memory"
    assert "500 MiB is above the 430 MiB limit" in body["refusing"]["reason"]
    refused = httpx.post(f"{url}/v1/audio/speech", json=BODY, timeout=10)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "memory"
    heap.rss = 380 * MiB  # the accepted work finished and its memory went back
    assert httpx.get(f"{url}/ready").status_code == 200
    assert httpx.post(f"{url}/v1/audio/speech", json=BODY, timeout=10).status_code == 200
