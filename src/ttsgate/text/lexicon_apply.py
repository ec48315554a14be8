"""Applying a pronunciation lexicon to one segment: its language runs with the lexicon's readings.

Lexicon words are found in the segment as written (after cleanup, before normalization). Each match
becomes a span of its entry's language whatever the run splitter would have made of it (``A`` as
an English entry is spoken in English even next to Han text), and is never normalized. A Mandarin run
is normalized whole with its Han lexicon words in place (a number still sees its measure word or
year: 2公里 → 两公里), then each word takes its reading; other runs are normalized piece by piece
around their matches (a lexicon word is a boundary for normalization), the match
is replaced by its respelling or kept as a mark (``text/marks.py``) that carries its pinyin or IPA
to the engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ttsgate.text import marks
from ttsgate.text.lexicon import Entry, Lexicon, Match
from ttsgate.text.runs import RunLang, split_language_runs

if TYPE_CHECKING:
    from ttsgate.text.pipeline import Segment

Part = str | Match
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f〇]+")


def lexicon_runs(
    segment: str,
    default: RunLang,
    lexicon: Lexicon,
    normalize: Callable[[str, str], str],
) -> tuple[tuple[tuple[str, str], ...], tuple[Entry, ...]] | None:
    """``segment``'s (language, spoken text) runs with ``lexicon`` applied, and the entries used in
    order; None when no lexicon word occurs in it (the caller takes the usual path).
    ``normalize(text, language)`` speaks the text between lexicon words."""
    found = lexicon.find(segment)
    if not found:
        return None
    runs = _runs_with_matches(segment, default, found)
    out: list[tuple[str, str]] = []
    for lang, parts in runs:
        spoken = _in_context(segment, parts, lang, normalize)
        if spoken is None:
            spoken = "".join(_spoken(segment, p, lang, normalize) for p in parts)
        spoken = spoken.strip()
        if spoken:
            out.append((lang, spoken))
    return tuple(out), tuple(m.entry for m in found)


def _in_context(
    segment: str, parts: list[Part], lang: str, normalize: Callable[[str, str], str]
) -> str | None:
    """A zh run normalized whole, its Han lexicon words in place, then each word's reading applied:
    a number keeps its measure word or year (距离2公里 → 距离两公里, 2024年 → 二零二四年) whatever the
    lexicon says about the word. None when the normalizer changed a word (then piece by piece)."""
    matches = [p for p in parts if not isinstance(p, str)]
    if lang != "zh" or not all(_HAN.fullmatch(segment[m.start : m.end]) for m in matches):
        return None
    text = "".join(p if isinstance(p, str) else segment[p.start : p.end] for p in parts)
    spoken = normalize(text, lang)
    out: list[str] = []
    pos = 0
    for m in matches:
        word = segment[m.start : m.end]
        if spoken.count(word) != text.count(word):
            return None
        at = spoken.find(word, pos)
        out += [spoken[pos:at], _spoken(segment, m, lang, normalize)]
        pos = at + len(word)
    return "".join(out) + spoken[pos:]


def _spoken(segment: str, part: Part, lang: str, normalize: Callable[[str, str], str]) -> str:
    if isinstance(part, str):
        return normalize(part, lang) if part.strip() else part
    entry = part.entry
    if entry.kind == "respelling":
        return entry.reading
    # The word as written in the input: what an engine that cannot use the reading says.
    return marks.mark(segment[part.start : part.end], entry.kind, entry.reading)


def _runs_with_matches(segment: str, default: RunLang, found: list[Match]) -> list[tuple[str, list[Part]]]:
    # The usual runs with their offsets (they concatenate to the segment).
    spans: list[tuple[str, int, int]] = []
    pos = 0
    for lang, text in split_language_runs(segment, default):
        spans.append((lang, pos, pos + len(text)))
        pos += len(text)
    pieces: list[tuple[str, Part]] = []
    cursor = 0
    for m in [*found, None]:
        gap_end = m.start if m is not None else len(segment)
        for lang, s, e in spans:  # the usual runs' text between two matches
            lo, hi = max(s, cursor), min(e, gap_end)
            if lo < hi:
                pieces.append((lang, segment[lo:hi]))
        if m is not None:
            pieces.append((m.entry.language, m))
            cursor = m.end
    # Text with nothing to speak (spaces, punctuation) joins the piece before it (or after it).
    runs: list[tuple[str, list[Part]]] = []
    leading: list[Part] = []
    for lang, part in pieces:
        if isinstance(part, str) and not any(ch.isalnum() for ch in part):
            if runs:
                runs[-1][1].append(part)
            else:
                leading.append(part)
            continue
        if runs and runs[-1][0] == lang:
            runs[-1][1].append(part)
        else:
            runs.append((lang, [*leading, part]))
            leading = []
    return runs


def report(segments: Sequence[Segment], lexicon: Lexicon) -> dict[str, Any]:
    """``POST /v1/text/normalize``'s body: ``normalized`` (the plain spoken text: a lexicon word with
    pinyin or IPA as written, a respelling substituted), ``spoken`` (the same with each reading
    shown, ``{乐清|yue4 qing1}``), per segment its runs and lexicon entries, and the lexicon in use."""
    applied = [e.describe() for s in segments for e in s.lexicon]
    return {
        "normalized": "".join(marks.plain(t) for s in segments for _, t in s.runs),
        "spoken": "".join(marks.display(t) for s in segments for _, t in s.runs),
        "segments": [
            {
                "text": s.text,
                "runs": [
                    {"language": lang, "text": marks.plain(t), "spoken": marks.display(t)}
                    for lang, t in s.runs
                ],
                "lexicon": [e.describe() for e in s.lexicon],
            }
            for s in segments
        ],
        "lexicon": {"version": lexicon.version, "applied": applied},
    }
