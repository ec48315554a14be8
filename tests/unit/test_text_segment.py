from __future__ import annotations

import pytest

from ttsgate.exceptions import InvalidRequestError
from ttsgate.text import IncrementalSegmenter, split_segments

LONG_ZH = "今天天气很好，我们去公园散步吧，顺便买点水果和蔬菜回家做饭。晚上再看一部电影，然后早点休息。"


def test_splits_on_terminators_and_newlines() -> None:
    assert split_segments("你好啊朋友。今天怎么样？很好呀！\n第二行内容") == [
        "你好啊朋友。",
        "今天怎么样？",
        "很好呀！",
        "第二行内容",
    ]


def test_first_segment_is_short() -> None:
    segs = split_segments(LONG_ZH)
    assert len(segs[0]) <= 20
    assert "".join(segs) == LONG_ZH


def test_long_sentence_cut_at_commas() -> None:
    text = "，".join(["这是一个比较长的分句"] * 12) + "。"
    segs = split_segments(text, max_len=40)
    assert all(len(s) <= 40 for s in segs)
    assert all(s.endswith(("，", "。")) for s in segs)


def test_protects_decimals_abbreviations_and_urls() -> None:
    text = "Mr. Smith paid 3.5 dollars in the U.S. today. Visit https://a.com/?q=1 now! Bye."
    assert split_segments(text, first_max=80) == [
        "Mr. Smith paid 3.5 dollars in the U.S. today.",
        "Visit https://a.com/?q=1 now!",
        "Bye.",
    ]


def test_short_fragments_are_merged() -> None:
    assert split_segments("好。我们走吧。") == ["好。我们走吧。"]
    assert split_segments("我们现在就出发吧！嗯。") == ["我们现在就出发吧！嗯。"]
    assert split_segments("我们现在就出发吧！……") == ["我们现在就出发吧！……"]


def test_empty_and_whitespace() -> None:
    assert split_segments("") == []
    assert split_segments("  \n ") == []


def test_bad_limits() -> None:
    with pytest.raises(InvalidRequestError):
        split_segments("x", max_len=2)


def test_incremental_releases_before_the_end() -> None:
    seg = IncrementalSegmenter()
    got: list[tuple[int, list[str]]] = []
    for i, ch in enumerate(LONG_ZH):
        out = seg.feed(ch)
        if out:
            got.append((i, out))
    assert got, "nothing released before flush"
    assert got[0][0] < len(LONG_ZH) // 2
    assert len(got[0][1][0]) <= 20
    rest = seg.flush()
    assert "".join(s for _, out in got for s in out) + "".join(rest) == LONG_ZH


def test_incremental_sentence_end_followed_by_space() -> None:
    seg = IncrementalSegmenter()
    assert seg.feed("Hello, my friend.") == []
    assert seg.feed(" ") == ["Hello, my friend."]
    assert seg.feed("How are") == []
    assert seg.flush() == ["How are"]


def test_incremental_waits_on_abbreviation_and_decimal() -> None:
    seg = IncrementalSegmenter()
    assert seg.feed("Mr. ") == []
    assert seg.feed("Smith paid 3.") == []
    assert seg.feed("5 dollars. ") == ["Mr. Smith paid 3.5 dollars."]
