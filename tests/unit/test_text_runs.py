from __future__ import annotations

import pytest

from ttsgate.text import detect_language, split_language_runs


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        ("我用iPhone 15拍照", [("zh", "我用"), ("en", "iPhone "), ("zh", "15拍照")]),
        ("A股大涨", [("zh", "A股大涨")]),
        ("我在B站看X光片", [("zh", "我在B站看X光片")]),
        ("GPT-4很强", [("zh", "GPT-4很强")]),
        ("他说：Hello, world！然后走了", [("zh", "他说："), ("en", "Hello, world！"), ("zh", "然后走了")]),
        ("Hello world", [("en", "Hello world")]),
        ("2026年", [("zh", "2026年")]),
        ("5G网络", [("zh", "5G网络")]),
    ],
)
def test_runs(text: str, runs: list[tuple[str, str]]) -> None:
    assert split_language_runs(text) == runs


def test_punctuation_never_a_run_of_its_own_and_lossless() -> None:
    text = "（注意）WHO说，COVID-19 已经结束了。Hello！"
    runs = split_language_runs(text)
    assert "".join(t for _, t in runs) == text
    assert all(any(ch.isalnum() for ch in t) for _, t in runs)
    # WHO is spelled by the Mandarin voice, COVID said as a word, 19 read in Chinese
    assert runs == [("zh", "（注意）WHO说，"), ("en", "COVID-"), ("zh", "19 已经结束了。"), ("en", "Hello！")]


def test_pure_punctuation_segment() -> None:
    assert split_language_runs("。。") == [("zh", "。。")]
    assert split_language_runs("") == []


def test_detect_language() -> None:
    assert detect_language("今天天气很好 OK") == "zh"
    assert detect_language("This is English, 你好") == "en"
    assert detect_language("123") == "zh"
