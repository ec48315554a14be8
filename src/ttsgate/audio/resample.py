"""Sample-rate conversion for engines whose native rate is not ``OUTPUT_SAMPLE_RATE``."""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import resample_poly

from ttsgate.audio.chunk import Float32Array


def resampled_length(n: int, src_rate: int, dst_rate: int) -> int:
    """How many samples ``resample`` returns for ``n`` input samples."""
    return math.ceil(n * dst_rate / src_rate)


def resample(samples: Float32Array, src_rate: int, dst_rate: int) -> Float32Array:
    """Mono float32 PCM from ``src_rate`` to ``dst_rate`` (polyphase FIR, Kaiser window).

    The ratio is reduced first (22050 → 24000 is up 160, down 147). Duration is kept: the result
    has ``ceil(len * dst_rate / src_rate)`` samples. Equal rates return the input itself (as
    float32) without a copy. Each call is independent, so resample whole segments, not tiny
    pieces of one (the filter sees zeros past either end of what it is given).
    """
    if src_rate <= 0 or dst_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {src_rate} -> {dst_rate}")
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"expected mono (1-D) samples, got shape {x.shape}")
    if src_rate == dst_rate:
        return x
    if x.size == 0:
        return np.zeros(0, dtype=np.float32)
    g = math.gcd(src_rate, dst_rate)
    up, down = dst_rate // g, src_rate // g
    y = resample_poly(x, up, down)
    return np.asarray(y, dtype=np.float32)
