"""``chattts``: ChatTTS (2noise) — Llama GPT over text → 4-codebook audio tokens → DVAE decoder → Vocos.

Loads a local directory in ChatTTS's asset layout (``asset/gpt``, ``asset/tokenizer``,
``asset/{Embed,DVAE,Decoder,Vocos}.safetensors``; the directory itself or its parent may be given)
through ``Chat._load`` with explicit paths: ``Chat.load(source="custom")`` would check the official
weights' sha256, and nothing here ever downloads. An optional ``ttsgate-chattts.json`` next to
``asset/`` overrides ChatTTS's config sizes (used by the tiny random test model; real weights need none).

One ``synthesize`` call is one GPT ``generate`` over the whole batch: rows carry their own speaker
embedding and ``[speed_N]`` prompt, so jobs of different voices and speeds share a batch; only the
sampling settings (temperature, top_p, top_k, refine on/off) form the ``batch_key``. ChatTTS's
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
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import importlib.metadata
import json
import logging
import threading
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ttsgate.audio.chunk import AudioChunk, Float32Array
from ttsgate.engines import chattts_stream as cs
from ttsgate.engines.base import EngineSpec, SynthesisInput
from ttsgate.exceptions import EngineError, InvalidRequestError, OverloadedError

log = logging.getLogger(__name__)

ENGINE_VERSION = "chattts-1"
SAMPLE_RATE = 24_000
CONFIG_FILE = "ttsgate-chattts.json"
SPEAKERS_RESOURCE = "data/chattts_speakers.json"
_EMPTY_S = 0.1
# ChatTTS's own punctuation map (Normalizer.character_simplifier), applied without its deletions.
_PUNCT = {"：": "，", "；": "，", "！": "。", "（": "，", "）": "，", "【": "，", "】": "，", "『": "，",
          "』": "，", "「": "，", "」": "，", "《": "，", "》": "，", "－": "，", ":": ",", ";": ",",
          "!": ".", "(": ",", ")": ",", ">": ",", "<": ",", "-": ","}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Sampling:
    """What items of one batch must share (the ``batch_key``)."""

    temperature: float
    top_p: float
    top_k: int
    refine: bool


@dataclass(frozen=True, slots=True)
class _Row:
    text: str
    speaker: str
    speed_token: int
    refine_prompt: str


def build_config(config_cls: Any, overrides: Mapping[str, Any]) -> Any:
    """A *fresh* ChatTTS ``Config`` with ``overrides`` applied (nested dicts for nested dataclasses).

    ChatTTS's config dataclasses use shared instances as field defaults, so mutating
    ``chat.config.gpt`` in place would change every other ``Chat``; everything here is rebuilt."""

    def rebuild(default: Any, over: Mapping[str, Any]) -> Any:
        unknown = set(over) - {f.name for f in dataclasses.fields(default)}
        if unknown:
            raise EngineError(f"chattts config: unknown keys {sorted(unknown)} in {type(default).__name__}")
        kwargs = {}
        for f in dataclasses.fields(default):
            value = getattr(default, f.name)
            if dataclasses.is_dataclass(value):
                kwargs[f.name] = rebuild(value, over.get(f.name, {}))
            elif f.name in over:
                new = over[f.name]
                kwargs[f.name] = tuple(new) if isinstance(value, tuple) else new
            else:
                kwargs[f.name] = value
        return type(default)(**kwargs)

    return rebuild(config_cls(), overrides)


def speed_token(speed: float) -> int:
    """ttsgate speed (1.0 normal) → ChatTTS ``[speed_N]`` (N in 0..9, 5 normal, ±4 per octave)."""
    return int(min(9, max(0, 5 + round(4 * np.log2(max(speed, 1e-3))))))


def derive_speaker(seed: int, std: Float32Array, mean: Float32Array) -> np.ndarray[Any, np.dtype[np.float16]]:
    """A speaker embedding from a seed, the way ChatTTS samples one (N(0,1) * std + mean), but with
    numpy's frozen legacy ``RandomState`` stream so the same seed gives the same voice forever."""
    z = np.random.RandomState(seed).standard_normal(len(std))
    return (z * std.astype(np.float64) + mean.astype(np.float64)).astype(np.float16)


