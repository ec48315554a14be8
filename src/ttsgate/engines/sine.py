"""A deterministic engine for tests: each character becomes a short tone, so audio length is known.

Duration = ``len(text) * char_s / speed`` exactly (no leading/trailing silence). The pitch depends on
the character, so different texts give different audio. Options: ``char_s`` (default 0.06),
``sample_rate`` (default 24000), ``delay_s`` (sleep per batch, to simulate a slow model),
``max_batch_size`` (default 8), ``fail_on`` (text substring that makes the batch raise),
``max_speech_s`` (the limit it declares, in seconds at speed 1 of ``expected_speech_s``; default
none: to test the pipeline's cutting), ``piece_chars`` (hand out the audio in pieces of that many
characters through ``pieces``, ``delay_s`` slept before each; default 0: whole only; with
``fail_on`` the iterator fails after its first piece, to test failures mid-segment), ``languages``
(comma-separated codes it speaks as a fallback engine; default: any).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable, Iterator, Sequence

import numpy as np

from ttsgate.audio.chunk import AudioChunk
from ttsgate.engines.base import EngineSpec, SynthesisInput


class SineEngine:
    def __init__(self, spec: EngineSpec) -> None:
        opts = spec.options
        self._name = spec.name
        self._char_s = float(opts.get("char_s", 0.06))
        self._rate = int(opts.get("sample_rate", 24_000))
        self._delay_s = float(opts.get("delay_s", 0.0))
        self._fail_on = str(opts.get("fail_on", "")) or None
        self._max_speech_s = float(opts["max_speech_s"]) if "max_speech_s" in opts else None
        self._max_batch = int(spec.max_batch_size or opts.get("max_batch_size", 8))
        self._piece_chars = int(opts.get("piece_chars", 0))
        langs = {c.strip().lower() for c in str(opts.get("languages", "")).split(",") if c.strip()}
        self._languages = frozenset(langs) or None
        self._lock = threading.Lock()
        self.loaded = False
        self.batches: list[int] = []  # sizes of the batches run, for tests

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        return f"sine-1:{self._char_s}:{self._rate}"

    @property
    def sample_rate(self) -> int:
        return self._rate

    @property
    def max_batch_size(self) -> int:
        return self._max_batch

    def load(self) -> None:
        self.loaded = True

    def speaks(self, language: str) -> bool:
        return self._languages is None or language.lower() in self._languages

    def batch_key(self, item: SynthesisInput) -> Hashable:
        return (item.speaker, item.language)

    def max_speech_s(self, speed: float) -> float | None:
        return self._max_speech_s

    def synthesize(self, batch: Sequence[SynthesisInput]) -> list[AudioChunk]:
        with self._lock:
            self.batches.append(len(batch))
        if self._delay_s:
            time.sleep(self._delay_s)
        out = []
        for item in batch:
            if self._fail_on and self._fail_on in item.text:
                raise RuntimeError(f"sine engine told to fail on {self._fail_on!r}")
            out.append(self._tone(item))
        return out

    def pieces(self, item: SynthesisInput) -> Iterator[AudioChunk] | None:
        """The tones of ``piece_chars`` characters at a time (None when ``piece_chars`` is 0)."""
        if self._piece_chars <= 0:
            return None
        return self._pieces(item, self._piece_chars)

    def _pieces(self, item: SynthesisInput, n: int) -> Iterator[AudioChunk]:
        with self._lock:
            self.batches.append(1)
        samples = self._tone(item).samples
        step = n * round(self._char_s / item.speed * self._rate)
        for k, start in enumerate(range(0, len(samples), step)):
            if self._delay_s:
                time.sleep(self._delay_s)
            if k and self._fail_on and self._fail_on in item.text:
                raise RuntimeError(f"sine engine told to fail on {self._fail_on!r} mid-stream")
            yield AudioChunk(samples[start : start + step], self._rate)

    def _tone(self, item: SynthesisInput) -> AudioChunk:
        per_char = round(self._char_s / item.speed * self._rate)
        t = np.arange(per_char, dtype=np.float32) / self._rate
        parts = []
        for ch in item.text:
            freq = 200.0 + (ord(ch) % 40) * 15.0
            parts.append(0.3 * np.sin(2 * np.pi * freq * t))
        samples = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
        return AudioChunk(samples, self._rate)

    def close(self) -> None:
        self.loaded = False
