"""onnxruntime sessions of the neural engines (zh-baker's two graphs, piper voices), made in one place.

Memory (issue #15; figures in benchmarks/edge.md, "Engine sessions (onnxruntime options)"): a
session's CPU arena grows to the largest run it has served and keeps that memory for the session's
life. One long input is enough to pin it: a 31 s Mandarin paragraph left zh-baker's pair at
+150 MB instead of +84 MB after a short sentence, one long English sentence (18 s of audio) left
piper Joe at +458 MB instead of +130 MB, three of them +800 MB.

``TTSGATE_ONNX_ARENA=shrink`` (the edge profile's default; the runtime passes it to zh-baker and piper
as their ``onnx_arena`` option, which gives each ``Session`` its ``shrink``) passes the run option
``memory.enable_memory_arena_shrinkage = cpu:0`` to every ``run``: after the run the arena hands its
free chunks back to the C heap, which returns the large ones to the system. What stays is the weights,
plus what the C heap keeps. The audio is sample-identical (the option changes when buffers are freed,
not what is computed). The price is paid at the next run, which takes its buffers again from the system
(page faults): +6 to +25 % wall time per sentence on the loaded 2-core box (piper most: a 2 s sentence
re-faults 34 MB), hence ``keep`` (the arena as onnxruntime leaves it) by default.

All sessions made here share one CPU arena registered in onnxruntime's environment
(``session.use_env_allocators``): zh-baker's two graphs and the piper voice do not keep an arena each,
so the largest run of any of them sizes the one arena. Default profile, whole server: 702–704 →
587–606 MB after warm-up, 779–793 → 599–622 MB after a long paragraph and sentence; same audio, no
measurable cost (paired RTF ratio 0.95–1.04, four workers at once within noise).

Measured and not adopted (same section): ``enable_cpu_mem_arena = False`` (freed buffers stay in the
C heap: +111 MB after the paragraph vs +62 MB with shrinkage), ``enable_mem_pattern = False`` (no gain
with shrinkage, slower), ``session.disable_prepacking = 1`` (−2 MB, and zh-baker's output changes), a
lower graph optimization level (−4 MB, other output), ``session.use_device_allocator_for_initializers``
(no gain).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# Run option: after each run, the CPU arena frees the chunks the run no longer uses.
ARENA_SHRINKAGE = ("memory.enable_memory_arena_shrinkage", "cpu:0")
PROVIDERS = ["CPUExecutionProvider"]
_shared_arena: bool | None = None  # one CPU arena registered in onnxruntime's environment (None: not yet)
_shared_lock = threading.Lock()


def shrink_option(value: object, engine: str) -> bool:
    """An engine's ``onnx_arena`` option (``keep``, the default, or ``shrink``) as ``Session``'s
    ``shrink``; anything else raises ``ValueError`` naming the engine."""
    if value is None or value == "keep":
        return False
    if value == "shrink":
        return True
    raise ValueError(f"engine {engine!r}: onnx_arena must be 'keep' or 'shrink', not {value!r}")


def _register_shared_arena(ort: Any) -> bool:
    """One CPU arena in onnxruntime's environment for every session made here (registered once):
    sessions that do not run at the same moment reuse the same buffers instead of each keeping its
    own. False where onnxruntime refuses (then each session keeps its own arena)."""
    global _shared_arena
    with _shared_lock:
        if _shared_arena is None:
            info = ort.OrtMemoryInfo(
                "Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT
            )
            try:
                ort.create_and_register_allocator(info, ort.OrtArenaCfg(0, -1, -1, -1))  # defaults
                _shared_arena = True
            except Exception:  # onnxruntime's own exception classes; e.g. one registered already
                _shared_arena = False
        return _shared_arena


class Session:
    """An ``InferenceSession`` on the CPU; its ``run`` shrinks the arena after each call when
    ``shrink`` (``TTSGATE_ONNX_ARENA=shrink``).

    ``threads``: intra-op threads; inter-op 1, sequential execution; idle intra-op threads do not spin
    (the worker threads share the cores). Other attributes are the session's own (``get_inputs`` ...),
    so piper's ``PiperVoice`` takes an instance as its ``session``.
    """

    def __init__(self, model: Path, threads: int, *, shrink: bool = False) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if _register_shared_arena(ort):
            opts.add_session_config_entry("session.use_env_allocators", "1")
        self._session: Any = ort.InferenceSession(str(model), opts, providers=PROVIDERS)
        self._run_options: Any = None
        if shrink:
            self._run_options = ort.RunOptions()
            self._run_options.add_run_config_entry(*ARENA_SHRINKAGE)

    def run(
        self, output_names: Sequence[str] | None, input_feed: Mapping[str, Any], run_options: Any = None
    ) -> list[Any]:
        result: list[Any] = self._session.run(output_names, input_feed, run_options or self._run_options)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)
