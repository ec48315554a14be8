"""LLM output that is never spoken: reasoning and <details> blocks, whole and streamed; emphasis."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ttsgate.text import clean_for_speech, prepare
from ttsgate.text.hidden import HiddenBlocks, strip_hidden

OPEN_WEBUI = (
    '<details type="reasoning" done="true" duration="4">\n<summary>Thought for 4 seconds</summary>\n'
    "> 用户问天气，我应该简短回答。\n</details>\n今天天气很好。"
)
CASES = [
    ("<think>用户问天气。</think>今天天气很好。", "今天天气很好。"),
    ("<think>\nThe user asks.\n</think>\n\nThe answer is four.", "\n\nThe answer is four."),
    ("<thinking>hmm</thinking>Answer.", "Answer."),
    ("<reasoning>r</reasoning>好。<reason>x</reason>", "好。"),
    ("<Thought>x</Thought>好。", "好。"),
    ("<THINK>X</THINK>好。", "好。"),
    ('<think type="inner" id=3>x</think>好。', "好。"),
    ("<think>a<think>b</think>c</think>好。", "好。"),  # nested
    ("好的。<think>reply cut off while thinking", "好的。"),  # never closed: reasoning to the end
    ("用户问天气，我想想。</think>今天天气很好。", "今天天气很好。"),  # the template opened <think>
    ("<think>a</think>好。</think>对。", "好。对。"),  # a later stray closing tag is only removed
    (OPEN_WEBUI, "\n今天天气很好。"),
    ('前<details type="tool_calls" done="true"><summary>Tool</summary>{"a": 1}</details>后', "前后"),
    ("前<details><details>x</details>y</details>后", "前后"),
    ("a <thinker> b", "a <thinker> b"),  # not one of the tags
    ("1 < 2 and 3 > 2", "1 < 2 and 3 > 2"),
    ("<think/>好。", "好。"),
]


@pytest.mark.parametrize(("text", "want"), CASES)
def test_hidden_blocks_are_removed(text: str, want: str) -> None:
    assert strip_hidden(text) == want


def _live(text: str, points: list[int]) -> str:
    """Feed ``text`` cut at ``points``; what a stream would keep (a discard drops what came before)."""
    blocks = HiddenBlocks(fences=False)
    kept = ""
    for a, b in itertools.pairwise([0, *points, len(text)]):
        out, discard = blocks.feed(text[a:b])
        kept = out if discard else kept + out
    return kept + blocks.flush()


@pytest.mark.parametrize(("text", "want"), CASES)
def test_split_tags_are_recognized_at_every_cut(text: str, want: str) -> None:
    for cut in range(len(text) + 1):
        assert _live(text, [cut]) == want, cut
    assert _live(text, list(range(1, len(text)))) == want  # one character at a time


_TAG_PIECES = ["<", "think", ">", "</", "details", ' type="x"', "好", "。", "a", " ", "\n", "/", "THINK",
               "thinking", "<th", "ink>", "```", "~"]  # fmt: skip


@given(
    pieces=st.lists(st.sampled_from(_TAG_PIECES), max_size=30), cuts=st.lists(st.integers(0, 120), max_size=8)
)
@settings(max_examples=300, deadline=None)
def test_any_chunking_keeps_what_the_whole_text_keeps(pieces: list[str], cuts: list[int]) -> None:
    text = "".join(pieces)
    assert _live(text, sorted({min(c, len(text)) for c in cuts})) == strip_hidden(text)


def test_a_held_partial_tag_is_text_after_all() -> None:
    blocks = HiddenBlocks(fences=False)
    assert blocks.feed("价格<") == ("价格", False)  # may become <think>
    assert blocks.feed("5元") == ("<5元", False)
    assert blocks.feed("a <th") == ("a ", False)
    assert blocks.flush() == "<th"


@pytest.mark.parametrize(
    ("deltas", "want"),
    [(["运行：\n``", "`python\nx = 1", "2345\n``", "`\n然后好了。"], "运行：\n\n代码略。\n然后好了。"),
     (["Run it:\n```sh\nrm -rf /\n", "```\nDone."], "Run it:\n\nCode omitted.\nDone."),
     (["看：\n~~~\ncode"], "看：\n\n代码略。\n"),  # never closed: code to the end
     (["`numpy` 是库。\n", "~~删~~掉"], "`numpy` 是库。\n~~删~~掉"),  # not fences
     (["行内```x```代码"], "行内```x```代码")],
)  # fmt: skip
def test_a_stream_replaces_code_fences(deltas: list[str], want: str) -> None:
    blocks = HiddenBlocks(fences=True, lang="zh")
    assert "".join(blocks.feed(d)[0] for d in deltas) + blocks.flush() == want


# -- cleanup: reasoning first, then emphasis also where CommonMark's flanking rules fail ---------


@pytest.mark.parametrize(
    ("text", "want"),
    [("请*务必*提交", "请务必提交"), ("用*pip*安装", "用pip安装"), ("的_强调_的", "的强调的"),
     ("这是**重点：**明白", "这是重点：明白"), ("__注意__事项", "注意事项"), ("~~删除~~了", "删除了"),
     ("***很***好", "很好"), ("*Note*: it works", "Note: it works"), ("注*：价格", "注：价格"),
     ("snake_case_name 很长", "snake_case_name 很长"), ("2*3*4=24", "2*3*4=24"), ("5 * 3", "5 * 3"),
     ("<think>嗯</think>**好的**。", "好的。")],
)  # fmt: skip
def test_emphasis_markers_are_never_spoken(text: str, want: str) -> None:
    assert clean_for_speech(text) == want


@pytest.mark.parametrize("text", ["用*pip*安装", "请*务必*提交", "Use _this_ one", "一个**粗体**词"])
def test_no_asterisk_or_underscore_reaches_a_voice(text: str) -> None:
    spoken = " ".join(run for seg in prepare(text) for _, run in seg.runs)
    assert "*" not in spoken
    assert "_" not in spoken
    assert "asterisk" not in spoken.lower()
