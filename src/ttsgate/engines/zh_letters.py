"""Latin letters and Arabic digits for the Mandarin voice: each one's Baker syllables.

A Mandarin speaker reads a Latin letter inside Chinese with its English name in Mandarin sounds
(A股 = "ei gu", 4G = "si ji", X光 = "ai ke si guang"), so the zh-baker front end speaks every letter
it is given instead of dropping it: the text keeps the letter (``/v1/text/normalize`` shows A股) and
only the G2P turns it into syllables. The approximations are the usual Mandarin ones (B 比, C 西, F 艾服,
H 诶吃, L 艾勒, M 艾姆, Q 秋, R 阿尔, S 艾斯, W 达布溜, X 艾克斯, Y 歪, Z 贼), as taught in Chinese
schools; one-syllable names take the first tone, the way letters are listed (A B C → ei1 bi1 xi1).
Accented and full-width letters read as their base letter. Digits (normally already Chinese
numerals after normalization) read one by one (1 → yi1), so nothing that reaches the voice is lost.

Symbols are Baker's (``zh_frontend.SYMBOLS``): ``initial`` (``^`` for none) and ``final+tone``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from types import MappingProxyType

Syllable = tuple[str, str]

_LETTERS: dict[str, tuple[Syllable, ...]] = {
    "A": (("^", "ei1"),),
    "B": (("b", "i1"),),
    "C": (("x", "i1"),),
    "D": (("d", "i1"),),
    "E": (("^", "i1"),),
    "F": (("^", "ai2"), ("f", "u5")),
    "G": (("j", "i1"),),
    "H": (("^", "ei1"), ("ch", "iii1")),
    "I": (("^", "ai1"),),
    "J": (("zh", "ei1"),),
    "K": (("k", "ei1"),),
    "L": (("^", "ai2"), ("l", "e5")),
    "M": (("^", "ai2"), ("m", "u5")),
    "N": (("^", "en1"),),
    "O": (("^", "ou1"),),
    "P": (("p", "i1"),),
    "Q": (("q", "iou1"),),
    "R": (("^", "a4"), ("^", "er3")),
    "S": (("^", "ai2"), ("s", "ii1")),
    "T": (("t", "i1"),),
    "U": (("^", "iou1"),),
    "V": (("^", "uei1"),),
    "W": (("d", "a2"), ("b", "u5"), ("l", "iou5")),
    "X": (("^", "ai2"), ("k", "e4"), ("s", "ii1")),
    "Y": (("^", "uai1"),),
    "Z": (("z", "ei1"),),
}
_DIGITS: dict[str, tuple[Syllable, ...]] = {
    "0": (("l", "ing2"),),
    "1": (("^", "i1"),),
    "2": (("^", "er4"),),
    "3": (("s", "an1"),),
    "4": (("s", "ii4"),),
    "5": (("^", "u3"),),
    "6": (("l", "iou4"),),
    "7": (("q", "i1"),),
    "8": (("b", "a1"),),
    "9": (("j", "iou3"),),
}
#: Upper-case letter or digit → its syllables, each (initial, final+tone).
TABLE: Mapping[str, tuple[Syllable, ...]] = MappingProxyType({**_LETTERS, **_DIGITS})


def spelled(ch: str) -> tuple[Syllable, ...] | None:
    """The syllables of one character if it is a Latin letter (any case, accented, full-width) or an
    ASCII/full-width digit, else None."""
    hit = TABLE.get(ch.upper())
    if hit is not None or ch.isascii():
        return hit
    base = unicodedata.normalize("NFKD", ch)[:1]
    return TABLE.get(base.upper()) if base.isascii() and base.isalnum() else None
