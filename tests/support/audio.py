"""Decode what the server sends, with PyAV, to check rate, duration and energy."""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import numpy as np


@dataclass
class Decoded:
    sample_rate: int
    samples: np.ndarray  # float32 mono

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def rms(self) -> float:
        return float(np.sqrt(np.mean(self.samples.astype(np.float64) ** 2))) if len(self.samples) else 0.0


def decode(data: bytes, fmt: str) -> Decoded:
    if fmt == "pcm":
        pcm = np.frombuffer(data, dtype=np.int16).astype(np.float32) / 32768.0
        return Decoded(24_000, pcm)
    container_fmt = {"aac": "aac", "opus": "ogg", "mp3": "mp3", "flac": "flac", "wav": "wav"}[fmt]
    with av.open(io.BytesIO(data), format=container_fmt) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        parts = [frame.to_ndarray().astype(np.float32).reshape(-1) for frame in container.decode(stream)]
    samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    if samples.size and np.abs(samples).max() > 2.0:  # integer sample formats
        samples = samples / 32768.0
    return Decoded(rate, samples)
