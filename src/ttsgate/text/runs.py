"""Language runs inside a segment, for routing each run to a voice of its language."""

from __future__ import annotations

import re
from typing import Literal

from ttsgate.text.tables_zh import UNITS

RunLang = Literal["zh", "en"]

_TOKEN = re.compile(
    r"(?P<han>[\u3400-\u9fff\uf900-\ufaff\u3007]+)"
    r"|(?P<lat>[A-Za-z\u00c0-\u024f]+(?:['’.\-][A-Za-z\u00c0-\u024f]+)*)"
    r"|(?P<num>\d+(?:[.,:/]\d+)*)"
    r"|(?P<other>.)",
    re.S,
)
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def detect_language(text: str) -> RunLang:
    """zh when Han characters are at least half as many as Latin letters (a Han character carries
    about as much speech as two or three letters), else en; text with neither is zh."""
    han = len(_HAN.findall(text))
    latin = len(_LATIN.findall(text))
    if han == 0 and latin > 0:
        return "en"
    return "zh" if han * 2 >= latin else "en"


def split_language_runs(segment: str, default: RunLang | None = None) -> list[tuple[str, str]]:
    """Split ``segment`` into ("zh", text) and ("en", text) runs; concatenated they give ``segment``.

    Han characters make zh runs, Latin words en runs. Digits join the Latin word just before them
    ("iPhone 15", "GPT-4"), else the Han text before or after them. Single letters next to Han text
    or digits ("A股", "B站", "5G") and unit symbols right after a Chinese number ("16GB内存") stay
    zh. Whitespace and punctuation join the run before them (the first run when leading).
    """
    lang_default: RunLang = default or detect_language(segment)
    tokens = [(m.lastgroup or "other", m.group(0)) for m in _TOKEN.finditer(segment)]
    langs: list[str | None] = [None] * len(tokens)
    for i, (kind, _) in enumerate(tokens):
        if kind == "han":
            langs[i] = "zh"
    for i, (kind, text) in enumerate(tokens):
        if kind != "lat":
            continue
        prev_kind = tokens[i - 1][0] if i > 0 else ""
        next_kind = tokens[i + 1][0] if i + 1 < len(tokens) else ""
        near_zh = prev_kind in ("han", "num") or next_kind == "han"
        if (len(text) == 1 and near_zh) or (
            text in UNITS and prev_kind == "num" and _num_is_zh(tokens, i - 1)
        ):
            langs[i] = "zh"
        else:
            langs[i] = "en"
    for i, (kind, _) in enumerate(tokens):
        if kind == "num":
            langs[i] = _num_lang(tokens, langs, i) or lang_default
    runs: list[list[str]] = []
    pending = ""
    for (_, text), lang in zip(tokens, langs, strict=True):
        if lang is None:
            if runs:
                runs[-1][1] += text
            else:
                pending += text
            continue
        if runs and runs[-1][0] == lang:
            runs[-1][1] += text
        else:
            runs.append([lang, pending + text])
        pending = ""
    if not runs:
        return [(lang_default, segment)] if segment else []
    return [(lang, text) for lang, text in runs]


def _num_is_zh(tokens: list[tuple[str, str]], i: int) -> bool:
    return i > 0 and tokens[i - 1][0] == "han"


def _num_lang(tokens: list[tuple[str, str]], langs: list[str | None], i: int) -> str | None:
    j = i - 1
    if (
        j >= 0
        and tokens[j][0] == "other"
        and tokens[j][1] in " -"
        and j - 1 >= 0
        and tokens[j - 1][0] == "lat"
    ):
        j -= 1
    if j >= 0 and langs[j] is not None:
        return langs[j]
    k = i + 1
    if k < len(tokens) and langs[k] is not None:
        return langs[k]
    return None
