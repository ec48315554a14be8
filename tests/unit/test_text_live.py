"""Live text (``IncrementalSegmenter``): a finished sentence at once, orphans dropped, same cuts."""

from __future__ import annotations

import itertools
import re

import jieba
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ttsgate.text import IncrementalSegmenter, split_segments
from ttsgate.text.live import _ends_now
from ttsgate.text.segment import MIN_SPEAKABLE, _speakable

LONG_ZH = "今天天气很好，我们去公园散步吧，顺便买点水果和蔬菜回家做饭。晚上再看一部电影，然后早点休息。"


def _run(deltas: list[str]) -> list[list[str]]:
    """What each delta releases, then what the flush releases."""
    seg = IncrementalSegmenter()
    return [seg.feed(d) for d in deltas] + [seg.flush()]


# -- a finished sentence is released by the delta that finishes it ---------------------------


@pytest.mark.parametrize(
    "sentence",
    ["好的，我来回答。", "好的。", "嗯！", "真的吗？", "第一点；", "我想想……", "“好的。”", "（就这样。）",
     "I will check.", "Okay!", "Really?", 'He said "go."', "It is done (finally).", "Wait...",
     "Version two is out."],
)  # fmt: skip
def test_a_finished_sentence_is_released_at_once(sentence: str) -> None:
    assert _run([sentence]) == [[sentence], []]
    tokens = re.findall(r"\s*\w+|\s*\W+", sentence)  # word-sized deltas: released on the last one
    released = _run(tokens)
    assert released[-2] == [sentence]
    assert not any(released[:-2])
    assert released[-1] == []


@pytest.mark.parametrize(
    ("head", "rest"),
    [("It costs 3.", "5 dollars."), ("Ask Mr.", " Smith now."), ("In the U.S.", " it rains."),
     ("Use e.g.", " this one."), ("See https://a.com/x.", " Then go."), ("Mail a@b.", "org now."),
     ("Go to www.example.", "com today."), ("a .", "b")],
)  # fmt: skip
def test_an_ascii_mark_the_next_character_decides_waits_for_it(head: str, rest: str) -> None:
    released = _run([head, rest])
    assert released[0] == []
    assert [s for out in released for s in out] == split_segments(head + rest, first_max=80)


def test_the_first_clause_still_waits_for_speech_after_it() -> None:
    assert _run(["Sure", ",", " here", " is a short answer", ".", " Paris, France"]) == [
        [], [], ["Sure,"], [], ["here is a short answer."], [], ["Paris, France"],
    ]  # fmt: skip
    assert _run(["Sure, I", " can"]) == [[], ["Sure,"], ["I can"]]
    assert _run(["It", " is", " 1", ",", "000", " km, give"])[:-1] == [
        [],
        [],
        [],
        [],
        [],
        ["It is 1,000 km,"],
    ]
    assert _run(["Hello, my friend."]) == [["Hello,", "my friend."], []]


def test_short_sentences_are_not_held_for_company() -> None:
    # split_segments merges a short piece into a neighbour; a stream cannot wait for one
    assert _run(["我们现在就出发吧！", "嗯。"]) == [["我们现在就出发吧！"], ["嗯。"], []]
    assert split_segments("我们现在就出发吧！嗯。") == ["我们现在就出发吧！嗯。"]
    assert _run(["好的，我来简单介绍一下。", "北京是首都。"]) == [
        ["好的，我来简单介绍一下。"],
        ["北京是首都。"],
        [],
    ]


# -- closing punctuation after a released sentence -------------------------------------------


@pytest.mark.parametrize(
    ("deltas", "want"),
    [(["“好的。", "”", "我们走吧。"], ["“好的。", "我们走吧。"]),
     (["“好的。", "”"], ["“好的。"]),
     (["“好的。", "”\n", "」）", "我们走吧。"], ["“好的。", "我们走吧。"]),
     (["（见下文。", "）"], ["（见下文。"]),
     (["What?", "!", " Really."], ["What?", "Really."]),
     (["好吧…", "…", "走吧。"], ["好吧…", "走吧。"]),
     (['He said "go home.', '"', " Then he left."], ['He said "go home.', "Then he left."]),
     (["Done.", ' "Next" is a word.'], ["Done.", '"Next" is a word.']),  # an opening quote stays
     (["”"], []), (["……"], []), (["。", "好的呀。"], ["好的呀。"])],
)  # fmt: skip
def test_orphan_closers_are_never_a_segment(deltas: list[str], want: list[str]) -> None:
    assert [s for out in _run(deltas) for s in out] == want


