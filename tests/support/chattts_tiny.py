"""A tiny, randomly initialized ChatTTS model in ChatTTS's own asset layout (for tests and benchmarks).

Same architecture as the real model (Llama GPT + Embed heads, DVAE with GFSQ, DVAE decoder, Vocos),
built from ChatTTS's own classes at reduced sizes, saved the way the real release is laid out::

    <root>/asset/gpt/{config.json,model.safetensors}
    <root>/asset/{Embed,DVAE,Decoder,Vocos}.safetensors
    <root>/asset/tokenizer/{tokenizer.json,tokenizer_config.json,special_tokens_map.json}
    <root>/ttsgate-chattts.json      sizes that differ from ChatTTS's defaults (+ speaker stats)

The tokenizer is a BERT WordPiece tokenizer made here (ASCII, CJK U+4E00-U+9FFF, ChatTTS's control
tokens after the ordinary ones, as in the real vocabulary): nothing is downloaded. Random weights
speak noise of random length; callers cap ``max_new_tokens``.

The GPT's size is a parameter of ``build_tiny_chattts`` (``hidden``, ``layers``, ``heads``,
``intermediate``): the defaults are the tests' tiny model; ``SMALL_GPT`` is a larger one for
benchmarks (whose weights, like the real model's, do not fit in the CPU caches). The DVAE, decoder and
Vocos stay tiny at every size (the decoder's input width follows ``hidden``).
"""

from __future__ import annotations

import json
import lzma
import re
from pathlib import Path
from typing import Any

import numpy as np

# Sizes: a hidden of 64 (the decoder takes hidden/2 = 32 channels per mel frame pair).
HIDDEN = 64
LAYERS = 2
HEADS = 4
INTERMEDIATE = 128
TINY_CONFIG: dict[str, Any] = {
    "gpt": {
        "hidden_size": HIDDEN,
        "intermediate_size": INTERMEDIATE,
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "max_position_embeddings": 2048,
    },
    "embed": {"hidden_size": HIDDEN},
    "decoder": {"idim": HIDDEN // 2, "odim": HIDDEN // 2, "hidden": 32, "n_layer": 2, "bn_dim": 16},
    "dvae": {
        "encoder": {"idim": 32, "odim": 64, "hidden": 32, "n_layer": 1, "bn_dim": 16},
        "decoder": {"idim": 32, "odim": 32, "hidden": 32, "n_layer": 1, "bn_dim": 16},
        "vq": {"dim": 64, "levels": [5, 5, 5, 5], "G": 2, "R": 2},
    },
    "vocos": {
        "backbone": {"init_args": {"dim": 32, "intermediate_dim": 64, "num_layers": 1}},
        "head": {"init_args": {"dim": 32}},
    },
}
CONFIG_FILE = "ttsgate-chattts.json"

# A "small" GPT for benchmarks: the real model's width (hidden 768, 12 heads of 64, MLP 4x) at 4 of
# its 20 layers: 37.8 M parameters = 151 MB of float32 layer weights (real: 189 M = 755 MB), well over
# a CPU's L3 cache (32 MB here), so every decoding step streams its weights from memory as the real
# model's does, and each layer has the real compute per byte of weights. Builds in ~15 s, runs ~1.4 s
# per 64-token sentence on one core.
SMALL_GPT: dict[str, int] = {"hidden": 768, "layers": 4, "heads": 12, "intermediate": 3072}

CONTROL_TOKENS_BELOW_BREAK = ["[uv_break]", "[v_break]", "[lbreak]", "[laugh]"]
CONTROL_TOKENS = [
    *[f"[break_{i}]" for i in range(8)],
    "[Stts]",
    "[Ptts]",
    "[spk_emb]",
    "[empty_spk]",
    "[Sbreak]",
    "[Pbreak]",
    "[Ebreak]",
    *[f"[oral_{i}]" for i in range(10)],
    *[f"[laugh_{i}]" for i in range(3)],
    *[f"[speed_{i}]" for i in range(10)],
]


def _vocab() -> list[str]:
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    ascii_chars = [chr(c) for c in range(33, 127) if not chr(c).isupper()]
    vocab += ascii_chars + [f"##{c}" for c in ascii_chars if c.isalnum()]
    vocab += list("，。、？！：；“”‘’（）《》…—")
    vocab += [chr(c) for c in range(0x4E00, 0xA000)]
    return vocab + CONTROL_TOKENS_BELOW_BREAK + CONTROL_TOKENS


def _write_tokenizer(vocab: list[str], out: Path) -> None:
    """A BERT WordPiece tokenizer (``tokenizer.json`` + configs), built with ``tokenizers`` directly
    so it reads the same under transformers 4 and 5."""
    from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import WordPiece

    tok = Tokenizer(WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *CONTROL_TOKENS_BELOW_BREAK, *CONTROL_TOKENS]
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in specials])
    tok.save(str(out / "tokenizer.json"))
    (out / "special_tokens_map.json").write_text(
        json.dumps(
            {
                "unk_token": "[UNK]",
                "sep_token": "[SEP]",
                "pad_token": "[PAD]",
                "cls_token": "[CLS]",
                "mask_token": "[MASK]",
                "additional_special_tokens": CONTROL_TOKENS_BELOW_BREAK + CONTROL_TOKENS,
            }
        )
    )
    (out / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": 512})
    )


def _spk_stat(dim: int, rng: np.random.Generator) -> str:
    import pybase16384 as b14

    std = rng.uniform(0.5, 1.5, dim)
    mean = rng.normal(0.0, 0.5, dim)
    return str(b14.encode_to_string(np.concatenate([std, mean]).astype(np.float16).tobytes()))


