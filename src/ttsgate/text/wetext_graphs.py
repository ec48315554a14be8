"""wetext's FSTs, loaded per instance (no module-level state), used as the fallback normaliser.

wetext's own package loads every grammar of every language into module globals when imported;
this loader reads only the two TN graphs of one language with kaldifst, locating them without
importing ``wetext``, and re-implements wetext's tiny token re-ordering step. Output matches
``wetext.Normalizer(lang=..., operator="tn").normalize`` except that it does not escape ``"`` and
``\\`` (wetext writes ``\\"`` for ``"``: a bug this module avoids by hiding both characters).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

from ttsgate.exceptions import NotReadyError

_TOKEN = re.compile(r'(\w+) \{((?:\s+\w+: "(?:[^"\\]|\\.)*")*)\s*\}')
_FIELD = re.compile(r'(\w+): "((?:[^"\\]|\\.)*)"')
_ORDERS: dict[str, dict[str, tuple[str, ...]]] = {
    "zh": {
        "date": ("year", "month", "day"),
        "fraction": ("denominator", "numerator"),
        "measure": ("denominator", "numerator", "value"),
        "money": ("value", "currency"),
        "time": ("noon", "hour", "minute", "second"),
    },
    "en": {
        "date": ("preserve_order", "text", "day", "month", "year"),
        "money": ("integer_part", "fractional_part", "quantity", "currency_maj"),
    },
}
#: The two characters wetext escapes in its output: text is normalised between them.
_ESCAPED = re.compile(r'(["\\])')


def fst_dir() -> Path:
    spec = importlib.util.find_spec("wetext")
    if spec is None or not spec.submodule_search_locations:
        raise NotReadyError("the wetext package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "fsts"


def reorder(tagged: str, lang: str) -> str:
    """wetext's TokenParser.reorder: put each token's fields in the verbaliser's order."""
    orders = _ORDERS[lang]
    out: list[str] = []
    for tok in _TOKEN.finditer(tagged):
        name = tok.group(1)
        fields = _FIELD.findall(tok.group(2))
        keys = [k for k, _ in fields]
        values = dict(fields)
        if name in orders and values.get("preserve_order") != "true":
            canon = orders[name]
            keys = [k for k in canon if k in values] + [k for k in keys if k not in canon]
        out.append(name + " {" + "".join(f' {k}: "{values[k]}"' for k in keys) + " }")
    return " ".join(out)


class WetextGraphs:
    """The tagger and verbaliser of one language, read once."""

    def __init__(self, lang: str) -> None:
        import kaldifst  # type: ignore[import-untyped]  # local: only the instance holds the graphs

        base = fst_dir() / lang / "tn"
        self.lang = lang
        self._tagger: Any = kaldifst.TextNormalizer(str(base / "tagger.fst"))
        self._verbalizer: Any = kaldifst.TextNormalizer(str(base / "verbalizer.fst"))

    def __call__(self, text: str) -> str:
        return "".join(piece if i % 2 else self._piece(piece) for i, piece in enumerate(_ESCAPED.split(text)))

    def _piece(self, text: str) -> str:
        core = text.strip()
        if not core:
            return text
        tagged = str(self._tagger(core)).strip()
        if not tagged:
            return text
        spoken = str(self._verbalizer(reorder(tagged, self.lang))).strip()
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()) :]
        return lead + spoken + trail