# -- the whole text and any chunking of it agree, except where the rules above say -------------

_PIECES = ["Sure", ",", " ", "I", " can", "好的", "，", "我来", "介绍", "。", ". ", "3", ".5", "Mr.", "?",
           "\n", "、", "：", ":", "//", "http", "a", "没问题", "1,000", "привет", "ok", "!", "”", "」", ")",
           '"', "…", "abc."]  # fmt: skip


def _spoken_cuts(pieces: list[str]) -> set[int]:
    """Segment boundaries as counts of speakable characters before them."""
    return set(itertools.accumulate(_speakable(p) for p in pieces[:-1]))


def _with_live_ends(text: str, points: list[int]) -> str:
    """``text`` with a space after every delta that ended on a mark that ends a sentence at once:
    where a stream cuts although the whole text goes on without a space (``example.`` + ``com``)."""
    out, last = [], 0
    for b in points:
        if 0 < b < len(text) and _ends_now(text[:b]) and not text[b].isspace():
            out += [text[last:b], " "]
            last = b
    return "".join([*out, text[last:]])


@given(
    text=st.one_of(st.text(max_size=60), st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)),
    cuts=st.lists(st.integers(0, 200), max_size=12),
)
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_stream_cuts_where_the_whole_text_is_cut(text: str, cuts: list[int]) -> None:
    points = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    seg = IncrementalSegmenter()
    out: list[str] = []
    for a, b in itertools.pairwise(points):
        out += seg.feed(text[a:b])
    out += seg.flush()
    assert all(s == s.strip() and _speakable(s) for s in out)  # never a piece with nothing to say
    spoken = re.compile(r"[^\W_]")
    assert spoken.findall("".join(out)) == spoken.findall(text)  # only unspeakable text is dropped
    whole = split_segments(_with_live_ends(text, points))
    mine, theirs = _spoken_cuts(out), _spoken_cuts(whole)
    # Elsewhere they differ only next to a piece too short to stand alone (merged in one, not the other).
    every = sorted(mine | theirs | {0, _speakable(text)})
    for cut in mine ^ theirs:
        i = every.index(cut)
        assert min(cut - every[i - 1], every[i + 1] - cut) < MIN_SPEAKABLE, (out, whole)


def test_a_stream_releases_long_text_before_the_end() -> None:
    seg = IncrementalSegmenter()
    got = [(i, out) for i, ch in enumerate(LONG_ZH) if (out := seg.feed(ch))]
    assert got[0][0] < len(LONG_ZH) // 3
    assert len(got[0][1][0]) <= 20
    assert [s for _, out in got for s in out] + seg.flush() == split_segments(LONG_ZH)


@pytest.mark.parametrize(
    "text",
    [
        "去海边的火车每小时从北站发出一班。提前一天买票会便宜不少。",
        "老灯塔下午五点以前对游客开放，回城的最后一班火车在午夜前开出。",
        "海边晚上风很大记得带一件厚外套",
        "我" * 75 + "我母亲很好" * 4 + "。",  # long and unpunctuated: cut between words, as a whole text
        "据报道" + "中华人民共和国国务院新闻办公室" * 8,
    ],
)
@pytest.mark.parametrize("step", [1, 2, 3, 5])
def test_a_stream_cuts_long_sentences_the_same_way(text: str, step: int) -> None:
    seg = IncrementalSegmenter()
    out: list[str] = []
    for i in range(0, len(text), step):
        out += seg.feed(text[i : i + step])
    if text.endswith("。"):  # a closed sentence: all of it leaves before the stream ends
        assert out == split_segments(text)
    assert out + seg.flush() == split_segments(text)
    bounds = set(itertools.accumulate(len(w) for w in jieba.cut(text, HMM=False)))
    assert all(cut in bounds for cut in itertools.accumulate(len(s) for s in out))


def test_reset_forgets_what_is_held() -> None:
    seg = IncrementalSegmenter()
    assert seg.feed("用户问的是天气") == []
    seg.reset()
    assert seg.feed("今天晴。") == ["今天晴。"]
