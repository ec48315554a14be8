"""glibc malloc settings that keep a long-running server's RSS near what it really holds.

Start-up builds large dictionaries (jieba, pypinyin) and graphs (wetext's FSTs, onnxruntime
sessions) and drops their temporaries; the C allocator keeps the freed pages, and every thread
that allocates gets an arena of its own (up to 8 per core), each keeping its own free pages.
Measured on the edge profile (benchmarks/edge.md, "Text and server memory"): ``trim()`` once
start-up has finished returns ~30 MB, one arena for all threads (``limit_arenas(1)``, set before
any thread allocates) 17 MB more (60 MB before the engines limited their own allocations). The
memory guard trims again over its limit and once the server is idle after work
(``scheduler/guard.py``): 10-13 MB after a burst of 300 requests (benchmarks/edge.md).

A fixed mmap threshold (``mmap_threshold``; the edge profile's 1 MiB) serves every allocation of
1 MiB and more with its own mapping, handed back to the system at its ``free``. glibc's default
threshold starts at 128 KiB and rises to the largest block freed so far (up to 32 MiB): after a run
of the engines it is so high that their multi-MB buffers come from the heap, and their pages stay
there once freed. Edge server with ``TTSGATE_ONNX_ARENA=shrink``: 409–419 → 370–371 MB after
warm-up, 462–467 → 379–380 MB after a long paragraph and a long sentence, ~5 % more CPU on zh-baker
(page faults of the re-mapped buffers; benchmarks/edge.md, "Engine sessions").

All are no-ops (returning False) where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_ARENA_MAX = -8  # glibc's mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3


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


def mmap_threshold(nbytes: int) -> bool:
    """Allocations of ``nbytes`` and more get a mapping of their own, returned to the system when
    freed (``MALLOC_MMAP_THRESHOLD_``); fixing it also stops glibc from raising it. Call before the
    engines load."""
    libc = _glibc()
    return libc is not None and bool(libc.mallopt(ctypes.c_int(_M_MMAP_THRESHOLD), ctypes.c_int(nbytes)))


def trim() -> bool:
    """Give the free memory at the top of, and the free pages inside, every arena back to the
    system (``malloc_trim(0)``); True when some was released."""
    libc = _glibc()
    return libc is not None and bool(libc.malloc_trim(ctypes.c_size_t(0)))
