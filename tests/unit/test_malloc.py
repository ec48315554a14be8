"""ttsgate.malloc: glibc's arena limit and trim through ctypes, no-ops elsewhere."""

from __future__ import annotations

import platform

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
