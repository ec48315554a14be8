"""Exact-match accuracy of the normaliser on the curated test sets, per category."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from ttsgate.text import TextNormalizer

DATA = Path(__file__).resolve().parents[1] / "data"


def load_cases(lang: str) -> list[dict[str, str]]:
    with (DATA / f"text_normalization_{lang}.tsv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


@pytest.fixture(scope="module")
def normalizer() -> TextNormalizer:
    return TextNormalizer()


@pytest.mark.parametrize(("lang", "min_cases"), [("zh", 500), ("en", 60)])
def test_accuracy(normalizer: TextNormalizer, lang: str, min_cases: int) -> None:
    cases = load_cases(lang)
    assert len(cases) >= min_cases
    per_cat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    failures = []
    for case in cases:
        got = normalizer.normalize(case["input"], lang)
        ok = got == case["expected"]
        per_cat[case["category"]][0] += ok
        per_cat[case["category"]][1] += 1
        if not ok:
            failures.append(f"{case['category']}: {case['input']!r} -> {got!r} (want {case['expected']!r})")
    total = sum(c[0] for c in per_cat.values()) / len(cases)
    report = "\n".join(f"{cat:14s} {c[0]}/{c[1]}" for cat, c in sorted(per_cat.items()))
    assert total >= 0.97, f"accuracy {total:.1%}\n{report}\n" + "\n".join(failures)


def test_zh_set_covers_every_category() -> None:
    categories = {case["category"] for case in load_cases("zh")}
    needed = {"cardinal", "digits", "year", "date", "time", "percent", "fraction", "decimal", "negative"}
    needed |= {"range", "money", "unit", "math", "score", "ordinal", "mixed", "liang", "code"}
    needed |= {"generation", "sign", "traditional"}
    assert needed <= categories
