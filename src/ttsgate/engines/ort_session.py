"""onnxruntime sessions of the neural engines (zh-baker's two graphs, piper voices), made in one place.

Memory (issue #15; figures in benchmarks/edge.md, "Engine sessions (onnxruntime options)"): a
session's CPU arena grows to the largest run it has served and, by default, keeps that memory for the
session's life. One long input was enough to pin it: a 31 s Mandarin paragraph left zh-baker's
pair at +150 MB instead of +84 MB, one long English sentence (18 s) left piper Joe at +458 MB instead
of +130 MB, and repeated long sentences grew it further (+800 MB). Every ``run`` here therefore passes
the run option ``memory.enable_memory_arena_shrinkage = cpu:0``: after the run the arena hands its free
chunks back (to the C heap, which returns the large ones to the system), so what stays is the
weights and what a short sentence needs. The audio is the same (sample-identical: the option only
changes when buffers are freed, not what is computed).

Measured and not adopted (same file): ``enable_cpu_mem_arena = False`` (the freed buffers stay in the
C heap's free lists: +111 MB after the paragraph vs +62 MB with shrinkage), ``enable_mem_pattern =
False`` (no memory gain with shrinkage, slower), ``session.disable_prepacking = 1`` (−2 MB, and it
changes zh-baker's output: other MatMul kernels move phoneme durations by a frame), a lower graph
optimization level (−4 MB, other output), ``session.use_device_allocator_for_initializers`` (no gain).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# Run option: after each run, the CPU arena frees the chunks the run no longer uses.
ARENA_SHRINKAGE = ("memory.enable_memory_arena_shrinkage", "cpu:0")
PROVIDERS = ["CPUExecutionProvider"]


class Session:
    """An ``InferenceSession`` on the CPU whose ``run`` shrinks the arena after each call.

    ``threads``: intra-op threads; inter-op 1, sequential execution; idle intra-op threads do not spin
    (the worker threads share the cores). Other attributes are the session's own (``get_inputs`` ...),
    so piper's ``PiperVoice`` takes an instance as its ``session``.
    """

    def __init__(self, model: Path, threads: int) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session: Any = ort.InferenceSession(str(model), opts, providers=PROVIDERS)
        self._run_options: Any = ort.RunOptions()
        self._run_options.add_run_config_entry(*ARENA_SHRINKAGE)

    def run(
        self, output_names: Sequence[str] | None, input_feed: Mapping[str, Any], run_options: Any = None
    ) -> list[Any]:
        result: list[Any] = self._session.run(output_names, input_feed, run_options or self._run_options)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)
