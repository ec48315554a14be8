from __future__ import annotations

import itertools
import re

import jieba
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ttsgate.exceptions import InvalidRequestError
from ttsgate.text import IncrementalSegmenter, split_segments
from ttsgate.text.segment import MIN_SPEAKABLE, _speakable

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
    assert seg.feed("Hello, my friend.") == ["Hello,"]  # the first clause
    assert seg.feed(" ") == ["my friend."]
    assert seg.feed("How are") == []
    assert seg.flush() == ["How are"]


def test_incremental_waits_on_abbreviation_and_decimal() -> None:
    seg = IncrementalSegmenter()
    assert seg.feed("Mr. ") == []
    assert seg.feed("Smith paid 3.") == []
    assert seg.feed("5 dollars. ") == ["Mr. Smith paid 3.5 dollars."]


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


def test_incremental_first_clause_on_the_next_token() -> None:
    seg = IncrementalSegmenter()
    assert seg.feed("Sure") == []
    assert seg.feed(",") == []
    assert seg.feed(" here") == ["Sure,"]
    assert seg.feed(" is a short answer") == []
    assert seg.feed(".") == []
    assert seg.feed(" Paris, France") == ["here is a short answer."]  # later commas: no early cut
    assert seg.flush() == ["Paris, France"]


def test_incremental_first_clause_waits_for_speech_after_it() -> None:
    seg = IncrementalSegmenter()
    assert seg.feed("Sure, I") == []  # "I" alone could still be the whole rest ("Sure, I.")
    assert seg.feed(" can") == ["Sure,"]
    seg = IncrementalSegmenter()
    for token in ["It", " is", " 1", ","]:
        assert seg.feed(token) == []
    assert seg.feed("000") == []  # not a clause boundary after all
    assert seg.feed(" km, give") == ["It is 1,000 km,"]
    seg = IncrementalSegmenter()
    for token in ["好的", "，", "我来", "简单", "介绍"]:
        assert seg.feed(token) == []
    assert seg.feed("一下。") == []
    assert seg.feed("北京") == ["好的，我来简单介绍一下。"]  # a complete first sentence: on the next token


def test_incremental_later_segments_still_wait_for_enough_text() -> None:
    seg = IncrementalSegmenter()
    assert seg.feed("好的，我来简单介绍一下。北京") == ["好的，我来简单介绍一下。"]
    assert seg.feed("是首都。") == []
    assert seg.feed("故宫") == []  # later segments: unchanged, "故宫" could be a short last piece
    assert seg.feed("很大") == ["北京是首都。"]
    seg = IncrementalSegmenter()
    assert seg.feed("我们现在就出发吧！") == []
    assert seg.feed("嗯") == ["我们现在就出发吧！"]  # split_segments would merge a short ending
    assert seg.flush() == ["嗯"]


_WS = re.compile(r"\s+")
_PIECES = [
    "Sure",
    ",",
    " ",
    "I",
    " can",
    "好的",
    "，",
    "我来",
    "介绍",
    "。",
    ". ",
    "3",
    ".5",
    "Mr.",
    "?",
    "\n",
]
_PIECES += ["、", "：", ":", "//", "http", "a", "没问题", "1,000", "привет", "ok", "!"]


def _cuts(pieces: list[str]) -> set[int]:
    """Segment boundaries as offsets into the text without whitespace."""
    out, n = set(), 0
    for piece in pieces[:-1]:
        n += len(_WS.sub("", piece))
        out.add(n)
    return out


@given(
    text=st.one_of(st.text(max_size=60), st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)),
    cuts=st.lists(st.integers(0, 200), max_size=12),
)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_incremental_cuts_where_split_segments_cuts(text: str, cuts: list[int]) -> None:
    points = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    seg = IncrementalSegmenter()
    out: list[str] = []
    for a, b in itertools.pairwise(points):
        out += seg.feed(text[a:b])
    out += seg.flush()
    whole = split_segments(text)
    flat = _WS.sub("", text)
    assert _WS.sub("", "".join(out)) == flat
    mine, theirs = _cuts(out), _cuts(whole)
    if whole and out:
        assert out[0] == whole[0] or _speakable(whole[0][len(out[0]) :]) < MIN_SPEAKABLE
    # Elsewhere they differ only next to a piece too short to stand alone (merged in one, not the other).
    every = sorted(mine | theirs | {0, len(flat)})
    for cut in mine ^ theirs:
        i = every.index(cut)
        before, after = flat[every[i - 1] : cut], flat[cut : every[i + 1]]
        assert min(_speakable(before), _speakable(after)) < MIN_SPEAKABLE, (out, whole)


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


@pytest.mark.parametrize(
    "text",
    [
        "去海边的火车每小时从北站发出一班。提前一天买票会便宜不少。",
        "老灯塔下午五点以前对游客开放，回城的最后一班火车在午夜前开出。",
        "海边晚上风很大记得带一件厚外套",
    ],
)
@pytest.mark.parametrize("step", [1, 2, 3, 5])
def test_a_stream_cuts_the_first_sentence_the_same_way(text: str, step: int) -> None:
    seg = IncrementalSegmenter()
    out: list[str] = []
    for i in range(0, len(text), step):
        out += seg.feed(text[i : i + step])
    if text.endswith("。"):  # a closed first sentence: its head leaves before the stream ends
        assert out[:1] == split_segments(text)[:1]
    assert out + seg.flush() == split_segments(text)
