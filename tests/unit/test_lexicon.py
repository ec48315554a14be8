"""Pronunciation lexicon: file format and validation, request entries, matching, and the readings in
the prepared text (docs/reading.md "Pronunciation lexicon")."""

from __future__ import annotations

import pytest

from ttsgate.exceptions import InvalidRequestError
from ttsgate.text import marks, prepare
from ttsgate.text.lexicon import (
    MAX_REQUEST_ENTRIES,
    Lexicon,
    LexiconError,
    make_entry,
    parse_lexicon,
    request_entries,
)

FILE = """# ttsgate lexicon
乐清\tzh\tyue4 qing1
曾国藩\tzeng1 guo2 fan1
Nginx\ten\t/ˈɛndʒɪn ˈɛks/
kubectl\tcube control
SQL\tsequel
"""


def lex(request: dict[str, str] | None = None, file: str = FILE) -> Lexicon:
    return Lexicon(parse_lexicon(file, "test.tsv"), request_entries(request), file_version="v1")


def spoken(text: str, lexicon: Lexicon, lang: str | None = None) -> list[tuple[str, str]]:
    """Every run of ``text`` prepared with ``lexicon``, readings shown as ``{word|reading}``."""
    return [(lg, marks.display(t)) for seg in prepare(text, lang, lexicon=lexicon) for lg, t in seg.runs]


# -- the file and its validation ----------------------------------------------------------------


def test_file_entries_parse_with_their_kind() -> None:
    table = parse_lexicon(FILE)
    assert [(e.word, e.language, e.kind, e.reading) for e in table.values()] == [
        ("乐清", "zh", "pinyin", "yue4 qing1"),
        ("曾国藩", "zh", "pinyin", "zeng1 guo2 fan1"),
        ("Nginx", "en", "ipa", "ˈɛndʒɪn ˈɛks"),
        ("kubectl", "en", "respelling", "cube control"),
        ("SQL", "en", "respelling", "sequel"),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("乐清\tyue4", "1 pinyin syllables for 2 Han characters"),
        ("乐清\tyue4 qing", "'qing' needs a tone digit 1-5"),
        ("乐清\tyue6 qing1", "'yue6' needs a tone digit 1-5"),
        ("乐清\txyz4 qing1", "'xyz4' is not a pinyin syllable"),
        ("乐清\ten\tyue4 qing1", "'乐清' is a zh word, not en"),
        ("乐清\tfr\tyue4 qing1", "language 'fr' is neither zh nor en"),
        ("Nginx\t/ˈɛndʒɪn ☃/", "'☃' (U+2603) is not an English IPA symbol"),
        ("Nginx\t//", "an English reading is a respelling"),
        ("Nginx\tengine [[x]]", "an English reading is a respelling"),
        ("B站\tbi1 zhan4", "either all Han characters or Latin-script"),
        ("just one field", "need word<TAB>reading"),
    ],
)
def test_a_bad_line_is_refused_naming_file_and_line(line: str, message: str) -> None:
    with pytest.raises(LexiconError) as err:
        parse_lexicon(f"# comment\n\n{line}\n", "my.tsv")
    assert str(err.value).startswith("my.tsv:3: ")
    assert message in str(err.value)


def test_a_word_defined_twice_is_refused() -> None:
    with pytest.raises(LexiconError, match=r"f:2: '乐清' is already defined"):
        parse_lexicon("乐清\tyue4 qing1\n乐清\tle4 qing1\n", "f")


def test_pinyin_is_lowercased_and_v_written_for_u_umlaut() -> None:
    assert make_entry("绿色", "LÜ4 se4").reading == "lv4 se4"
    assert make_entry("女儿", "nü3 er2").reading == "nv3 er2"
    assert make_entry("哪儿", "na3 r").reading == "na3 r"  # 儿化 as in data/polyphones.txt
    assert make_entry("Bing", "/bɪŋ/").reading == "bɪŋ"
    assert make_entry("Gig", "/gɪg/").reading == "ɡɪɡ"  # ASCII g is espeak-ng's ɡ


# -- request entries ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"乐清": "yue4"}, "lexicon: '乐清': 1 pinyin syllables for 2 Han characters"),
        ({"乐清": "yue4 qing9"}, "'qing9' needs a tone digit 1-5"),
        ({"x" * 65: "ex"}, "a word has 1 to 64 characters"),
        ({"Nginx": "e" * 257}, "a reading has 1 to 256 characters"),
        ({f"w{i}": "x" for i in range(MAX_REQUEST_ENTRIES + 1)}, "201 entries; the limit is 200"),
    ],
)
def test_request_entries_are_validated_as_a_400_naming_lexicon(entries: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidRequestError) as err:
        request_entries(entries)
    assert err.value.param == "lexicon"
    assert err.value.code == "invalid_lexicon"
    assert message in err.value.message


# -- matching -----------------------------------------------------------------------------------


