"""``prepare``: cleanup → segmentation → language runs → normalisation, for one reply."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ttsgate.text import marks
from ttsgate.text.cleanup import clean_for_speech
from ttsgate.text.lexicon import Entry, Lexicon
from ttsgate.text.lexicon_apply import lexicon_runs
from ttsgate.text.normalizer import TextNormalizer, parse_lang
from ttsgate.text.runs import RunLang, detect_language, split_language_runs
from ttsgate.text.scripts import script_of
from ttsgate.text.segment import split_segments


@dataclass(frozen=True)
class Segment:
    """One unit of synthesis.

    ``text`` is the display text (for subtitles); ``runs`` are (language, normalised speakable
    text) pairs in order, each to be spoken by a voice of that language (a run's text may hold
    lexicon marks, ``text/marks.py``); ``lexicon`` the pronunciation-lexicon entries applied, in order.
    """

    text: str
    runs: tuple[tuple[str, str], ...]
    lexicon: tuple[Entry, ...] = ()

    def expected_audio_s(self, speed: float = 1.0) -> float:
        """A rough length of this segment's speech (``expected_speech_s`` of its runs)."""
        return sum(expected_speech_s(text, speed) for _, text in self.runs)


# Seconds of speech per character, by script: a Han character or a Hangul block is a syllable, a
# kana a mora; the letters of alphabets and abugidas (combining marks included) ~14 per second.
_SYLLABLE_S = {"hangul": 1 / 5.0, "kana": 1 / 7.5}
_HAN_S = 1 / 4.5
_LETTER_S = 1 / 14.0


def expected_speech_s(text: str, speed: float = 1.0) -> float:
    """A rough length of the speech of spoken (normalized) text: ~4.5 Han characters, ~5 Hangul
    blocks, ~7.5 kana or ~14 other characters per second at ``speed`` 1. Used to schedule (when
    audio will be needed, how much work is queued), never to cut audio."""
    total = 0.0
    for ch in marks.plain(text):
        if "\u3400" <= ch <= "\u9fff":
            total += _HAN_S
        elif ch >= "\u1100":
            total += _SYLLABLE_S.get(script_of(ch) or "", _LETTER_S)
        else:
            total += _LETTER_S
    return total / max(speed, 0.1)


@functools.cache
def default_normalizer() -> TextNormalizer:
    """A process-wide ``TextNormalizer``, created on first use (~0.3 s) and kept.

    This is the one cached factory of the package, used by the ``normalize``/``prepare``
    conveniences; a server should create and hold its own instance instead.
    """
    return TextNormalizer()


def prepare(
    text: str,
    lang_hint: str | None = None,
    *,
    normalizer: TextNormalizer | None = None,
    first_max: int = 20,
    max_len: int = 80,
    verbatim_latin: bool = False,
    lexicon: Lexicon | None = None,
) -> list[Segment]:
    """Clean LLM output, split it for streaming, route runs by language and normalise each run.

    ``lang_hint`` ("zh", "en", None or "auto") is the document language, used for pieces that
    have no script of their own (digits only); when absent it comes from the text (mostly Han → zh).
    ``verbatim_latin`` leaves Latin-script runs unnormalised (labelled "en" as the script), for a
    voice of another Latin-script language whose engine reads numbers itself (espeak-ng's French…).
    ``lexicon``: pronunciation entries applied to each segment before its runs are normalized
    (``text/lexicon_apply.py``).
    """
    norm = normalizer or default_normalizer()
    cleaned = clean_for_speech(marks.strip_reserved(text))
    default: RunLang = (
        detect_language(cleaned) if lang_hint in (None, "", "auto") else parse_lang(lang_hint or "zh")
    )
    out: list[Segment] = []
    for seg in split_segments(cleaned, first_max=first_max, max_len=max_len):
        if lexicon and (
            applied := lexicon_runs(
                seg, default, lexicon, lambda t, lang: _speakable(norm, t, lang, verbatim_latin, strip=False)
            )
        ):
            out.append(Segment(text=seg, runs=applied[0], lexicon=applied[1]))
            continue
        runs = tuple(
            (lang, spoken)
            for lang, run_text in split_language_runs(seg, default)
            if has_speech(spoken := _speakable(norm, run_text, lang, verbatim_latin))
        )
        if runs:
            out.append(Segment(text=seg, runs=runs))
    return out


def _speakable(norm: TextNormalizer, text: str, lang: str, verbatim_latin: bool, strip: bool = True) -> str:
    """A run's spoken text: zh and en normalized (Latin verbatim for another Latin-script voice);
    a run of another script (ja, ko, th, ru …) as written, its voice reads its own numbers."""
    verbatim = lang not in ("zh", "en") or (verbatim_latin and lang == "en")
    spoken = text if verbatim else norm.normalize(text, lang)
    return spoken.strip() if strip else spoken


def has_speech(text: str) -> bool:
    """Whether ``text`` holds something a voice can say: a letter or digit of any script.

    The one rule for "nothing to speak" (docs/reading.md): punctuation (``。。。``, a lone ``”``),
    symbols, emoji and markup alone are not speech; a letter of any script is (kana, hangul, Thai
    consonants …: a run of a script no voice speaks is refused when it is routed, never dropped).
    ``prepare`` applies it to each normalized run (so a symbol the normalizer reads, ``%`` → 百分之 /
    percent, counts); a segment left without runs is not a segment, and a request left without
    segments is refused (``SpeechPipeline.plan``).
    """
    return any(ch.isalnum() for ch in text)
