"""``ttsgate bench --unique``: a distinct text per request, of comparable length."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from ttsgate.bench.load import Measurer, Target, counter_words, sequential, unique_text
from ttsgate.text import split_segments

TEXTS_EN = Path(__file__).resolve().parents[2] / "benchmarks" / "texts_en.txt"


def test_counter_words_have_a_constant_length() -> None:
    assert counter_words(0) == "one-one-one-one"
    assert counter_words(9) == "one-one-two-two"
    assert counter_words(4095) == "nine-nine-nine-nine"
    assert counter_words(4096) == "two-one-one-one-one"  # wider, still distinct
    assert counter_words(9, han=True) == "一一二二"
    words = [counter_words(n) for n in range(4096)]
    assert len(set(words)) == 4096
    assert {len(w.split("-")) for w in words} == {4}


def test_unique_text_marks_every_piece_at_both_ends() -> None:
    assert unique_text("It rained.", 9) == "one-one-two-two It rained one-one-two-two."
    assert unique_text("Is it far? Not at all", 9) == (
        "one-one-two-two Is it far one-one-two-two? one-one-two-two Not at all one-one-two-two."
    )
    assert unique_text("今天天气很好，我们去公园散步吧。北京是首都。", 9) == (
        "一一二二今天天气很好，我们去公园散步吧一一二二。一一二二北京是首都一一二二。"
    )


def test_every_segment_ttsgate_makes_is_distinct() -> None:
    lines = [ln.strip() for ln in TEXTS_EN.read_text(encoding="utf-8").splitlines() if ln.strip()]
    long_text = " ".join(lines[:3])
    for base in [*lines, long_text]:
        seen: set[str] = set()
        for n in (1, 2, 9, 100, 4095):
            segments = split_segments(unique_text(base, n))
            assert all(counter_words(n) in s for s in segments), segments
            assert not seen & set(segments)
            seen |= set(segments)


def _sent_texts(unique: bool) -> tuple[list[str], list[str]]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.read().decode())
        return httpx.Response(503, stream=httpx.ByteStream(b""))  # only the texts sent matter

    measurer = Measurer(["One.", "Two."], t0=time.perf_counter(), unique=unique)
    target = Target("t", "piper", "http://bench.test")

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await measurer.reference(client, target)
            for i in range(4):
                await measurer.one(client, target, "load", i % 2)

    asyncio.run(go())
    return seen[:2], seen[2:]


def test_measurer_sends_distinct_texts_only_with_unique() -> None:
    reference, load = _sent_texts(unique=True)
    assert reference == [
        '{"text":"one-one-one-one One one-one-one-one."}',
        '{"text":"one-one-one-one Two one-one-one-one."}',
    ]
    assert len(set(load)) == 4
    assert '{"text":"one-one-one-five Two one-one-one-five."}' in load
    reference, load = _sent_texts(unique=False)
    assert reference == ['{"text":"One."}', '{"text":"Two."}']
    assert load == ['{"text":"One."}', '{"text":"Two."}'] * 2


def test_sequential_client_shares_the_counter() -> None:
    measurer = Measurer(["A b c."], t0=time.perf_counter(), unique=True)
    assert measurer.text_for(0) == "one-one-one-two A b c one-one-one-two."
    got = sequential(measurer, Target("t", "piper", "http://127.0.0.1:9"), "s", requests=2, timeout_s=0.5)
    assert [r.error for r in got] == ["connect", "connect"]
    assert measurer.text_for(0) == "one-one-one-five A b c one-one-one-five."
