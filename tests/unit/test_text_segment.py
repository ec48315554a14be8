from __future__ import annotations

import itertools

import jieba
import pytest

from ttsgate.exceptions import InvalidRequestError
from ttsgate.text import split_segments
from ttsgate.text.words import cut_at_words, split_at_words

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


# The first segment ends at its first clause boundary (see ttsgate.text.segment's docstring).


def test_first_clause_is_cut_off() -> None:
    text = "Sure, here is a short answer. Paris is the capital of France, with about two million people."
    assert split_segments(text) == [
        "Sure,",
        "here is a short answer.",
        "Paris is the capital of France, with about two million people.",  # later: unchanged
    ]
    assert split_segments("没问题，我来简单介绍一下。") == ["没问题，", "我来简单介绍一下。"]
    assert split_segments("请注意：明天有雨。") == ["请注意：", "明天有雨。"]
    assert split_segments("今天天气很好、适合散步") == ["今天天气很好、", "适合散步"]


def test_first_clause_needs_speech_on_both_sides() -> None:
    assert split_segments("So, here is the answer.") == ["So, here is the answer."]  # 2 letters
    assert split_segments("好的，我来简单介绍一下。") == ["好的，我来简单介绍一下。"]  # 2 Han characters
    assert split_segments("Sure, ok.") == ["Sure, ok."]  # too little after it
    assert split_segments("Sure, ok. Then we go on.") == ["Sure, ok.", "Then we go on."]
    assert split_segments("你好啊朋友，好。") == ["你好啊朋友，好。"]


def test_first_clause_is_at_most_first_max() -> None:
    text = "Paris is the capital of France, with about two million people."
    assert split_segments(text) == [text]
    assert split_segments(text, first_max=40) == [
        "Paris is the capital of France,",
        "with about two million people.",
    ]
    assert split_segments("Sure, here is a short answer.", first_max=80) == ["Sure, here is a short answer."]


def test_first_clause_not_inside_numbers_or_urls() -> None:
    assert split_segments("It is 1,000 km, give or take.") == ["It is 1,000 km,", "give or take."]
    assert split_segments("See http://a.com/x for more.") == ["See http://a.com/x for more."]
    assert split_segments("At 10:30 we leave, ok?") == ["At 10:30 we leave, ok?"]


# -- a long first sentence or clause is cut at a word boundary (text/words.py) ----------------


@pytest.mark.parametrize(
    ("text", "head"),
    [
        ("去海边的火车每小时从北站发出一班。提前一天买票会便宜不少。", "去海边的火车每小时"),  # before 从
        ("很多人先沿着悬崖散步再去港口吃晚饭。", "很多人先沿着悬崖散步"),  # before 再
        ("老灯塔下午五点以前对游客开放，回城的最后一班火车在午夜前开出。", "老灯塔下午五点以前"),
        ("海边晚上风很大记得带一件厚外套", "海边晚上风很大"),  # no opener: nearest to 8
        ("我母亲每天早上六点起床去公园打太极拳。", "我母亲每天早上"),
        ("他们两队最后比赛的比分是三比二。", "他们两队最后"),  # not "…比赛|的比分"
        ("经过大家几个月的努力终于完成了任务。", "经过大家几个月的努力"),  # not "几个|月", "的|努力"
        ("我们学校图书馆里的藏书数量很多很多。", "我们学校图书馆里的藏书"),  # not "图书馆|里"
    ],
)
def test_a_long_first_piece_is_cut_between_words(text: str, head: str) -> None:
    segments = split_segments(text)
    assert segments[0] == head
    assert "".join(segments) == text.replace(" ", "")
    words = list(jieba.cut(text, HMM=False))
    bounds = set(itertools.accumulate(len(w) for w in words))
    assert len(head) in bounds  # never inside a word (母|亲, 北|站)


@pytest.mark.parametrize(
    "text",
    [
        "好的，我来简单说一下。",  # short: as before
        "我我我母亲很好",
        "今天是2026年11月23日气温零下3度。",  # never next to digits: 2026年11|月 would read differently
        "下载了一个300MB的安装包然后重新启动电脑",
        "The train to Boston leaves in ten minutes and the next one at noon.",
    ],
)
def test_no_word_cut_where_it_would_change_the_reading(text: str) -> None:
    head = split_segments(text)[0]
    if head != text:  # any cut made leaves numbers and Latin words whole
        cut = len(head)
        assert not (text[cut - 1].isascii() and text[cut - 1].isalnum())
        assert not (text[cut].isascii() and text[cut].isalnum())


# -- a sentence longer than max_len with no comma or space is cut between two words -------------


def _word_bounds(text: str) -> set[int]:
    return set(itertools.accumulate(len(w) for w in jieba.cut(text, HMM=False)))


@pytest.mark.parametrize(
    "text",
    [
        "我" * 75 + "我母亲很好" * 3,  # the report: 母|亲 at character 80
        "我" * 78 + "母亲很好" * 5,
        "今天北京的天气非常好我们一起去公园散步然后去图书馆看书" * 4,
        "据报道" + "中华人民共和国国务院新闻办公室" * 8,
    ],
)
@pytest.mark.parametrize("max_len", [80, 40, 17])
def test_unpunctuated_chinese_is_cut_between_words(text: str, max_len: int) -> None:
    segments = split_segments(text, first_max=max_len, max_len=max_len)
    assert "".join(segments) == text
    assert all(len(s) <= max_len for s in segments)
    bounds = _word_bounds(text)
    for cut in itertools.accumulate(len(s) for s in segments[:-1]):
        assert cut in bounds, (cut, text[cut - 2 : cut + 2])


@pytest.mark.parametrize(
    ("text", "whole"),
    [("在" * 70 + "2026年11月23日发布", "2026"), ("在" * 70 + "下载iPhoneXSMax的安装包", "iPhoneXSMax")],
)
def test_word_cut_never_splits_numbers_or_latin_words(text: str, whole: str) -> None:
    segments = split_segments(text, first_max=80, max_len=80)
    assert "".join(segments) == text
    assert any(whole in s for s in segments), segments


def test_cut_at_words_contract() -> None:
    assert cut_at_words("短句", 10) == 2
    text = "我" * 10 + "我母亲很好"
    cut = cut_at_words(text, 11)
    assert 1 <= cut <= 11
    assert text[cut - 1 : cut + 1] != "母亲"
    assert split_at_words(text * 3, 7)
    assert "".join(split_at_words(text * 3, 7)) == text * 3
    assert all(len(p) <= 7 for p in split_at_words(text * 3, 7))
    assert cut_at_words("abcdefghijklmnopqrstuvwxyz", 10) == 10  # no boundary at all: the limit
    with pytest.raises(ValueError, match="limit"):
        cut_at_words("x", 0)
