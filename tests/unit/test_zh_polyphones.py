"""Polyphone accuracy of the zh-baker front end: ``tests/data/polyphones_zh.tsv`` (word or sentence →
the expected reading of each polyphone in it) must all pass; the front end's ``pinyin`` gives the
citation readings (before tone sandhi) the voice gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from ttsgate.engines.zh_frontend import MandarinFrontend

_DATA = Path(__file__).parent.parent / "data" / "polyphones_zh.tsv"


def _cases() -> list[tuple[str, list[tuple[str, str]]]]:
    out = []
    for line in _DATA.read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, expected = line.split("\t")
        out.append((text, [tuple(p.split("=")) for p in expected.split()]))
    return out  # type: ignore[return-value]


CASES = _cases()


@pytest.fixture(scope="module")
def fe() -> MandarinFrontend:
    return MandarinFrontend.with_files()


def readings(fe: MandarinFrontend, text: str, expected: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The front end's reading of each character named in ``expected``, matched left to right."""
    han = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    pinyin = fe.pinyin(text)
    assert len(pinyin) == len(han), (text, pinyin)
    got: list[tuple[str, str]] = []
    at = 0
    for ch, _ in expected:
        at = han.index(ch, at)
        got.append((ch, pinyin[at]))
        at += 1
    return got


def test_the_set_is_large_and_covers_the_frequent_polyphones() -> None:
    assert len(CASES) >= 100
    chars = {ch for _, exp in CASES for ch, _ in exp}
    assert set("长得还行重了着地觉传为好数都发处假空便应种调乐朝曾") <= chars


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[t for t, _ in CASES])
def test_polyphone(fe: MandarinFrontend, text: str, expected: list[tuple[str, str]]) -> None:
    assert readings(fe, text, expected) == expected


def test_variations_of_the_kinds(fe: MandarinFrontend) -> None:
    """The rules decide by context, not by listed sentences: other subjects, adverbs and verbs."""
    for subject in ("我", "你", "他们", "咱们", "大家", "学生", "你们明天"):
        assert readings(fe, f"{subject}得走了", [("得", "")]) == [("得", "dei3")], subject
    for verb in ("走", "说", "写", "做", "唱", "笑", "长", "跑"):
        assert readings(fe, f"他{verb}得很好", [("得", "")]) == [("得", "de5")], verb
    for adverb in ("很", "太", "真", "挺", "最", "比较", "特别", "这么", "那么", "非常", "好"):
        assert readings(fe, f"绳子{adverb}长", [("长", "")]) == [("长", "chang2")], adverb
    for adjective in ("慢慢", "轻轻", "认真", "悄悄", "高高兴兴"):
        assert readings(fe, f"他{adjective}地走了", [("地", "")]) == [("地", "de5")], adjective


def test_lexicon_and_overrides_still_win() -> None:
    fe = MandarinFrontend({"很长": ("hen3", "zhang3")})
    assert fe.pinyin("时间很长") == ["shi2", "jian1", "hen3", "zhang3"]