def encode_speaker(emb: np.ndarray[Any, Any]) -> str:
    """ChatTTS's speaker string format (``Speaker._encode``): lzma raw + base16384 of float16."""
    import lzma

    raw = lzma.compress(
        np.asarray(emb, dtype=np.float16).tobytes(),
        format=lzma.FORMAT_RAW,
        filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}],
    )
    return str(_b14().encode_to_string(raw))


def _b14() -> Any:
    """pybase16384 (ChatTTS's speaker-string codec; a chattts dependency, untyped)."""
    return importlib.import_module("pybase16384")


def decode_speaker(text: str) -> np.ndarray[Any, np.dtype[np.float16]]:
    import lzma

    raw = lzma.decompress(
        _b14().decode_from_string(text),
        format=lzma.FORMAT_RAW,
        filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}],
    )
    return np.frombuffer(raw, dtype=np.float16).copy()


class ChatTTSEngine:
    def __init__(self, spec: EngineSpec) -> None:
        o = dict(spec.options)
        self._name = spec.name
        if not o.get("asset_dir"):
            raise EngineError(f"engine {spec.name!r}: option asset_dir is required")
        self._root = _asset_root(Path(str(o["asset_dir"])).expanduser())
        self._device_opt = str(o.get("device", "auto"))
        self._dtype_opt = str(o.get("dtype", "auto"))
        self._explicit_batch = spec.max_batch_size or o.get("max_batch_size")
        self._max_new = int(o.get("max_new_tokens", 2048))
        self._min_new = int(o.get("min_new_tokens", 0))
        self._refine_max_new = int(o.get("refine_max_new_tokens", 384))
        self._rep_penalty = float(o.get("repetition_penalty", 1.05))
        param_keys = ("temperature", "top_p", "top_k", "refine_text", "oral", "laugh", "break")
        self._defaults: dict[str, str] = {k: str(o[k]) for k in param_keys if k in o}
        self._default_speaker = str(o.get("default_speaker", "chattts_01"))
        self._allow_control = bool(o.get("allow_control_tokens", False))
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
        self._punct = str.maketrans(_PUNCT)
        self._builtin = _read_builtin_speakers()
        self._user_speakers = dict(_read_user_speakers(o, spec.name))
        self._version = f"{ENGINE_VERSION}:{_chattts_version()}:{self._digest()}"
        self._lock = threading.Lock()  # model work, one step at a time
        self._mem_lock = threading.Lock()
        self._reserved = 0  # bytes estimated for batches in flight
        self._chat: Any = None
        self._torch: Any = None
        self._device: Any = None
        self._speaker_cache: dict[str, Any] = {}
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
        try:
            # Imported by name: torch and chattts are an optional extra, and untyped (ChatTTS) or
            # absent where mypy runs; everything from them is Any here.
            torch = importlib.import_module("torch")
            chat_cls = importlib.import_module("ChatTTS").Chat
            config_cls = importlib.import_module("ChatTTS.config").Config
            parametrize = importlib.import_module("torch.nn.utils.parametrize")
        except ImportError as exc:
            raise EngineError(f"engine {self._name!r}: pip install 'ttsgate[chattts]' ({exc})") from exc
        if self._num_threads:
            torch.set_num_threads(self._num_threads)
        device = self._pick_device(torch)
        cfg_file = self._config_file()
        overrides: dict[str, Any] = json.loads(cfg_file.read_text("utf-8")) if cfg_file else {}
        chat = chat_cls(logging.getLogger("ttsgate.chattts"))
        chat.config = build_config(config_cls, overrides)
        paths = {k: str(self._root / _in_asset(v)) for k, v in dataclasses.asdict(chat.config.path).items()}
        missing = [p for p in paths.values() if not Path(p).exists()]
        if missing:
            raise EngineError(f"engine {self._name!r}: missing ChatTTS assets: {', '.join(missing)}")
        try:
            ok = chat._load(device=device, compile=self._compile, **paths)
        except Exception as exc:  # torch/safetensors/transformers errors: wrong or corrupt assets
            raise EngineError(f"engine {self._name!r}: cannot load ChatTTS from {self._root}: {exc}") from exc
        if not ok:
            raise EngineError(f"engine {self._name!r}: ChatTTS did not load every module")
        # The output heads are weight-normed: ChatTTS recomputes w = g * v / |v| at every step.
        # Freeze them once (same values, 4-5 fewer kernels per generated token).
        for head in (chat.embed.head_text, *chat.embed.head_code):
            if parametrize.is_parametrized(head, "weight"):
                parametrize.remove_parametrizations(head, "weight", leave_parametrized=True)
        if device.type == "cuda" and self._dtype_opt in ("auto", "float16"):
            chat.gpt.gpt.half()  # the Llama body; embeddings, heads and decoders stay float32
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
        for name in self._user_speakers:  # fail at load, not mid-request
            self._speaker_tensor(name)

    def batch_key(self, item: SynthesisInput) -> Hashable:
        return self._sampling(item)  # validates params: a bad value fails only its own request

    def synthesize(self, batch: Sequence[SynthesisInput]) -> list[AudioChunk]:
        out: list[AudioChunk | None] = [None] * len(batch)
        for sampling, idx in _groups(batch, self._sampling).items():
            rows = [self._row(batch[i], sampling) for i in idx]
            for i, chunk in zip(idx, self._run(rows, sampling), strict=True):
                out[i] = chunk
        return [c if c is not None else AudioChunk.silence(_EMPTY_S, SAMPLE_RATE) for c in out]

    def synthesize_stream(
        self, batch: Sequence[SynthesisInput], cancel: threading.Event | None = None
    ) -> Iterator[list[AudioChunk | None]]:
        """Audio as it is generated: each yield has, per item, new samples or None. An item is
        complete when the iterator ends (or earlier: rows that finish early are flushed at once).
        ``cancel`` (or closing the iterator) stops generation within one ``stream_step_tokens``."""
        chat, torch, plan = self._require()
        sampling = self._sampling(batch[0])
        if any(self._sampling(it) != sampling for it in batch):
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
                        yield [self._chunk(p) for p in pieces]
                if last is not None:
                    with self._lock, torch.inference_mode():
                        pieces = cs.step(states, [len(h) for h in last], True, self._window_decoder(last))
                    if any(p is not None for p in pieces):
                        yield [self._chunk(p) for p in pieces]
            finally:
                ctx.set(True)
                with self._lock:
                    gen.close()

    def close(self) -> None:
        self._chat = None
        self._speaker_cache.clear()
        if self._torch is not None and self._device is not None and self._device.type == "cuda":
            self._torch.cuda.empty_cache()

    # -- memory ----------------------------------------------------------------------------------
    @property
    def gpu_memory_bytes(self) -> int:
        """GPU memory allocated by this process on the engine's device (0 on CPU or not loaded)."""
        if self._torch is None or self._device is None or self._device.type != "cuda":
            return 0
        return int(self._torch.cuda.memory_allocated(self._device))

    @property
    def model_bytes(self) -> int:
        """Bytes of the loaded weights and buffers (any device)."""
        if self._chat is None:
            return 0
        total = 0
        for mod in (self._chat.gpt, self._chat.embed, self._chat.decoder, self._chat.dvae, self._chat.vocos):
            for t in [*mod.parameters(), *mod.buffers()]:
                total += t.numel() * t.element_size()
        return total

    def estimate_batch_bytes(self, rows: int, new_tokens: int, prompt_tokens: int = 128) -> int:
        """Rough working memory of one batch: KV cache + kept hiddens + decoder activations."""
        if self._chat is None:
            return 0
        g = self._chat.config.gpt
        half = self._device is not None and self._device.type == "cuda" and self._dtype_opt != "float32"
        kv_elem = 2 if half else 4
        kv = 2 * g.num_hidden_layers * rows * (prompt_tokens + new_tokens) * g.hidden_size * kv_elem
        hiddens = rows * new_tokens * g.hidden_size * 4
        dec = rows * 2 * new_tokens * self._chat.config.decoder.hidden * 4 * 8
        return int(kv + hiddens + dec)

    @contextlib.contextmanager
    def _reserve(self, rows: int, new_tokens: int) -> Iterator[None]:
        need = self.estimate_batch_bytes(rows, new_tokens)
        with self._mem_lock:
            self._check_memory(need)
            self._reserved += need
        try:
            yield
        finally:
            with self._mem_lock:
                self._reserved -= need

    def _check_memory(self, need: int) -> None:
        torch, dev = self._torch, self._device
        if dev is not None and dev.type == "cuda" and self._gpu_fraction < 1.0:
            free, total = torch.cuda.mem_get_info(dev)
            if total - free + self._reserved + need > self._gpu_fraction * total:
                raise OverloadedError(
                    f"engine {self._name!r}: a batch needing ~{need / 2**20:.0f} MB would push GPU memory "
                    f"past {self._gpu_fraction:.0%}",
                    retry_after_s=2.0,
                    code="memory",
                )
        if self._memory_limit and self.model_bytes + self._reserved + need > self._memory_limit:
            raise OverloadedError(
                f"engine {self._name!r}: model {self.model_bytes / 2**20:.0f} MB + in flight "
                f"{self._reserved / 2**20:.0f} MB + this batch ~{need / 2**20:.0f} MB exceeds "
                f"memory_limit_mb={self._memory_limit / 2**20:.0f}",
                retry_after_s=2.0,
                code="memory",
            )

    # -- internals -------------------------------------------------------------------------------
    def _require(self) -> tuple[Any, Any, cs.StreamPlan]:
        if self._chat is None or self._plan is None:
            raise EngineError(f"engine {self._name!r} is not loaded")
        return self._chat, self._torch, self._plan

    def _pick_device(self, torch: Any) -> Any:
        opt = self._device_opt
        if opt == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        dev = torch.device(opt)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise EngineError(f"engine {self._name!r}: device {opt!r} asked for but CUDA is not available")
        return dev

    def _param(self, item: SynthesisInput, key: str, default: str) -> str:
        for k, v in item.params:
            if k == key:
                return v
        return self._defaults.get(key, default)

    def _sampling(self, item: SynthesisInput) -> Sampling:
        try:
            s = Sampling(
                temperature=float(self._param(item, "temperature", "0.3")),
                top_p=float(self._param(item, "top_p", "0.7")),
                top_k=int(self._param(item, "top_k", "20")),
                refine=_flag(self._param(item, "refine_text", "false")),
            )
        except ValueError as exc:
            raise InvalidRequestError(f"engine {self._name!r}: bad parameter: {exc}", param="params") from exc
        if not (0.0 < s.temperature <= 2.0 and 0.0 < s.top_p <= 1.0 and s.top_k >= 1):
            raise InvalidRequestError(
                f"engine {self._name!r}: need 0 < temperature <= 2, 0 < top_p <= 1, top_k >= 1",
                param="params",
            )
        return s

    def _row(self, item: SynthesisInput, sampling: Sampling) -> _Row:
        levels = []
        for key, hi, default in (("oral", 9, "2"), ("laugh", 2, "0"), ("break", 7, "6")):
            try:
                v = int(self._param(item, key, default))
            except ValueError as exc:
                raise InvalidRequestError(f"engine {self._name!r}: {key}: {exc}", param="params") from exc
            if not 0 <= v <= hi:
                raise InvalidRequestError(f"engine {self._name!r}: {key} must be 0..{hi}", param="params")
            levels.append(f"[{key}_{v}]")
        text = item.text.translate(self._punct)
        if not self._allow_control:
            text = text.replace("[", "").replace("]", "")
        return _Row(
            text.strip(), item.speaker or self._default_speaker, speed_token(item.speed), "".join(levels)
        )

    def _speaker_tensor(self, name: str) -> Any:
        cached = self._speaker_cache.get(name)
        if cached is not None:
            return cached
        chat, torch = self._chat, self._torch
        dim = int(chat.config.gpt.hidden_size)
        std = chat.speaker.std.float().cpu().numpy()
        mean = chat.speaker.mean.float().cpu().numpy()
        if name in self._user_speakers:
            try:
                emb = decode_speaker(self._user_speakers[name])
            except Exception as exc:
                raise EngineError(
                    f"engine {self._name!r}: speaker {name!r}: not a ChatTTS embedding: {exc}"
                ) from exc
        elif name in self._builtin and self._builtin[name]["dim"] == dim:
            emb = decode_speaker(self._builtin[name]["emb"])
        else:  # builtin name on another model size, "seed:N", or any other name (stable per name)
            if name in self._builtin:
                seed = int(self._builtin[name]["seed"])
            elif name.startswith("seed:") and name[5:].isdigit():
                seed = int(name[5:])
            else:
                seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")
            emb = derive_speaker(seed, std, mean)
        if emb.shape != (dim,):
            raise EngineError(f"engine {self._name!r}: speaker {name!r} has {emb.shape[0]} dims, model {dim}")
        tensor = torch.from_numpy(emb.astype(np.float32))
        self._speaker_cache[name] = tensor
        return tensor

    def _generate(self, rows: Sequence[_Row], sampling: Sampling, ctx: Any, *, stream: bool) -> Any:
        """ChatTTS's ``_infer_code`` for a batch of rows with per-row speaker and prompt (lock held)."""
        gen_logits = importlib.import_module("ChatTTS.model").gen_logits

        chat, torch = self._chat, self._torch
        texts = [r.text for r in rows]
        if sampling.refine:
            texts = self._refine(rows, ctx)
        decorated = [
            chat.speaker.decorate_code_prompts([t], f"[speed_{r.speed_token}]", None, "spk")[0]
            for t, r in zip(texts, rows, strict=True)
        ]
        num_vq = chat.config.gpt.num_vq
        input_ids, attention_mask, text_mask = chat.tokenizer.encode(
            decorated, num_vq, device=chat.device_gpt
        )
        emb = chat.embed(input_ids, text_mask)
        for i, r in enumerate(rows):
            chat.speaker.apply(
                emb.narrow(0, i, 1),
                self._speaker_tensor(r.speaker),
                input_ids.narrow(0, i, 1),
                chat.tokenizer.spk_emb_ids,
                chat.device_gpt,
            )
        num_code = int(chat.config.gpt.num_audio_tokens) - 1
        warpers, processors = gen_logits(
            num_code=num_code,
            top_P=sampling.top_p,
            top_K=sampling.top_k,
            repetition_penalty=self._rep_penalty,
        )
        return chat.gpt.generate(
            emb,
            input_ids,
            temperature=torch.tensor([sampling.temperature] * num_vq, device=chat.device),
            eos_token=num_code,
            attention_mask=attention_mask,
            max_new_token=self._max_new,
            min_new_token=self._min_new,
            logits_processors=(*processors, *warpers),
            infer_text=False,
            return_hidden=True,
            stream=stream,
            show_tqdm=False,
            ensure_non_empty=True,
            stream_batch=self._stream_opts["step_tokens"],
            context=ctx,
        )

    def _refine(self, rows: Sequence[_Row], ctx: Any) -> list[str]:
        """ChatTTS's ``_refine_text`` with a per-row prompt (oral/laugh/break levels)."""
        gen_logits = importlib.import_module("ChatTTS.model").gen_logits

        chat, torch = self._chat, self._torch
        prompts = [f"[Sbreak]{r.text}[Pbreak]{r.refine_prompt}" for r in rows]
        input_ids, attention_mask, text_mask = chat.tokenizer.encode(
            prompts, chat.config.gpt.num_vq, device=chat.device_gpt
        )
        emb = chat.embed(input_ids, text_mask)
        warpers, processors = gen_logits(
            num_code=chat.tokenizer.len, top_P=0.7, top_K=20, repetition_penalty=1.0
        )
        res = next(
            chat.gpt.generate(
                emb,
                input_ids,
                temperature=torch.tensor([0.7], device=chat.device),
                eos_token=chat.tokenizer.eos_token,
                attention_mask=attention_mask,
                max_new_token=self._refine_max_new,
                min_new_token=0,
                logits_processors=(*processors, *warpers),
                infer_text=True,
                stream=False,
                show_tqdm=False,
                ensure_non_empty=True,
                context=ctx,
            )
        )
        ids = [i[i.less(chat.tokenizer.break_0_ids)] for i in res.ids]
        return [str(t) for t in chat.tokenizer.decode(ids)]

    def _decode(self, hiddens: Sequence[Any]) -> list[Float32Array]:
        """GPT hiddens ([T_i, H] each) → audio per row, one decoder + Vocos call (``_decode_to_wavs``)."""
        chat, torch = self._chat, self._torch
        lengths = [int(h.size(0)) for h in hiddens]
        width = max(max(lengths), 1)
        first = hiddens[0]
        batch = torch.zeros((len(hiddens), first.size(1), width), dtype=first.dtype, device=first.device)
        for i, h in enumerate(hiddens):
            batch[i].narrow(1, 0, h.size(0)).copy_(h.permute(1, 0))
        mel = chat.decoder(batch)
        wav = chat._vocos_decode(mel)
        spt = self._plan.samples_per_token if self._plan else 512
        out = []
        for i, n in enumerate(lengths):
            row = np.asarray(wav[i], dtype=np.float32)[: max(0, n * spt - spt // 2)]
            out.append(np.clip(row, -1.0, 1.0).astype(np.float32))
        return out

    def _window_decoder(self, hiddens: Sequence[Any]) -> cs.DecodeFn:
        def decode(windows: Sequence[tuple[int, int, int]]) -> list[Float32Array]:
            return self._decode([hiddens[i].narrow(0, s, e - s) for i, s, e in windows])

        return decode

    def _run(self, rows: Sequence[_Row], sampling: Sampling) -> list[AudioChunk]:
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

    def _config_file(self) -> Path | None:
        for where in (self._root, self._root.parent):
            if (where / CONFIG_FILE).is_file():
                return where / CONFIG_FILE
        return None

    def _digest(self) -> str:
        h = hashlib.sha256()
        for p in sorted(self._root.rglob("*")) if self._root.is_dir() else []:
            if p.is_file():
                st = p.stat()  # size + mtime: new weights of the same shape must change the version
                h.update(f"{p.relative_to(self._root)}:{st.st_size}:{st.st_mtime_ns};".encode())
        cfg = self._config_file()
        if cfg is not None:
            h.update(cfg.read_bytes())
        h.update(json.dumps(self._user_speakers, sort_keys=True).encode())
        h.update(json.dumps(self._builtin, sort_keys=True).encode())
        return h.hexdigest()[:10]


def _in_asset(rel: str) -> Path:
    """ChatTTS's default paths are ``asset/...``: the part below ``asset``."""
    parts = Path(rel).parts
    return Path(*parts[1:]) if parts and parts[0] == "asset" else Path(rel)


def _asset_root(path: Path) -> Path:
    """The ``asset`` folder: ``path`` itself when it holds the files, else ``path/asset``."""
    return path if (path / "gpt").is_dir() or path.name == "asset" else path / "asset"


def _groups(batch: Sequence[SynthesisInput], key: Any) -> dict[Sampling, list[int]]:
    groups: dict[Sampling, list[int]] = {}
    for i, item in enumerate(batch):
        groups.setdefault(key(item), []).append(i)
    return groups


def _flag(value: str) -> bool:
    v = value.strip().lower()
    if v in ("1", "true", "on", "yes"):
        return True
    if v in ("0", "false", "off", "no"):
        return False
    raise ValueError(f"refine_text must be on/off, not {value!r}")


def _chattts_version() -> str:
    try:
        return importlib.metadata.version("chattts")
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def _read_builtin_speakers() -> dict[str, dict[str, Any]]:
    data = json.loads(resources.files("ttsgate").joinpath(SPEAKERS_RESOURCE).read_text("utf-8"))
    return {str(k): dict(v) for k, v in data["speakers"].items()}


def _read_user_speakers(o: Mapping[str, Any], name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if o.get("speakers_file"):
        path = Path(str(o["speakers_file"])).expanduser()
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise EngineError(f"engine {name!r}: speakers_file {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise EngineError(f"engine {name!r}: speakers_file {path} must hold a JSON object")
        out.update({str(k): str(v) for k, v in data.items()})
    out.update({str(k): str(v) for k, v in dict(o.get("speakers", {})).items()})
    return out
