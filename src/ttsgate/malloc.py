"""glibc malloc settings that keep a long-running server's RSS near what it really holds.

Start-up builds large dictionaries (jieba, pypinyin) and graphs (wetext's FSTs, onnxruntime
sessions) and drops their temporaries; the C allocator keeps the freed pages, and every thread
that allocates gets an arena of its own (up to 8 per core), each keeping its own free pages.
Measured on the edge profile (benchmarks/edge.md, "Text and server memory"): ``trim()`` once
start-up has finished returns ~30 MB, one arena for all threads (``limit_arenas(1)``, set before
any thread allocates) 17 MB more (60 MB before the engines limited their own allocations).

Both are no-ops (returning False) where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt, libc.malloc_trim  # noqa: B018  # glibc has both; musl or macOS libc do not
    except (OSError, AttributeError):
        return None
    return libc


def limit_arenas(arenas: int) -> bool:
    """At most ``arenas`` malloc arenas for the threads created from now on (``MALLOC_ARENA_MAX``):
    fewer arenas keep fewer freed pages. Call before the worker threads start."""
    libc = _glibc()
    return libc is not None and bool(libc.mallopt(ctypes.c_int(_M_ARENA_MAX), ctypes.c_int(arenas)))


def trim() -> bool:
    """Give the free memory at the top of, and the free pages inside, every arena back to the
    system (``malloc_trim(0)``); True when some was released."""
    libc = _glibc()
    return libc is not None and bool(libc.malloc_trim(ctypes.c_size_t(0)))
