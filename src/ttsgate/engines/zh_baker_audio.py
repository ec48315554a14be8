"""zh-baker's audio helpers: bounded-memory vocoding, cutting a sentence's ids, trimming, and a
sentence's trimmed audio piece by piece (``sentence_pieces``, issue #15).

Split out of ``zh_baker`` (issue #13; why and the measurements: that module's docstring).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ttsgate.audio.chunk import Float32Array
from ttsgate.engines.zh_frontend import SYMBOL_TO_ID

VOC_CHUNK, VOC_CONTEXT = 400, 32  # vocoder frames per call, and context frames on each side
HOP = 300  # samples per mel frame
_FRAME = 240  # 10 ms analysis frames for trimming
_TRIM_DB = 45.0  # trim leading/trailing frames this far below the loudest frame
_PAD_HEAD_S, _PAD_TAIL_S, _FADE_S = 0.02, 0.05, 0.01
# Streaming (issue #15): a sentence of at least STREAM_MIN_FRAMES mel frames is vocoded first for
# FIRST_FRAMES frames (0.4 s; 32 more of right context), then in VOC_CHUNK pieces; shorter ones whole.
FIRST_FRAMES = 32
STREAM_MIN_FRAMES = FIRST_FRAMES + 2 * VOC_CONTEXT


def vocode_chunked(voc: Any, mel: Float32Array) -> Float32Array:
    """A tflite MB-MelGAN interpreter's PCM for ``mel`` [1, T, 80] (T × 300 samples), vocoded in
    pieces of at most ``VOC_CHUNK`` frames with ``VOC_CONTEXT`` frames of context on each side:
    the same samples as one call, with the interpreter's arena bounded by the piece size."""
    frames = mel.shape[1]
    pieces = []
    for start in range(0, frames, VOC_CHUNK):
        a, b = max(0, start - VOC_CONTEXT), min(frames, start + VOC_CHUNK + VOC_CONTEXT)
        out = _vocode(voc, mel[:, a:b])
        pieces.append(out[(start - a) * HOP : (start - a + min(VOC_CHUNK, frames - start)) * HOP])
    return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)


def _vocode(voc: Any, mel: Float32Array) -> Float32Array:
    vin = voc.get_input_details()[0]["index"]
    voc.resize_tensor_input(vin, list(mel.shape))
    voc.allocate_tensors()
    voc.set_tensor(vin, np.ascontiguousarray(mel))
    voc.invoke()
    return np.asarray(voc.get_tensor(voc.get_output_details()[0]["index"])[0, :, 0], dtype=np.float32).copy()


# Toned finals (``er5`` of 儿化 counts too: conservative); never the breaks ``#1``..``#3``.
_SYLLABLE_IDS = frozenset(i for s, i in SYMBOL_TO_ID.items() if s[-1:] in "12345" and s[0] != "#")
_BREAK_IDS = {SYMBOL_TO_ID[f"#{k}"]: k for k in range(4)}


def syllables(ids: Sequence[int]) -> int:
    """Syllables in one sentence's ids (one toned final each)."""
    return sum(1 for i in ids if i in _SYLLABLE_IDS)


def split_ids(ids: list[int]) -> tuple[list[int], list[int]] | None:
    """A sentence's ids (``sil ... sil eos``) cut in two at its strongest break (``#3`` … ``#0``)
    in the middle half (else the break nearest the middle), each half a sentence of its own; None
    for a single syllable."""
    n = len(ids)
    cuts = [(-_BREAK_IDS[t], abs(2 * k - n), k) for k, t in enumerate(ids) if t in _BREAK_IDS]
    if not cuts:
        return None
    middle = [c for c in cuts if n <= 4 * c[2] <= 3 * n]  # the strongest break in the middle half
    k = min(middle)[2] if middle else min(cuts, key=lambda c: c[1])[2]
    sil, eos = SYMBOL_TO_ID["sil"], SYMBOL_TO_ID["eos"]
    return [*ids[:k], sil, eos], [sil, *ids[k + 1 :]]


