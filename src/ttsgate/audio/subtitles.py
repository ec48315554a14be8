"""Subtitle cues and their SRT / WebVTT text (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Line lengths: the usual broadcast guidance, ~42 characters of Latin text, ~20 of CJK (each CJK
# character is about twice as wide). Widths are measured in Latin characters.
LINE_WIDTH = 42.0
_CJK_WIDTH = LINE_WIDTH / 20

_CJK_RE = re.compile(
    "[\u1100-\u11ff\u2e80-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f]"
)
# No line may start with these (closing punctuation) or end with these (opening punctuation).
_NO_LINE_START = set("、。，．,.!?！？:;：；)]}）］｝」』】〕〉》”’ー々ゝゞ…")
_NO_LINE_END = set("([{（［｛「『【〔〈《“‘")


@dataclass(frozen=True)
class Cue:
    """One subtitle: ``text`` shown from ``start_s`` to ``end_s`` (seconds from stream start)."""

    start_s: float
    end_s: float
    text: str

    def __post_init__(self) -> None:
        if self.start_s < 0 or self.end_s < self.start_s:
            raise ValueError(f"bad cue timing {self.start_s} -> {self.end_s}")


def _timestamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _width(token: str) -> float:
    return sum(_CJK_WIDTH if _CJK_RE.match(ch) else 1.0 for ch in token)


def _tokens(line: str) -> list[str]:
    """Unbreakable pieces: Latin words with their following space, single CJK characters;
    punctuation glued to its neighbour so it never starts (or ends) a line."""
    raw = re.findall(r"\s+|[^\s]", line)
    tokens: list[str] = []
    glue_next = False
    for piece in raw:
        is_space = piece.isspace()
        is_cjk = bool(_CJK_RE.match(piece))
        prev = tokens[-1] if tokens else ""
        joinable = prev and not prev[-1].isspace() and not _CJK_RE.match(prev[-1]) and not is_cjk
        if tokens and (glue_next or piece in _NO_LINE_START or is_space or joinable):
            tokens[-1] += " " if is_space else piece
        else:
            tokens.append(" " if is_space else piece)
        glue_next = piece in _NO_LINE_END
    return tokens


def wrap_text(text: str, width: float = LINE_WIDTH) -> list[str]:
    """Cue text as lines of at most ``width`` (Latin characters; a CJK character counts 2.1).

    Breaks between words and between CJK characters, never before closing or after opening
    punctuation; a single word longer than a line stays whole. Runs of whitespace collapse,
    and explicit line breaks in ``text`` are kept.
    """
    lines: list[str] = []
    for paragraph in text.splitlines():
        current = ""
        for token in _tokens(paragraph.strip()):
            if current and _width((current + token).rstrip()) > width + 1e-9:
                lines.append(current.rstrip())
                current = token.lstrip()
            else:
                current += token
        if current.strip():
            lines.append(current.rstrip())
    return lines


def _escape_vtt(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _blocks(cues: Iterable[Cue], sep: str, escape: bool) -> list[str]:
    blocks: list[str] = []
    for cue in cues:
        lines = wrap_text(cue.text)
        if not lines:
            continue  # a blank cue would end the block early in both formats
        if escape:
            lines = [_escape_vtt(line) for line in lines]
        times = f"{_timestamp(cue.start_s, sep)} --> {_timestamp(cue.end_s, sep)}"
        blocks.append(f"{len(blocks) + 1}\n{times}\n" + "\n".join(lines) + "\n\n")
    return blocks


def to_srt(cues: Iterable[Cue]) -> str:
    """SubRip text: numbered blocks, ``HH:MM:SS,mmm`` times, each block ended by a blank line.

    Cues with blank text are dropped (and not numbered). No cues gives ``""``.
    """
    return "".join(_blocks(cues, ",", escape=False))


def to_vtt(cues: Iterable[Cue]) -> str:
    """WebVTT text: ``WEBVTT`` header, numbered cues, ``HH:MM:SS.mmm`` times, ``& < >`` escaped.

    No cues gives ``"WEBVTT\\n\\n"``, a valid empty track.
    """
    return "WEBVTT\n\n" + "".join(_blocks(cues, ".", escape=True))
