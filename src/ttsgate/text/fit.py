"""Cut one language run's text into pieces an engine can take in one call.

An engine declares the most speech one call may hold (``Engine.max_speech_s(speed)``, seconds at
speed 1 as ``expected_speech_s`` estimates them): zh-baker's FastSpeech2 cannot make more than 2048
mel frames (25.6 s of audio, so ~35 characters at speed 0.25), and the memory a call takes grows
with its audio. A longer run is cut between two words (``words.split_at_words``: jieba's words for
Chinese, spaces for Latin text, never inside a number or a Latin word) into pieces that each fit;
the pipeline speaks them one after the other with a short pause.
"""

from __future__ import annotations

from ttsgate.text import marks
from ttsgate.text.pipeline import expected_speech_s
from ttsgate.text.words import split_at_words


def fit_pieces(text: str, max_speech_s: float | None) -> list[str]:
    """``text`` in pieces whose ``expected_speech_s`` (speed 1) is at most ``max_speech_s``, cut at
    word boundaries; ``[text]`` when it fits or there is no limit. Concatenated, the pieces give
    ``text``. A lexicon mark (``marks``) is never cut: a piece may then exceed the limit by that
    one word, as may a single word longer than the limit. Raises ValueError for a limit <= 0."""
    if max_speech_s is None or expected_speech_s(text) <= max_speech_s:
        return [text]
    if max_speech_s <= 0:
        raise ValueError(f"max_speech_s must be positive, got {max_speech_s}")
    out: list[str] = []
    todo = [text]
    while todo:
        piece = todo.pop()
        speech = expected_speech_s(piece)
        if speech <= max_speech_s or len(piece) < 2:
            out.append(piece)
            continue
        # Characters per piece from this piece's own density (Han ~0.22 s, Latin ~0.07 s each).
        limit = max(1, int(len(piece) * max_speech_s / speech))
        parts = _keep_marks_whole(split_at_words(piece, min(limit, len(piece) - 1)))
        if len(parts) < 2:  # one unbreakable mark: nothing more to cut
            out.append(piece)
            continue
        todo.extend(reversed(parts))
    return out


def _keep_marks_whole(parts: list[str]) -> list[str]:
    """Join a piece that ends inside a lexicon mark with the pieces after it, up to the mark's end."""
    out: list[str] = []
    for part in parts:
        if out and out[-1].count(marks.OPEN) > out[-1].count(marks.CLOSE):
            out[-1] += part
        else:
            out.append(part)
    return out
