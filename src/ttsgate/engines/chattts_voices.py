"""Speaker embeddings of the ChatTTS engine: built-in voice names, ``seed:N``, user voices.

A speaker name resolves, in this order, to: a user voice (``speakers`` / ``speakers_file`` options,
ChatTTS's embedding string), a built-in voice (``data/chattts_speakers.json``) when the model has the
built-in embedding's size, else an embedding derived from a seed — the built-in voice's seed,
``N`` of ``seed:N``, or a hash of any other name — so every name is a stable voice.
The strings are ChatTTS's format (``Speaker._encode``: lzma raw + base16384 of float16).
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ttsgate.audio.chunk import Float32Array
from ttsgate.exceptions import EngineError

SPEAKERS_RESOURCE = "data/chattts_speakers.json"


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


def read_builtin_speakers() -> dict[str, dict[str, Any]]:
    data = json.loads(resources.files("ttsgate").joinpath(SPEAKERS_RESOURCE).read_text("utf-8"))
    return {str(k): dict(v) for k, v in data["speakers"].items()}


def read_user_speakers(o: Mapping[str, Any], name: str) -> dict[str, str]:
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


class Voices:
    """One engine's speakers: the built-in table, its user voices, and a cache of speaker tensors."""

    def __init__(self, engine_name: str, options: Mapping[str, Any]) -> None:
        self._name = engine_name
        self.builtin = read_builtin_speakers()
        self.user = dict(read_user_speakers(options, engine_name))
        self._cache: dict[str, Any] = {}

    def tensor(self, name: str, chat: Any, torch: Any) -> Any:
        """The float32 CPU tensor of speaker ``name`` for the loaded ``chat`` (cached per name)."""
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        dim = int(chat.config.gpt.hidden_size)
        std = chat.speaker.std.float().cpu().numpy()
        mean = chat.speaker.mean.float().cpu().numpy()
        if name in self.user:
            try:
                emb = decode_speaker(self.user[name])
            except Exception as exc:
                raise EngineError(
                    f"engine {self._name!r}: speaker {name!r}: not a ChatTTS embedding: {exc}"
                ) from exc
        elif name in self.builtin and self.builtin[name]["dim"] == dim:
            emb = decode_speaker(self.builtin[name]["emb"])
        else:  # builtin name on another model size, "seed:N", or any other name (stable per name)
            if name in self.builtin:
                seed = int(self.builtin[name]["seed"])
            elif name.startswith("seed:") and name[5:].isdigit():
                seed = int(name[5:])
            else:
                seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")
            emb = derive_speaker(seed, std, mean)
        if emb.shape != (dim,):
            raise EngineError(f"engine {self._name!r}: speaker {name!r} has {emb.shape[0]} dims, model {dim}")
        tensor = torch.from_numpy(emb.astype(np.float32))
        self._cache[name] = tensor
        return tensor

    def clear(self) -> None:
        self._cache.clear()
