"""ttsgate.malloc: glibc's arena limit and trim through ctypes, no-ops elsewhere."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from ttsgate import malloc
from ttsgate.config import EDGE_DEFAULTS, Settings


def test_trim_and_arena_limit_answer_without_raising() -> None:
    assert isinstance(malloc.trim(), bool)
    glibc = platform.libc_ver()[0] == "glibc"
    # mallopt answers 1 on success; 8 per core is glibc's own default, so this changes nothing
    assert malloc.limit_arenas(8 * 64) is glibc


def test_edge_profile_uses_one_arena_and_the_default_leaves_glibc_alone() -> None:
    assert EDGE_DEFAULTS["malloc_arenas"] == 1
    assert Settings().malloc_arenas == 0


_FREED_BLOCKS_PROBE = """
import ctypes, sys, psutil
from ttsgate import malloc
if sys.argv[1] == "fixed":
    assert malloc.mmap_threshold(1 << 20)
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
big = libc.malloc(16 << 20); ctypes.memset(big, 1, 16 << 20); libc.free(big)  # glibc's threshold rises
blocks = []
for _ in range(100):  # 200 MiB of 2 MiB buffers
    b = libc.malloc(2 << 20); ctypes.memset(b, 1, 2 << 20); blocks.append(b)
before = psutil.Process().memory_info().rss
for b in blocks[::2]:  # every other one: free space between blocks still held, not at the heap's top
    libc.free(b)
print((before - psutil.Process().memory_info().rss) >> 20)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator")
@pytest.mark.parametrize(("mode", "returned"), [("fixed", True), ("default", False)])
def test_a_fixed_mmap_threshold_returns_freed_engine_sized_buffers(mode: str, returned: bool) -> None:
    """Multi-MB buffers freed after glibc raised its threshold stay in the heap; with the edge
    profile's fixed 1 MiB threshold they are unmapped at free (the process's RSS drops by ~100 MiB)."""
    out = subprocess.run(
        [sys.executable, "-c", _FREED_BLOCKS_PROBE, mode], capture_output=True, text=True, check=True
    )
    dropped_mib = int(out.stdout)
    assert (dropped_mib > 80) is returned, dropped_mib


def test_edge_profile_fixes_the_mmap_threshold_and_the_default_does_not() -> None:
    assert EDGE_DEFAULTS["malloc_mmap_threshold_kb"] == 1024
    assert Settings().malloc_mmap_threshold_kb == 0
    assert Settings(profile="edge").malloc_mmap_threshold_kb == 1024
