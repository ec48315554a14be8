"""Pitch-preserving time-stretch, for the part of a requested speed a model's own rate control
cannot give (``Engine.synthesize`` promises audio ``1/speed`` as long as at speed 1).

FFmpeg's ``atempo`` filter (WSOLA, through PyAV's ``av.filter.Graph``; no DSP of our own) takes a
factor of 0.5–2.0 per stage, so larger changes are a chain of equal stages (4.0 = 2 × 2.0, 0.25 =
2 × 0.5). atempo keeps the pitch and the sample rate; the output length is within a few
milliseconds of ``len / factor`` and is set to exactly ``round(len / factor)`` (cut or padded with
silence at the end).
"""

from __future__ import annotations

import math
from fractions import Fraction

import av
import numpy as np

from ttsgate.audio.chunk import Float32Array

MIN_STAGE, MAX_STAGE = 0.5, 2.0
_NO_STRETCH = 0.005  # factors this close to 1 return the input unchanged
_FRAME = 4096  # samples pushed into the graph at a time


def atempo_stages(factor: float) -> list[float]:
    """``factor`` (> 0) as the fewest equal atempo stages, each in [0.5, 2.0]; [] for 1.0."""
    if not factor > 0 or not math.isfinite(factor):
        raise ValueError(f"tempo factor must be a positive number, got {factor}")
    if abs(factor - 1.0) <= _NO_STRETCH:
        return []
    n = max(1, math.ceil(abs(math.log(factor)) / math.log(MAX_STAGE) - 1e-9))
    return [factor ** (1.0 / n)] * n


def time_stretch(samples: Float32Array, sample_rate: int, factor: float) -> Float32Array:
    """Mono float32 PCM played ``factor`` times as fast (2.0: half as long), pitch kept.

    Returns ``round(len(samples) / factor)`` samples at the same rate; the input itself when
    ``factor`` is within 0.5 % of 1 or there is nothing to stretch. Raises ValueError for a factor
    that is not a positive number. CPU cost: ~1–3 ms per second of audio per stage.
    """
    stages = atempo_stages(factor)
    x = np.ascontiguousarray(samples, dtype=np.float32)
    if not stages or x.size == 0:
        return x
    graph = av.filter.Graph()
    src = graph.add_abuffer(
        format="flt", sample_rate=sample_rate, layout="mono", time_base=Fraction(1, sample_rate)
    )
    nodes = [src, *(graph.add("atempo", f"{stage:.6f}") for stage in stages), graph.add("abuffersink")]
    graph.link_nodes(*nodes).configure()
    out: list[Float32Array] = []
    for start in range(0, x.size, _FRAME):
        piece = x[start : start + _FRAME]
        frame = av.AudioFrame.from_ndarray(piece.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = sample_rate
        frame.pts = start
        graph.push(frame)
        out.extend(_drain(graph))
    graph.push(None)
    out.extend(_drain(graph))
    y = np.concatenate(out) if out else np.zeros(0, np.float32)
    want = round(x.size / factor)
    if y.size >= want:
        return np.ascontiguousarray(y[:want])
    return np.concatenate([y, np.zeros(want - y.size, np.float32)])


def _drain(graph: av.filter.Graph) -> list[Float32Array]:
    got: list[Float32Array] = []
    while True:
        try:
            frame = graph.pull()
        except (av.error.BlockingIOError, av.error.EOFError):
            return got
        got.append(np.asarray(frame.to_ndarray(), dtype=np.float32).reshape(-1))
