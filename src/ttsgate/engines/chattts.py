"""``chattts``: ChatTTS (2noise) — Llama GPT over text → 4-codebook audio tokens → DVAE decoder → Vocos.

Loads a local directory in ChatTTS's asset layout through ``Chat._load`` with explicit paths, never
downloading (``chattts_load``).

One ``synthesize`` call is one GPT ``generate`` over the whole batch: rows carry their own speaker
embedding, so jobs of different voices and speeds share a batch; only the sampling settings
(temperature, top_p, top_k, refine on/off) form the ``batch_key``.

Speed: every row is generated at ChatTTS's normal ``[speed_5]`` and its audio time-stretched by the
item's ``speed`` (``audio.tempo``), so the length is exactly 1/speed of normal. ChatTTS's
``[speed_N]`` prompt is a hint the GPT may follow or not (0–9, so it cannot even express 0.25 or 4),
with no promised length. ``max_speech_s`` is half of what ``max_new_tokens`` can hold at normal speed
(the GPT cannot speak past it). In ``synthesize_stream`` each yielded piece is stretched on its own. ChatTTS's
``Chat.infer`` cannot do that (one speaker and one prompt per call), so the engine drives ChatTTS's
own tokenizer, embedding, speaker, GPT and decoders directly, the way ``Chat._infer_code`` does.
``synthesize_stream`` (an optional extension of the Engine protocol) yields audio as it is generated
(``chattts_stream``: windowed decoding with overlap + crossfade instead of ChatTTS's re-decoding).

Each call has its own interrupt ``Context`` (ChatTTS's examples share one across requests), and one
lock serialises model work step by step (held around each ``generate`` step batch and decode, never
across a ``yield`` to the consumer), so concurrent workers interleave safely.

Text: ttsgate's normalizer has run. ChatTTS's ``Normalizer`` is *not* called: even with
``do_text_normalization=False, do_homophone_replacement=False`` it deletes every character outside
``[\\u4e00-\\u9fffA-Za-z，。、,. ]`` (digits, ``?``, ``%``...). Only its punctuation map is applied.

Options (``[engines.NAME]``): ``asset_dir`` (required); ``device`` (auto | cpu | cuda[:N]); ``dtype``
(auto = float16 GPT on CUDA, float32 on CPU); ``max_new_tokens`` (2048), ``min_new_tokens`` (0),
``refine_max_new_tokens`` (384); defaults of the per-item ``params``: ``temperature`` (0.3),
``top_p`` (0.7), ``top_k`` (20), ``refine_text`` (false), ``oral`` (2), ``laugh`` (0), ``break``
(6); ``repetition_penalty`` (1.05); ``default_speaker`` (``chattts_01``); ``speakers`` (table
name → embedding string) and ``speakers_file`` (JSON object name → embedding string): user voices;
``allow_control_tokens`` (false: ``[``/``]`` are removed from input text); stream window sizes
``stream_first_tokens`` (12), ``stream_chunk_tokens`` (24), ``stream_left_context`` (32),
``stream_lookahead`` (16), ``stream_step_tokens`` (8), ``stream_crossfade_ms`` (20); memory guard
``memory_limit_mb`` (0 = off) and ``gpu_memory_fraction`` (0.9); ``compile`` (false); ``num_threads``.

Modules: this one (the Engine: options, locking, batching, streaming, memory guard); ``chattts_params``
(per-item params → ``Sampling`` batch key and rows); ``chattts_voices`` (speaker embeddings);
``chattts_infer`` (batched generate/refine/decode over ChatTTS internals); ``chattts_load`` (assets,
config, loading); ``chattts_stream`` (numpy streaming windows).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Hashable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ttsgate.audio.chunk import AudioChunk, Float32Array
from ttsgate.audio.tempo import time_stretch
from ttsgate.engines import chattts_infer as infer
from ttsgate.engines import chattts_load as cl
from ttsgate.engines import chattts_memory as mem
from ttsgate.engines import chattts_stream as cs
from ttsgate.engines.base import EngineSpec, SynthesisInput
from ttsgate.engines.chattts_load import CONFIG_FILE, build_config
from ttsgate.engines.chattts_params import RequestParams, Row, Sampling, group_by_key, speed_token
from ttsgate.engines.chattts_voices import (
    SPEAKERS_RESOURCE,
    Voices,
    decode_speaker,
    derive_speaker,
    encode_speaker,
)
from ttsgate.exceptions import EngineError

__all__ = [
    "CONFIG_FILE",
    "ENGINE_VERSION",
    "SAMPLE_RATE",
    "SPEAKERS_RESOURCE",
    "ChatTTSEngine",
    "Sampling",
    "build_config",
    "decode_speaker",
    "derive_speaker",
    "encode_speaker",
    "speed_token",
]

ENGINE_VERSION = "chattts-2"  # 2: speed by time-stretch
SAMPLE_RATE = 24_000
_EMPTY_S = 0.1


class ChatTTSEngine:
    def __init__(self, spec: EngineSpec) -> None:
        o = dict(spec.options)
        self._name = spec.name
        if not o.get("asset_dir"):
            raise EngineError(f"engine {spec.name!r}: option asset_dir is required")
        self._root = cl.asset_root(Path(str(o["asset_dir"])).expanduser())
        self._device_opt = str(o.get("device", "auto"))
        self._dtype_opt = str(o.get("dtype", "auto"))
        self._explicit_batch = spec.max_batch_size or o.get("max_batch_size")
        self._max_new = int(o.get("max_new_tokens", 2048))
        self._min_new = int(o.get("min_new_tokens", 0))
        self._refine_max_new = int(o.get("refine_max_new_tokens", 384))
        self._rep_penalty = float(o.get("repetition_penalty", 1.05))
        self._params = RequestParams(spec.name, o)
        self._memory_limit = int(float(o.get("memory_limit_mb", 0)) * 2**20)
        self._gpu_fraction = float(o.get("gpu_memory_fraction", 0.9))
        self._compile = bool(o.get("compile", False))
        self._num_threads = int(o["num_threads"]) if "num_threads" in o else None
        stream_defaults = {
            "first_tokens": 12,
            "chunk_tokens": 24,
            "left_context": 32,
            "lookahead": 16,
            "step_tokens": 8,
        }
        self._stream_opts = {k: int(o.get(f"stream_{k}", d)) for k, d in stream_defaults.items()}
        self._crossfade_ms = float(o.get("stream_crossfade_ms", 20.0))
        self._voices = Voices(spec.name, o)
        digest = cl.asset_digest(self._root, self._voices.user, self._voices.builtin)
        self._version = f"{ENGINE_VERSION}:{cl.chattts_version()}:{digest}"
        self._lock = threading.Lock()  # model work, one step at a time
        self._guard = mem.MemoryGuard(spec.name, self._memory_limit, self._gpu_fraction)
        self._chat: Any = None
        self._torch: Any = None
        self._device: Any = None
        self._plan: cs.StreamPlan | None = None

    # -- Engine protocol -------------------------------------------------------------------------
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
        if self._explicit_batch:
            return int(self._explicit_batch)
        return 8 if self._device is not None and self._device.type == "cuda" else 4

    def load(self) -> None:
        mods = cl.import_modules(self._name)
        torch = mods.torch
        if self._num_threads:
            torch.set_num_threads(self._num_threads)
        device = cl.pick_device(torch, self._device_opt, self._name)
        chat = cl.load_chat(
            self._name, self._root, mods, device, compile=self._compile, dtype=self._dtype_opt
        )
        self._torch, self._chat, self._device = torch, chat, device
        hop = int(chat.config.vocos.head.init_args.hop_length)
        so = self._stream_opts
        self._plan = cs.StreamPlan(
            samples_per_token=2 * hop,  # the decoder turns one token's hidden into 2 mel frames
            first_tokens=so["first_tokens"],
            chunk_tokens=so["chunk_tokens"],
            left_context=so["left_context"],
            lookahead=so["lookahead"],
            crossfade=round(self._crossfade_ms * SAMPLE_RATE / 1000),
        )
        for name in self._voices.user:  # fail at load, not mid-request
            self._speaker_tensor(name)

    def speaks(self, language: str) -> bool:
        """No voices made on the fly (the voice table names this engine's voices)."""
        return False

    def batch_key(self, item: SynthesisInput) -> Hashable:
        return self._params.sampling(item)  # validates params: a bad value fails only its own request

    def max_speech_s(self, speed: float) -> float | None:
        spt = self._plan.samples_per_token if self._plan else 512
        return self._max_new * spt / SAMPLE_RATE / 2  # generated at normal speed, then stretched

    def pieces(self, item: SynthesisInput) -> Iterator[AudioChunk] | None:
        """None: Not wired to the scheduler (``synthesize_stream`` is its own batch-level streaming)."""
        return None

    def synthesize(self, batch: Sequence[SynthesisInput]) -> list[AudioChunk]:
        out: list[AudioChunk | None] = [None] * len(batch)
        for sampling, idx in group_by_key(batch, self._params.sampling).items():
            rows = [self._row(batch[i], sampling) for i in idx]
            for i, chunk in zip(idx, self._run(rows, sampling), strict=True):
                out[i] = _stretch(chunk, batch[i].speed)
        return [c if c is not None else AudioChunk.silence(_EMPTY_S, SAMPLE_RATE) for c in out]

    def synthesize_stream(
        self, batch: Sequence[SynthesisInput], cancel: threading.Event | None = None
    ) -> Iterator[list[AudioChunk | None]]:
        """Audio as it is generated: each yield has, per item, new samples or None. An item is
        complete when the iterator ends (or earlier: rows that finish early are flushed at once).
        ``cancel`` (or closing the iterator) stops generation within one ``stream_step_tokens``."""
        chat, torch, plan = self._require()
        sampling = self._params.sampling(batch[0])
        if any(self._params.sampling(it) != sampling for it in batch):
            raise EngineError(f"engine {self._name!r}: a stream batch must share one batch_key")
        rows = [self._row(it, sampling) for it in batch]
        states = [cs.RowStream(plan) for _ in rows]
        ctx = chat.gpt.Context()
        with self._reserve(len(rows), self._max_new):
            with self._lock, torch.inference_mode():
                gen = self._generate(rows, sampling, ctx, stream=True)
            last = None
            try:
                while True:
                    if cancel is not None and cancel.is_set():
                        ctx.set(True)
                        return
                    with self._lock, torch.inference_mode():
                        try:
                            res = next(gen)
                        except StopIteration:
                            break
                        last = [h.detach() for h in res.hiddens]
                        pieces = cs.step(states, [len(h) for h in last], False, self._window_decoder(last))
                    if any(p is not None for p in pieces):
                        yield [
                            _stretch(self._chunk(p), it.speed) for p, it in zip(pieces, batch, strict=True)
                        ]
                if last is not None:
                    with self._lock, torch.inference_mode():
                        pieces = cs.step(states, [len(h) for h in last], True, self._window_decoder(last))
                    if any(p is not None for p in pieces):
                        yield [
                            _stretch(self._chunk(p), it.speed) for p, it in zip(pieces, batch, strict=True)
                        ]
            finally:
                ctx.set(True)
                with self._lock:
                    gen.close()

    def close(self) -> None:
        self._chat = None
        self._voices.clear()
        if self._torch is not None and self._device is not None and self._device.type == "cuda":
            self._torch.cuda.empty_cache()

    # -- memory ----------------------------------------------------------------------------------
    @property
    def gpu_memory_bytes(self) -> int:
        """GPU memory allocated by this process on the engine's device (0 on CPU or not loaded)."""
        return mem.gpu_memory_bytes(self._torch, self._device)

    @property
    def model_bytes(self) -> int:
        """Bytes of the loaded weights and buffers (any device)."""
        return mem.model_bytes(self._chat)

    def estimate_batch_bytes(self, rows: int, new_tokens: int, prompt_tokens: int = 128) -> int:
        """Rough working memory of one batch: KV cache + kept hiddens + decoder activations."""
        half = self._device is not None and self._device.type == "cuda" and self._dtype_opt != "float32"
        return mem.estimate_batch_bytes(
            self._chat, half=half, rows=rows, new_tokens=new_tokens, prompt_tokens=prompt_tokens
        )

    def _reserve(self, rows: int, new_tokens: int) -> contextlib.AbstractContextManager[None]:
        need = self.estimate_batch_bytes(rows, new_tokens)
        return self._guard.reserve(need, self._torch, self._device, self._chat)

    # -- internals -------------------------------------------------------------------------------
    def _require(self) -> tuple[Any, Any, cs.StreamPlan]:
        if self._chat is None or self._plan is None:
            raise EngineError(f"engine {self._name!r} is not loaded")
        return self._chat, self._torch, self._plan

    def _row(self, item: SynthesisInput, sampling: Sampling) -> Row:
        return self._params.row(dataclasses.replace(item, speed=1.0), sampling)  # speed: _stretch

    def _speaker_tensor(self, name: str) -> Any:
        return self._voices.tensor(name, self._chat, self._torch)

    def _generate(self, rows: Sequence[Row], sampling: Sampling, ctx: Any, *, stream: bool) -> Any:
        """``chattts_infer.generate`` with this engine's limits and speakers (lock held)."""
        return infer.generate(
            self._chat,
            self._torch,
            rows,
            sampling,
            ctx,
            speaker=self._speaker_tensor,
            max_new=self._max_new,
            min_new=self._min_new,
            refine_max_new=self._refine_max_new,
            repetition_penalty=self._rep_penalty,
            step_tokens=self._stream_opts["step_tokens"],
            stream=stream,
        )

    def _decode(self, hiddens: Sequence[Any]) -> list[Float32Array]:
        spt = self._plan.samples_per_token if self._plan else 512
        return infer.decode(self._chat, self._torch, hiddens, spt)

    def _window_decoder(self, hiddens: Sequence[Any]) -> cs.DecodeFn:
        def decode(windows: Sequence[tuple[int, int, int]]) -> list[Float32Array]:
            return self._decode([hiddens[i].narrow(0, s, e - s) for i, s, e in windows])

        return decode

    def _run(self, rows: Sequence[Row], sampling: Sampling) -> list[AudioChunk]:
        chat, torch, _ = self._require()
        ctx = chat.gpt.Context()
        with self._reserve(len(rows), self._max_new), self._lock, torch.inference_mode():
            res = None
            for out in self._generate(rows, sampling, ctx, stream=False):
                res = out  # stream=False yields once: the finished batch
            if res is None:
                raise EngineError(f"engine {self._name!r}: ChatTTS generated nothing")
            wavs = self._decode([h.detach() for h in res.hiddens])
        return [self._chunk(w) or AudioChunk.silence(_EMPTY_S, SAMPLE_RATE) for w in wavs]

    @staticmethod
    def _chunk(samples: Float32Array | None) -> AudioChunk | None:
        if samples is None or len(samples) == 0:
            return None
        return AudioChunk(np.ascontiguousarray(samples, dtype=np.float32), SAMPLE_RATE)


def _stretch(chunk: AudioChunk | None, speed: float) -> AudioChunk | None:
    if chunk is None:
        return None
    return AudioChunk(time_stretch(chunk.samples, chunk.sample_rate, speed), chunk.sample_rate)