def realistic_layer_scales(module: Any, seed: int = 0) -> None:
    """Random init leaves every ConvNeXt block's layer scale at 1e-6, i.e. the blocks are identities
    and the decoders see almost no context. Trained models have scales of order 0.1-1: set that, so
    the convolutions' receptive field is real (it matters for streaming joins)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    for name, p in module.named_parameters():
        if re.search(r"(decoder_block\.\d+\.weight|convnext\.\d+\.gamma)$", name):
            with torch.no_grad():
                p.copy_(torch.empty(p.shape).uniform_(0.2, 0.6, generator=gen))


def _save(module: Any, path: Path) -> None:
    from safetensors.torch import save_file

    save_file({k: v.detach().contiguous() for k, v in module.state_dict().items()}, str(path))


def build_tiny_chattts(
    root: Path,
    seed: int = 0,
    *,
    hidden: int = HIDDEN,
    layers: int = LAYERS,
    heads: int = HEADS,
    intermediate: int | None = None,
) -> Path:
    """Write the model under ``root`` (idempotent: reuses a complete earlier build); return root.

    ``hidden``/``layers``/``heads``/``intermediate`` size the Llama GPT (and the text/audio embeddings,
    speaker statistics and decoder input, which follow ``hidden``); ``intermediate`` defaults to
    ``2 * hidden`` (the tiny model's 128). Everything else keeps the tiny sizes. A complete build
    under ``root`` is reused whatever the sizes asked for: use one ``root`` per size."""
    if hidden % heads or hidden % 2:
        raise ValueError(f"hidden {hidden} must be even and divisible by heads {heads}")
    marker = root / ".complete"
    if marker.is_file():
        return root
    import torch
    from ChatTTS.config import Config
    from ChatTTS.model import DVAE, Embed
    from transformers import BertTokenizerFast, LlamaConfig, LlamaModel
    from vocos import Vocos
    from vocos.pretrained import instantiate_class

    from ttsgate.engines.chattts import build_config

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    asset = root / "asset"
    (asset / "gpt").mkdir(parents=True, exist_ok=True)

    # Tokenizer first: the text vocabulary size feeds the GPT/Embed config.
    tok_dir = asset / "tokenizer"
    tok_dir.mkdir(exist_ok=True)
    vocab = _vocab()
    _write_tokenizer(vocab, tok_dir)
    tokenizer = BertTokenizerFast.from_pretrained(str(tok_dir))
    assert len(tokenizer) == len(vocab), "control tokens must reuse their vocabulary ids"

    overrides: dict[str, Any] = json.loads(json.dumps(TINY_CONFIG))
    overrides["gpt"].update(
        hidden_size=hidden,
        intermediate_size=intermediate or 2 * hidden,
        num_attention_heads=heads,
        num_hidden_layers=layers,
    )
    overrides["embed"]["hidden_size"] = hidden
    overrides["decoder"].update(idim=hidden // 2, odim=hidden // 2)
    overrides["gpt"]["num_text_tokens"] = len(vocab)
    overrides["embed"]["num_text_tokens"] = len(vocab)
    overrides["spk_stat"] = _spk_stat(hidden, rng)
    cfg = build_config(Config, overrides)

    g = cfg.gpt
    llama = LlamaModel(
        LlamaConfig(
            hidden_size=g.hidden_size,
            intermediate_size=g.intermediate_size,
            num_attention_heads=g.num_attention_heads,
            num_key_value_heads=g.num_attention_heads,
            num_hidden_layers=g.num_hidden_layers,
            max_position_embeddings=g.max_position_embeddings,
            vocab_size=8,  # ChatTTS deletes embed_tokens after loading
        )
    )
    llama.save_pretrained(str(asset / "gpt"))

    e = cfg.embed
    _save(Embed(e.hidden_size, e.num_audio_tokens, e.num_text_tokens, e.num_vq), asset / "Embed.safetensors")

    from dataclasses import asdict

    dvae = DVAE(
        decoder_config=asdict(cfg.dvae.decoder),
        encoder_config=asdict(cfg.dvae.encoder),
        vq_config=asdict(cfg.dvae.vq),
        dim=cfg.dvae.decoder.idim,
    )
    realistic_layer_scales(dvae, seed)
    _save(dvae, asset / "DVAE.safetensors")
    decoder = DVAE(decoder_config=asdict(cfg.decoder), dim=cfg.decoder.idim, coef=str(dvae))
    realistic_layer_scales(decoder, seed + 1)
    _save(decoder, asset / "Decoder.safetensors")

    v = cfg.vocos
    vocos = Vocos(
        feature_extractor=instantiate_class(args=(), init=asdict(v.feature_extractor)),
        backbone=instantiate_class(args=(), init=asdict(v.backbone)),
        head=instantiate_class(args=(), init=asdict(v.head)),
    )
    realistic_layer_scales(vocos, seed + 2)
    _save(vocos, asset / "Vocos.safetensors")

    (root / CONFIG_FILE).write_text(json.dumps(overrides, ensure_ascii=False, indent=1), "utf-8")
    marker.write_text("ok\n")
    return root


def random_speaker(dim: int = HIDDEN, seed: int = 1) -> str:
    """A speaker embedding string in ChatTTS's format (lzma + base16384 of float16), for user voices."""
    import pybase16384 as b14

    arr = np.random.default_rng(seed).normal(0.0, 1.0, dim).astype(np.float16)
    raw = lzma.compress(
        arr.tobytes(),
        format=lzma.FORMAT_RAW,
        filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}],
    )
    return str(b14.encode_to_string(raw))
