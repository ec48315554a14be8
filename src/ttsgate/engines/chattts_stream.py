"""Incremental decoding for the ChatTTS engine: fixed-size windows, overlap, crossfade (numpy only).

ChatTTS's own stream mode re-decodes the *whole* token sequence every 24 tokens and slices out the new
part, so decoding costs O(n²) and the first audio comes after 72 tokens. Here each row of a batch keeps
``emitted`` (tokens whose audio is final) and, when enough new tokens are there, decodes only the
window ``[emitted - left_context, n)``: the first ``left_context`` tokens give the convolutions their
past, the last ``lookahead`` tokens (not yet emitted) their future. The new audio is
``[emitted, n - lookahead)``; its first ``crossfade`` samples are blended with the held-back tail of
the previous window (raised-cosine, gains summing to 1), and its own last ``crossfade`` samples are
held back for the next window. A finished row is decoded to its end and flushed.

The decode itself (GPT hiddens → DVAE decoder → Vocos) is the engine's ``decode`` callback, so this
module is testable without torch. ``join_metrics`` measures how much a streamed signal deviates from
the offline decode of the same tokens around its joins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ttsgate.audio.chunk import Float32Array

# decode(windows) -> audio per window; a window is (row, start_token, end_token).
DecodeFn = Callable[[Sequence[tuple[int, int, int]]], list[Float32Array]]


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """Window sizes, in GPT tokens (one token = ``samples_per_token`` output samples)."""

    samples_per_token: int
    first_tokens: int = 12  # audio tokens in the first chunk
    chunk_tokens: int = 24  # audio tokens per later chunk
    left_context: int = 32
    lookahead: int = 16
    crossfade: int = 480  # samples (20 ms at 24 kHz)

    def __post_init__(self) -> None:
        if min(self.first_tokens, self.chunk_tokens) < 1 or min(self.left_context, self.lookahead) < 0:
            raise ValueError("stream plan: chunk sizes must be >= 1, contexts >= 0")
        limit = self.samples_per_token * min(self.first_tokens, self.chunk_tokens, max(1, self.left_context))
        if not 0 <= self.crossfade <= limit:
            raise ValueError(f"stream plan: crossfade must be within 0..{limit} samples")


@dataclass(slots=True)
class RowStream:
    """Emission state of one row (one item of a batch)."""

    plan: StreamPlan
    emitted: int = 0  # tokens whose audio has been emitted (except the held-back tail)
    done: bool = False
    tail: Float32Array | None = None
    chunks: int = 0
    joins: list[int] = field(default_factory=list)  # sample offsets where two windows meet
    _out_samples: int = 0

    def want(self, n: int, final: bool) -> tuple[int, int] | None:
        """The token window to decode now for ``n`` available tokens, or None."""
        if self.done:
            return None
        p = self.plan
        if final:
            return (max(0, self.emitted - p.left_context), n)
        need = p.first_tokens if self.chunks == 0 else p.chunk_tokens
        if n - p.lookahead - self.emitted < need:
            return None
        return (max(0, self.emitted - p.left_context), n)

    def take(self, audio: Float32Array, start: int, n: int, final: bool) -> Float32Array:
        """New output samples from the decoded window ``[start, n)`` (``audio`` is its full decode)."""
        p = self.plan
        spt = p.samples_per_token
        end = n if final else n - p.lookahead
        held = 0 if self.tail is None else len(self.tail)
        lo = (self.emitted - start) * spt - held
        hi = len(audio) if final else min(len(audio), (end - start) * spt)
        region = np.array(audio[max(0, lo) : max(0, hi)], dtype=np.float32)
        if self.tail is not None and held:
            k = min(held, len(region))
            fade_in = _fade_in(k)
            region[:k] = self.tail[:k] * (1.0 - fade_in) + region[:k] * fade_in
            if k < held:  # the window was shorter than the tail (an almost empty final window)
                region = np.concatenate([region, self.tail[k:]])
            self.joins.append(self._out_samples + k // 2)
        elif self.chunks:
            self.joins.append(self._out_samples)  # no crossfade: a hard cut
        if final:
            out, self.tail, self.done = region, None, True
        else:
            cut = max(0, len(region) - p.crossfade)
            out, self.tail = region[:cut], region[cut:]
        self.emitted = end
        self.chunks += 1
        self._out_samples += len(out)
        return out


def _fade_in(k: int) -> Float32Array:
    if k <= 0:
        return np.zeros(0, dtype=np.float32)
    t = (np.arange(k, dtype=np.float32) + 0.5) / k
    out: Float32Array = (0.5 - 0.5 * np.cos(np.pi * t)).astype(np.float32)
    return out


def finished_rows(lengths: Sequence[int]) -> list[bool]:
    """Which rows of a non-final ChatTTS stream yield have ended: unfinished rows all have the longest
    length (each step adds one token to every unfinished row); a row that sampled EOS stopped growing."""
    longest = max(lengths, default=0)
    return [n < longest for n in lengths]


def step(
    rows: Sequence[RowStream], lengths: Sequence[int], final: bool, decode: DecodeFn
) -> list[Float32Array | None]:
    """Advance every row given the tokens now available; decode all due windows in one call."""
    done = [True] * len(rows) if final else finished_rows(lengths)
    due: list[tuple[int, int, int, bool]] = []
    for i, row in enumerate(rows):
        window = row.want(lengths[i], done[i])
        if window is not None:
            due.append((i, window[0], window[1], done[i]))
    out: list[Float32Array | None] = [None] * len(rows)
    if not due:
        return out
    audios = decode([(i, s, e) for i, s, e, _ in due])
    for (i, s, e, fin), audio in zip(due, audios, strict=True):
        piece = rows[i].take(audio, s, e, fin)
        out[i] = piece if len(piece) or fin else None
    return out


# -- measuring joins ------------------------------------------------------------------------------


def join_metrics(
    streamed: Float32Array, reference: Float32Array, joins: Sequence[int], half_width: int = 512
) -> dict[str, Any]:
    """How a streamed signal differs from the offline decode of the same tokens, at its joins.

    - ``boundary_error_db``: energy of (streamed - reference) within ``half_width`` samples of the
      joins, relative to the reference's energy there (dB; lower is better, -inf is identical);
    - ``jump_ratio``: mean squared first difference at the join samples divided by the mean squared
      first difference of the whole reference (1 means a join is no rougher than the signal itself);
    - ``overall_error_db``: the same relative error over the whole signal.
    """
    n = min(len(streamed), len(reference))
    s = np.asarray(streamed[:n], dtype=np.float64)
    r = np.asarray(reference[:n], dtype=np.float64)
    js = [j for j in joins if 0 < j < n]
    mask = np.zeros(n, dtype=bool)
    for j in js:
        mask[max(0, j - half_width) : min(n, j + half_width)] = True
    err = s - r

    def rel_db(sel: npt.NDArray[np.bool_]) -> float:
        ref_e = float(np.sum(r[sel] ** 2))
        err_e = float(np.sum(err[sel] ** 2))
        if err_e == 0.0:
            return float("-inf")
        return 10.0 * float(np.log10(err_e / max(ref_e, 1e-20)))

    diff_ref = np.diff(r)
    base = float(np.mean(diff_ref**2)) if len(diff_ref) else 0.0
    jumps = [float((s[j] - s[j - 1]) ** 2) for j in js]
    return {
        "joins": len(js),
        "boundary_error_db": rel_db(mask) if js else None,
        "jump_ratio": (float(np.mean(jumps)) / base) if js and base > 0 else None,
        "overall_error_db": rel_db(np.ones(n, dtype=bool)),
        "length_diff": len(streamed) - len(reference),
    }
