"""The value that flows from engines to encoders."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Every stream ttsgate sends is mono at this rate: OpenAI's ``pcm`` format is s16le mono 24 kHz,
# and the Mandarin voice is native 24 kHz. Engines at other rates are resampled once per segment.
OUTPUT_SAMPLE_RATE = 24_000

Float32Array = npt.NDArray[np.float32]
Int16Array = npt.NDArray[np.int16]


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """Mono float32 PCM in [-1, 1] at ``sample_rate``."""

    samples: Float32Array
    sample_rate: int

    def __post_init__(self) -> None:
        if self.samples.ndim != 1:
            raise ValueError("AudioChunk.samples must be 1-D (mono)")
        if self.samples.dtype != np.float32:
            raise ValueError("AudioChunk.samples must be float32")
        if self.sample_rate <= 0:
            raise ValueError("AudioChunk.sample_rate must be positive")

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    @classmethod
    def silence(cls, seconds: float, sample_rate: int = OUTPUT_SAMPLE_RATE) -> AudioChunk:
        return cls(np.zeros(round(seconds * sample_rate), dtype=np.float32), sample_rate)


def to_int16(samples: Float32Array) -> Int16Array:
    """Clip and quantize float PCM to s16 (the canonical segment format, cached and encoded)."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype(np.int16)
