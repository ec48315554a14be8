"""Runs of other scripts (kana, hangul, Thai, Cyrillic …) and where they are routed."""

from __future__ import annotations

import shutil

import pytest

from ttsgate.exceptions import InvalidRequestError
from ttsgate.text import expected_speech_s, has_speech, prepare
from ttsgate.text.runs import split_language_runs
from ttsgate.text.scripts import language_script, script_of, script_runs
from ttsgate.voices import VoiceTable


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        ("こんにちは", [("ja", "こんにちは")]),
        ("カタカナ", [("ja", "カタカナ")]),
        ("안녕하세요", [("ko", "안녕하세요")]),
        ("สวัสดีครับ", [("th", "สวัสดีครับ")]),
        ("Привет, мир!", [("ru", "Привет, мир!")]),
        ("Слава Україні", [("uk", "Слава Україні")]),
        ("Γειά σου", [("el", "Γειά σου")]),
        ("مرحبا بالعالم", [("ar", "مرحبا بالعالم")]),
        ("سلام پدر", [("fa", "سلام پدر")]),
        ("नमस्ते दुनिया", [("hi", "नमस्ते दुनिया")]),
        ("שלום", [("he", "שלום")]),
        ("ខ្មែរ", [("km", "ខ្មែរ")]),
        # quoted inside Chinese: the Han text stays Chinese, punctuation stays with its run
        (
            "日语的こんにちは是你好的意思。",
            [("zh", "日语的"), ("ja", "こんにちは"), ("zh", "是你好的意思。")],
        ),
        ("韩语的안녕하세요，是你好。", [("zh", "韩语的"), ("ko", "안녕하세요，"), ("zh", "是你好。")]),
        ("他说Привет。好的", [("zh", "他说"), ("ru", "Привет。"), ("zh", "好的")]),
        ("Say Γειά σου now", [("en", "Say "), ("el", "Γειά σου "), ("en", "now")]),
        # a Japanese sentence: its kanji are Japanese too
        ("今日は良い天気です。", [("ja", "今日は良い天気です。")]),
        # numbers next to another script are read by its voice
        ("Привет 2024", [("ru", "Привет 2024")]),
        # Han and Latin only: unchanged
        ("iPhone 15 价格", [("en", "iPhone "), ("zh", "15 价格")]),
    ],
)
def test_runs_by_script(text: str, runs: list[tuple[str, str]]) -> None:
    assert split_language_runs(text, "zh") == runs
    assert "".join(t for _, t in split_language_runs(text, "zh")) == text


def test_script_tables() -> None:
    assert script_of("あ") == script_of("ア") == "kana"
    assert script_of("한") == "hangul"
    assert [script_of(ch) for ch in "中a1。"] == [None] * 4
    assert [language_script(x) for x in ("zh", "yue", "en", "fr", "ja", "ko", "ru", "uk", "en-us")] == [
        "han", "han", "latin", "latin", "kana", "hangul", "cyrillic", "cyrillic", "latin",
    ]  # fmt: skip
    assert script_runs("abc 中文") == [(None, "abc 中文")]


def test_prepare_keeps_other_scripts_as_written_and_counts_them() -> None:
    (seg,) = prepare("日语的こんにちは是你好的意思。", "zh")
    assert seg.runs == (("zh", "日语的"), ("ja", "こんにちは"), ("zh", "是你好的意思。"))
    (seg,) = prepare("สวัสดีครับ", "en")
    assert seg.runs == (("th", "สวัสดีครับ"),)
    assert all(has_speech(t) for t in ("こんにちは", "안녕", "สวัสดี", "Привет", "नमस्ते"))
    # expected speech: a kana ~0.13 s, a hangul block 0.2 s, not a Latin letter's 0.07 s
    assert expected_speech_s("こんにちは") == pytest.approx(5 / 7.5)
    assert expected_speech_s("안녕하세요") == pytest.approx(1.0)
    assert expected_speech_s("สวัสดีครับ") == pytest.approx(10 / 14)


def _table(fallback: bool) -> VoiceTable:
    return VoiceTable.from_mapping(
        {
            "engines": {"s": {"kind": "sine"}, "fb": {"kind": "sine"}},
            "voices": {
                "zh_v": {"engine": "s", "language": "zh"},
                "en_v": {"engine": "s", "language": "en"},
                "fr_v": {"engine": "s", "language": "fr"},
                "ja_v": {"engine": "s", "language": "ja"},
                "uk_v": {"engine": "s", "language": "uk"},
            },
            "languages": {"zh": "zh_v", "en": "en_v", "ja": "ja_v"},
            "aliases": {},
            **({"fallback": {"engine": "fb"}} if fallback else {}),
        }
    )


def test_routing_by_the_run_language() -> None:
    table = _table(fallback=False)
    zh, en, fr, uk = (table.resolve(v) for v in ("zh_v", "en_v", "fr_v", "uk_v"))
    assert table.route(zh, "ja").id == "ja_v"  # the table's voice of the language
    assert table.route(en, "ja").id == "ja_v"  # never the English voice
    assert table.route(fr, "en") is fr  # same script: a French voice reads a Latin run
    assert table.route(uk, "ru") is uk  # a Ukrainian voice reads a Russian run
    assert table.route(zh, "en").id == "en_v"
    for voice in (zh, en, fr):
        for lang, name in (("th", "Thai"), ("ko", "Korean"), ("ru", "Cyrillic")):
            with pytest.raises(InvalidRequestError, match=name) as exc:
                table.route(voice, lang)
            assert exc.value.param == "input"
    fallback = _table(fallback=True)
    routed = fallback.route(fallback.resolve("en_v"), "th")
    assert (routed.engine, routed.speaker) == ("fb", "th")


def test_espeak_fallback_speaks_only_what_espeak_ng_lists() -> None:
    table = VoiceTable.load()
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    baker = table.resolve("zh_female_baker")
    for lang in ("ja", "ko", "th", "ru", "ar", "hi", "el", "he"):
        routed = table.route(baker, lang)
        assert (routed.engine, routed.speaker) == ("espeak", lang)
    with pytest.raises(InvalidRequestError, match="Khmer"):
        table.route(baker, "km")
