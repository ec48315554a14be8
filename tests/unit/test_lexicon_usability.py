"""Lexicon entries as users write them: a BOM, tone marks, 儿化 as nar3, Traditional text, C#,
Han respellings of English words, numbers; and a number next to an entry keeps its context."""

from __future__ import annotations

import pytest

from ttsgate.text import marks, prepare
from ttsgate.text.lexicon import Lexicon, LexiconError, make_entry, parse_lexicon, request_entries


def spoken(text: str, entries: dict[str, str]) -> list[str]:
    lexicon = Lexicon(None, request_entries(entries))
    return [marks.display(run) for seg in prepare(text, "zh", lexicon=lexicon) for _, run in seg.runs]


def test_a_file_with_a_byte_order_mark() -> None:
    table = parse_lexicon("\ufeff乐清\tyue4 qing1\n曾国藩\tzeng1 guo2 fan1\n", "lex.tsv")
    assert list(table) == ["乐清", "曾国藩"]


@pytest.mark.parametrize(
    ("word", "reading", "pinyin"),
    [
        ("乐清", "yuè qīng", "yue4 qing1"),
        ("绿色", "lǜ sè", "lv4 se4"),
        ("东西", "dōng xi", "dong1 xi5"),  # no mark: neutral
        ("曾国藩", "Zēng Guó Fān", "zeng1 guo2 fan1"),
        ("哪儿", "nar3", "na3 r"),  # 儿化 written on the syllable
        ("一会儿", "yi2 huir4", "yi2 hui4 r"),
        ("一点儿", "yì diǎnr", "yi4 dian3 r"),
        ("儿子", "er2 zi5", "er2 zi5"),  # er is a syllable, not 儿化
    ],
)
def test_pinyin_as_people_write_it(word: str, reading: str, pinyin: str) -> None:
    entry = make_entry(word, reading)
    assert (entry.kind, entry.reading) == ("pinyin", pinyin)


def test_other_words() -> None:
    assert make_entry("C#", "C sharp").reading == "C sharp"
    github = make_entry("GitHub", "吉特哈布")
    assert (github.language, github.kind) == ("zh", "respelling")  # the Mandarin voice says it
    with pytest.raises(LexiconError, match="numbers are read by the normalizer"):
        make_entry("100", "one hundred")
    with pytest.raises(LexiconError, match="Han characters or Latin-script"):
        make_entry("乐清1", "yue4 qing1")


def test_simplified_entries_match_traditional_text() -> None:
    assert spoken("我去樂清出差", {"乐清": "yue4 qing1"}) == ["我去{樂清|yue4 qing1}出差"]
    assert spoken("我去乐清出差", {"乐清": "yue4 qing1"}) == ["我去{乐清|yue4 qing1}出差"]


def test_a_han_respelling_of_an_english_word() -> None:
    assert spoken("用GitHub部署", {"GitHub": "吉特哈布"}) == ["用吉特哈布部署"]
    assert spoken("学C#很难", {"C#": "C sharp"}) == ["学", "C sharp", "很难"]


@pytest.mark.parametrize(
    ("text", "entries", "expected"),
    [
        ("距离2公里", {"公里": "gong1 li3"}, "距离两{公里|gong1 li3}"),
        ("2024年3月", {"年": "nian2"}, "二零二四{年|nian2}三月"),
        ("买了2个苹果", {"个": "ge4"}, "买了两{个|ge4}苹果"),
        ("2024年我去乐清", {"乐清": "yuè qīng"}, "二零二四年我去{乐清|yue4 qing1}"),
        ("第2名", {"名": "ming2"}, "第二{名|ming2}"),
    ],
)
def test_a_number_is_read_in_its_context(text: str, entries: dict[str, str], expected: str) -> None:
    assert spoken(text, entries) == [expected]
