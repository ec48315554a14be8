"""Upstream lines are bounded before they are held (llm/base.py); a long delta is segmented in
pieces, with the same segments as the same text in small deltas (text/live.py)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ttsgate.exceptions import UpstreamError
from ttsgate.llm.base import ReplyBudget, bounded_lines
from ttsgate.text import IncrementalSegmenter
from ttsgate.text.live import FEED_CHUNK


def _lines(chunks: list[bytes], limit: int) -> list[str]:
    async def run() -> list[str]:
        async def body() -> object:
            for c in chunks:
                yield c

        response = httpx.Response(200, content=body())  # type: ignore[arg-type]
        return [line async for line in bounded_lines(response, "http://llm", limit)]

    return asyncio.run(run())


def test_lines_are_split_across_chunks() -> None:
    assert _lines([b'{"a":', b'1}\r\n{"b"', b":2}\n\n", b"tail"], 10) == ['{"a":1}', '{"b":2}', "", "tail"]


@pytest.mark.parametrize("chunks", [[b"x" * 11 + b"\n"], [b"x" * 6, b"x" * 6, b"\n"], [b"ok\n", b"x" * 50]])
def test_a_line_over_the_limit_fails_before_it_is_whole(chunks: list[bytes]) -> None:
    with pytest.raises(UpstreamError) as err:
        _lines(chunks, 10)
    assert err.value.code == "reply_too_long"


def test_reply_budget() -> None:
    budget = ReplyBudget("http://llm", 5)
    assert budget.take("abc") == "abc"
    with pytest.raises(UpstreamError):
        budget.take("def")


@pytest.mark.parametrize(
    "text",
    [
        "今天天气很好我们去公园散步吧公园里有很多花" * 200,
        "Hello there. " + "word " * 900 + "end. 答案是42.5，" * 50,
        ("a" * 3000) + "。" + "见[链接](https://example.com/a.b)。" * 60,
    ],
)
def test_a_long_delta_segments_as_small_deltas_do(text: str) -> None:
    assert len(text) > 2 * FEED_CHUNK
    whole = IncrementalSegmenter()
    one = whole.feed(text) + whole.flush()
    small = IncrementalSegmenter()
    many = [seg for i in range(0, len(text), 7) for seg in small.feed(text[i : i + 7])] + small.flush()
    assert one == many
