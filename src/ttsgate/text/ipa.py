"""English IPA of pronunciation-lexicon entries: the symbol set, and espeak-ng's own phoneme notation.

Lexicon phonemes are written in the IPA that ``espeak-ng --ipa -v en-us`` prints, because that is
what Piper's English voices were trained on (piper-tts phonemizes with espeak-ng's IPA output and
reads ``[[...]]`` blocks of those characters as raw phonemes). The espeak-ng engine does not read
IPA: its ``[[...]]`` phoneme input uses espeak-ng's ASCII phoneme mnemonics (``tS`` for tʃ, ``@``
for ə; source: espeak-ng ``docs/phonemes.md`` and ``phsource/ph_english*``), so the same entry is
converted with ``to_espeak``. The table below was checked by a round trip through espeak-ng 1.51:
``espeak-ng --ipa "[[to_espeak(ipa)]]"`` gives the IPA back (tests/unit/test_lexicon_ipa.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# IPA (as espeak-ng en-us writes it) -> espeak-ng mnemonic. Longest IPA symbols are tried first.
_IPA_TO_ESPEAK: Mapping[str, str] = MappingProxyType(
    {
        # stress, length, word boundary
        "ˈ": "'",
        "ˌ": ",",
        "ː": ":",
        " ": " ",
        # diphthongs and r-coloured vowels first (longest match)
        "eɪ": "eI",
        "aɪ": "aI",
        "ɔɪ": "OI",
        "aʊ": "aU",
        "oʊ": "oU",
        "ɑːɹ": "A@",
        "ɔːɹ": "O@",
        "oːɹ": "o@",
        "ɛɹ": "e@",
        "ɪɹ": "i@3",
        "ʊɹ": "U@",
        "ɜː": "3:",
        "iː": "i:",
        "uː": "u:",
        "ɑː": "A:",
        "ɔː": "O:",
        "tʃ": "tS",
        "dʒ": "dZ",
        # vowels
        "ə": "@",
        "ɚ": "3",
        "ɐ": "a#",
        "ɪ": "I",
        "ᵻ": "I#",
        "i": "i",
        "ɛ": "E",
        "e": "e",
        "æ": "a",
        "a": "a",
        "ʌ": "V",
        "ʊ": "U",
        "u": "u",
        "ɑ": "A",
        "ɒ": "0",
        "ɔ": "O",
        "o": "o",
        # consonants
        "p": "p",
        "b": "b",
        "t": "t",
        "d": "d",
        "k": "k",
        "ɡ": "g",
        "f": "f",
        "v": "v",
        "θ": "T",
        "ð": "D",
        "s": "s",
        "z": "z",
        "ʃ": "S",
        "ʒ": "Z",
        "h": "h",
        "x": "x",
        "m": "m",
        "n": "n",
        "ŋ": "N",
        "l": "l",
        "ɹ": "r",
        "r": "r",
        "j": "j",
        "w": "w",
        "ɾ": "t#",
        "ʔ": "?",
    }
)
_VOWEL_START = frozenset("',@3aAeEiIoOuUV0")
_LONGEST = max(len(k) for k in _IPA_TO_ESPEAK)
#: Every character an English IPA entry may use.
IPA_CHARS: frozenset[str] = frozenset("".join(_IPA_TO_ESPEAK))


class IpaError(ValueError):
    """IPA that is not in the English symbol set (the message names the first bad character)."""


def symbols(ipa: str) -> list[str]:
    """``ipa`` cut into the table's symbols, longest first. Raises IpaError on an unknown character."""
    out: list[str] = []
    i = 0
    while i < len(ipa):
        for length in range(min(_LONGEST, len(ipa) - i), 0, -1):
            if ipa[i : i + length] in _IPA_TO_ESPEAK:
                out.append(ipa[i : i + length])
                i += length
                break
        else:
            ch = ipa[i]
            raise IpaError(f"{ch!r} (U+{ord(ch):04X}) is not an English IPA symbol espeak-ng writes")
    return out


def canonical(ipa: str) -> str:
    """The IPA with look-alike ASCII as espeak-ng writes it (``g`` → ɡ, ``:`` → ː), spaces collapsed."""
    return " ".join(ipa.replace("g", "ɡ").replace(":", "ː").split())


def check(ipa: str) -> None:
    """Raise IpaError unless ``ipa`` is non-empty English IPA with at least one phoneme."""
    syms = symbols(ipa)
    if not any(s not in ("ˈ", "ˌ", "ː", " ") for s in syms):
        raise IpaError("no phoneme in the IPA")


def to_espeak(ipa: str) -> str:
    """espeak-ng's mnemonic form of English IPA (for its ``[[...]]`` input), e.g. ``ˈɛndʒɪn`` → ``'EndZIn``.

    espeak-ng links a schwa to a following vowel with an r (``@'oU`` → əɹˈoʊ); a ``_`` between
    them (no pause in espeak-ng's output) keeps the IPA as written."""
    out: list[str] = []
    syms = symbols(ipa)
    for k, sym in enumerate(syms):
        out.append(_IPA_TO_ESPEAK[sym])
        if out[-1].endswith("@") and k + 1 < len(syms) and _IPA_TO_ESPEAK[syms[k + 1]][:1] in _VOWEL_START:
            out.append("_")
    return "".join(out)
