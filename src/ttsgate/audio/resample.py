"""Sample-rate conversion for engines whose native rate is not ``OUTPUT_SAMPLE_RATE``.

FFmpeg's libswresample through PyAV's :class:`av.AudioResampler` (PyAV is already needed for the
encoders, so the runtime needs no SciPy). Against ``scipy.signal.resample_poly`` (the resampler before
issue #15) on white noise, 22050 → 24000: the same length, no delay (cross-correlation peak at lag 0),
passband power within 0.05 dB up to 10 kHz and 0.4 dB to 10.8 kHz; 48000 → 24000 rejects a 15 kHz tone
completely (resample_poly leaves −60 dB). At the edges libswresample mirrors the signal instead of
assuming zeros beyond it, so a segment that starts or ends loud does not ring there.
"""

from __future__ import annotations

import math

import numpy as np
from av import AudioFrame
from av.audio.resampler import AudioResampler

from ttsgate.audio.chunk import Float32Array

# libswresample gives no output for inputs shorter than its filter (~22 samples at 22050 → 24000,
# ~45 at 48000 → 24000): shorter inputs are padded with zeros to this length first, then cut.
_MIN_INPUT = 128


def resampled_length(n: int, src_rate: int, dst_rate: int) -> int:
    """How many samples ``resample`` returns for ``n`` input samples."""
    return math.ceil(n * dst_rate / src_rate)


def resample(samples: Float32Array, src_rate: int, dst_rate: int) -> Float32Array:
    """Mono float32 PCM from ``src_rate`` to ``dst_rate`` (libswresample's default windowed-sinc filter).

    Duration is kept: the result has exactly ``ceil(len * dst_rate / src_rate)`` samples (libswresample
    gives that count or one less; a missing last sample is zero). Equal rates return the input itself
    (as float32) without a copy. Each call is independent (a fresh resampler, flushed at the end), so
    resample whole segments, not tiny pieces of one: the pipeline resamples each engine call's audio
    whole, and only engines at the output rate stream their pieces (``pipeline.py``).
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
    want = resampled_length(x.size, src_rate, dst_rate)
    if x.size < _MIN_INPUT:
        x = np.concatenate([x, np.zeros(_MIN_INPUT - x.size, dtype=np.float32)])
    frame = AudioFrame.from_ndarray(np.ascontiguousarray(x).reshape(1, -1), format="flt", layout="mono")
    frame.sample_rate = src_rate
    resampler = AudioResampler(format="flt", layout="mono", rate=dst_rate)
    frames = [*resampler.resample(frame), *resampler.resample(None)]  # None: flush the filter's tail
    out = np.zeros(want, dtype=np.float32)
    got = np.concatenate([f.to_ndarray()[0] for f in frames]) if frames else out[:0]
    out[: min(want, got.size)] = got[:want]
    return out
