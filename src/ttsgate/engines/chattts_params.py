"""Request parameters of the ChatTTS engine: per-item ``params`` → sampling settings (the ``batch_key``)
and one prepared row (text, speaker, ``[speed_N]``, refine prompt) per item. Pure Python + numpy.

Per-item ``params`` (each defaults to the engine option of the same name, then to ChatTTS's value):
``temperature`` (0.3), ``top_p`` (0.7), ``top_k`` (20), ``refine_text`` (false) form the batch key;
``oral`` (2, 0..9), ``laugh`` (0, 0..2), ``break`` (6, 0..7) only shape the row's refine prompt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ttsgate.engines.base import SynthesisInput
from ttsgate.exceptions import InvalidRequestError
from ttsgate.text import marks

PARAM_KEYS = ("temperature", "top_p", "top_k", "refine_text", "oral", "laugh", "break")
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
class Row:
    """One item of a batch, ready for the model."""

    text: str
    speaker: str
    speed_token: int
    refine_prompt: str


def speed_token(speed: float) -> int:
    """ttsgate speed (1.0 normal) → ChatTTS ``[speed_N]`` (N in 0..9, 5 normal, ±4 per octave)."""
    return int(min(9, max(0, 5 + round(4 * np.log2(max(speed, 1e-3))))))


class RequestParams:
    """Reads and validates the per-item parameters against one engine's option defaults."""

    def __init__(self, engine_name: str, options: Mapping[str, Any]) -> None:
        o = options
        self._name = engine_name
        self._defaults: dict[str, str] = {k: str(o[k]) for k in PARAM_KEYS if k in o}
        self._default_speaker = str(o.get("default_speaker", "chattts_01"))
        self._allow_control = bool(o.get("allow_control_tokens", False))
        self._punct = str.maketrans(_PUNCT)

    def param(self, item: SynthesisInput, key: str, default: str) -> str:
        for k, v in item.params:
            if k == key:
                return v
        return self._defaults.get(key, default)

    def sampling(self, item: SynthesisInput) -> Sampling:
        try:
            s = Sampling(
                temperature=float(self.param(item, "temperature", "0.3")),
                top_p=float(self.param(item, "top_p", "0.7")),
                top_k=int(self.param(item, "top_k", "20")),
                refine=_flag(self.param(item, "refine_text", "false")),
            )
        except ValueError as exc:
            raise InvalidRequestError(f"engine {self._name!r}: bad parameter: {exc}", param="params") from exc
        if not (0.0 < s.temperature <= 2.0 and 0.0 < s.top_p <= 1.0 and s.top_k >= 1):
            raise InvalidRequestError(
                f"engine {self._name!r}: need 0 < temperature <= 2, 0 < top_p <= 1, top_k >= 1",
                param="params",
            )
        return s

    def row(self, item: SynthesisInput, sampling: Sampling) -> Row:
        levels = []
        for key, hi, default in (("oral", 9, "2"), ("laugh", 2, "0"), ("break", 7, "6")):
            try:
                v = int(self.param(item, key, default))
            except ValueError as exc:
                raise InvalidRequestError(f"engine {self._name!r}: {key}: {exc}", param="params") from exc
            if not 0 <= v <= hi:
                raise InvalidRequestError(f"engine {self._name!r}: {key} must be 0..{hi}", param="params")
            levels.append(f"[{key}_{v}]")
        text = marks.plain(item.text).translate(self._punct)  # lexicon readings: ChatTTS reads the word
        if not self._allow_control:
            text = text.replace("[", "").replace("]", "")
        return Row(
            text.strip(), item.speaker or self._default_speaker, speed_token(item.speed), "".join(levels)
        )


def group_by_key(
    batch: Sequence[SynthesisInput], key: Callable[[SynthesisInput], Sampling]
) -> dict[Sampling, list[int]]:
    """Indices of ``batch`` per sampling key, in first-seen order."""
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