def trim(audio: Float32Array, sample_rate: int, speed: float = 1.0) -> Float32Array:
    """Cut the vocoder's leading/trailing silence and low-level noise; keep short pads (÷ speed, so
    that they scale with the speech); fade out."""
    n = len(audio) // _FRAME
    if n == 0:
        return audio
    rms = np.sqrt(np.mean(np.square(audio[: n * _FRAME].reshape(n, _FRAME), dtype=np.float64), axis=1))
    loud = np.flatnonzero(rms > rms.max() * 10 ** (-_TRIM_DB / 20) + 1e-6)
    if len(loud) == 0:
        return audio[:0]
    start = max(0, loud[0] * _FRAME - round(_PAD_HEAD_S / speed * sample_rate))
    end = min(len(audio), (loud[-1] + 1) * _FRAME + round(_PAD_TAIL_S / speed * sample_rate))
    out = audio[start:end].copy()
    fade = min(len(out), round(_FADE_S * sample_rate))
    out[len(out) - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return out


def schedule(frames: int) -> list[tuple[int, int]]:
    """The mel frame spans ``[a, b)`` a sentence of ``frames`` frames is handed out in: one span
    below ``STREAM_MIN_FRAMES``; else ``FIRST_FRAMES``, then pieces of ``VOC_CHUNK``."""
    if frames < STREAM_MIN_FRAMES:
        return [(0, frames)]
    spans = [(0, FIRST_FRAMES)]
    for a in range(FIRST_FRAMES, frames, VOC_CHUNK):
        spans.append((a, min(frames, a + VOC_CHUNK)))
    return spans


def _frame_rms(audio: Float32Array) -> Float32Array:
    n = len(audio) // _FRAME
    frames = np.square(audio[: n * _FRAME].reshape(n, _FRAME), dtype=np.float64)
    return np.asarray(np.sqrt(np.mean(frames, axis=1)), dtype=np.float32)


def sentence_pieces(
    vocode: Callable[[int, int], Float32Array], frames: int, sample_rate: int, speed: float = 1.0
) -> Iterator[Float32Array]:
    """One sentence's trimmed audio, span by span of ``schedule(frames)``; ``vocode(a, b)`` is the
    PCM of mel frames ``[a, b)`` (``HOP`` samples each), vocoded with context or cut from the whole.

    The trim is ``trim``'s, decided where each piece can know it (so the pieces joined are the same
    whichever way ``vocode`` works): a sentence of one span is exactly ``trim``; otherwise the head's
    threshold is 45 dB below the loudest 10 ms frame of the first span (0.4 s) and the tail's below
    the loudest frame of the sentence, searched in the last span only (an earlier piece is already
    out; a quiet last span is cut whole), and the fade stays inside the last span."""
    spans = schedule(frames)
    if len(spans) == 1:
        yield trim(vocode(0, frames), sample_rate, speed)
        return
    factor = 10 ** (-_TRIM_DB / 20)
    head = vocode(*spans[0])
    rms = _frame_rms(head)
    loudest = float(rms.max(initial=0.0))
    loud = np.flatnonzero(rms > loudest * factor + 1e-6)
    start = max(0, int(loud[0]) * _FRAME - round(_PAD_HEAD_S / speed * sample_rate)) if len(loud) else 0
    yield head[start:]
    for a, b in spans[1:-1]:
        piece = vocode(a, b)
        loudest = max(loudest, float(_frame_rms(piece).max(initial=0.0)))
        yield piece
    last = vocode(*spans[-1])
    rms = _frame_rms(last)
    loudest = max(loudest, float(rms.max(initial=0.0)))
    loud = np.flatnonzero(rms > loudest * factor + 1e-6)
    end = (
        min(len(last), (int(loud[-1]) + 1) * _FRAME + round(_PAD_TAIL_S / speed * sample_rate))
        if len(loud)
        else 0
    )
    out = last[:end].copy()
    fade = min(len(out), round(_FADE_S * sample_rate))
    out[len(out) - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    yield out