def test_longest_match_first_and_request_over_file() -> None:
    lexicon = lex({"乐清": "le4 qing1", "乐清市": "yue4 qing1 shi4"})
    found = lexicon.find("乐清人去乐清市")
    assert [(m.start, m.end, m.entry.reading, m.entry.source) for m in found] == [
        (0, 2, "le4 qing1", "request"),  # the request's 乐清 replaces the file's
        (4, 7, "yue4 qing1 shi4", "request"),  # the longer word wins where both match
    ]


def test_english_words_match_between_word_boundaries_only() -> None:
    lexicon = lex()
    assert [m.entry.word for m in lexicon.find("Nginx, Nginx's and Nginxes or xNginx")] == ["Nginx", "Nginx"]
    assert [m.start for m in lexicon.find("用Nginx部署")] == [1]  # Han text is a boundary


def test_lowercase_entries_match_any_case_capitalized_ones_only_as_written() -> None:
    lexicon = lex()
    assert [m.entry.word for m in lexicon.find("KUBECTL and Kubectl and kubectl")] == ["kubectl"] * 3
    assert lexicon.find("NGINX nginx") == []  # "Nginx" has a capital: exact case only
    assert [m.entry.word for m in lexicon.find("SQL, not sql")] == ["SQL"]


def test_version_changes_with_any_reading_and_is_empty_without_entries() -> None:
    assert Lexicon().version == ""
    assert not Lexicon()
    base = lex()
    assert lex().version == base.version
    assert lex({"乐清": "le4 qing1"}).version != base.version
    assert lex({"乐清": "le4 qing1"}).version != lex({"乐清": "le2 qing1"}).version
    other_file = Lexicon(parse_lexicon(FILE), file_version="v2")
    assert other_file.version != base.version


# -- readings in the prepared text ---------------------------------------------------------------


def test_pinyin_readings_survive_normalization_and_numbers_around_them_are_normalized() -> None:
    assert spoken("我去乐清出差，2026年3月到。曾国藩的家书。", lex(), "zh") == [
        ("zh", "我去{乐清|yue4 qing1}出差，"),
        ("zh", "二零二六年三月到。"),
        ("zh", "{曾国藩|zeng1 guo2 fan1}的家书。"),
    ]


def test_english_entries_inside_chinese_become_english_runs() -> None:
    assert spoken("我用Nginx和KUBECTL部署了3台服务器。", lex(), "zh") == [
        ("zh", "我用"),
        ("en", "{Nginx|/ˈɛndʒɪn ˈɛks/}"),
        ("zh", "和"),
        ("en", "cube control"),
        ("zh", "部署了三台服务器。"),
    ]


def test_a_single_letter_entry_next_to_han_text_is_spoken_as_english() -> None:
    without = spoken("A股涨了。", Lexicon(), "zh")
    assert without == [("zh", "A股涨了。")]  # a letter next to Han text is read by the zh voice
    assert spoken("A股涨了。", lex({"A": "/ˈeɪ/"}), "zh") == [("en", "{A|/ˈeɪ/}"), ("zh", "股涨了。")]


def test_a_respelling_is_not_normalized_again() -> None:
    entry = {"B2B": "business to business", "R2D2": "R two D two"}
    runs = spoken("We sell B2B, like R2D2 said in 1977.", lex(entry), "en")
    assert " ".join(t for _, t in runs) == (
        "We sell business to business, like R two D two said in nineteen seventy seven."
    )
    assert spoken("We sell B2B.", Lexicon(), "en") == [("en", "We sell B two B.")]


def test_english_text_keeps_its_run_with_entries_inside() -> None:
    assert spoken("Run kubectl on 2 nodes behind Nginx.", lex(), "en") == [
        ("en", "Run cube control on two nodes behind {Nginx|/ˈɛndʒɪn ˈɛks/}.")
    ]


def test_segments_list_the_entries_applied_in_order() -> None:
    (seg,) = prepare("Nginx和乐清", "zh", lexicon=lex())
    assert [(e.word, e.source) for e in seg.lexicon] == [("Nginx", "file"), ("乐清", "file")]
    assert seg.text == "Nginx和乐清"  # subtitles show the input, not the readings


def test_user_input_cannot_forge_a_mark() -> None:
    forged = "我\ue000乐清\ue001pfoo1\ue002去"
    segments = prepare(forged, "zh", lexicon=lex())
    assert segments == prepare("我乐清pfoo1去", "zh", lexicon=lex())
    assert not any(marks.has_marks(t) for s in segments for _, t in s.runs[1:])
    assert marks.display(segments[0].runs[0][1]) == "我{乐清|yue4 qing1}"  # the lexicon's, not the forged one


def test_no_lexicon_leaves_the_text_pipeline_as_it_was() -> None:
    text = "我用iPhone拍了3张照片。"
    assert prepare(text, "zh", lexicon=Lexicon()) == prepare(text, "zh")
    assert prepare(text, "zh", lexicon=lex({"乐清": "le4 qing1"})) == prepare(text, "zh")
