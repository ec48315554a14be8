"""Speed that means what it says and runs cut to what an engine takes (issue #13), on the sine
engine: the pitch-preserving time-stretch, ``fit_pieces`` and the pipeline's engine calls."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import numpy as np
import pytest

from tests.unit.test_scheduler import RecordingSine
from ttsgate.audio.tempo import atempo_stages, time_stretch
from ttsgate.cache.base import OffCache
from ttsgate.pipeline import SpeechOptions, SpeechPipeline
from ttsgate.scheduler import Scheduler
from ttsgate.text import TextNormalizer, expected_speech_s
from ttsgate.text.fit import fit_pieces
from ttsgate.voices import VoiceTable

RATE = 24_000


def zero_crossing_hz(x: np.ndarray, rate: int) -> float:
    mid = x[len(x) // 4 : 3 * len(x) // 4]
    return float(np.sum(np.diff(np.sign(mid)) != 0) / 2 / (len(mid) / rate))


@pytest.mark.parametrize("factor", [0.25, 0.5, 0.8, 1.33, 2.0, 2.67, 4.0])
def test_time_stretch_length_and_pitch(factor: float) -> None:
    t = np.arange(2 * RATE) / RATE
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    out = time_stretch(tone, RATE, factor)
    assert out.dtype == np.float32
    assert len(out) == round(len(tone) / factor)
    assert zero_crossing_hz(out, RATE) == pytest.approx(220, rel=0.02)  # the pitch is kept
    loud = np.flatnonzero(np.abs(out) > 0.05)
    assert loud[-1] > 0.97 * len(out)  # stretched sound to the end, not padded silence


def test_atempo_stages_stay_in_range() -> None:
    assert atempo_stages(1.0) == []
    assert atempo_stages(4.0) == [2.0, 2.0]
    assert atempo_stages(0.25) == [0.5, 0.5]
    for factor in (0.3, 0.7, 1.9, 3.1, 8.0):
        stages = atempo_stages(factor)
        assert all(0.5 <= s <= 2.0 for s in stages)
        assert float(np.prod(stages)) == pytest.approx(factor)
    with pytest.raises(ValueError, match="positive"):
        atempo_stages(0.0)


def test_fit_pieces_cut_between_words_under_the_limit() -> None:
    text = "我们一起去公园散步吧今天的天气很好阳光明媚适合出门走走看看风景然后一起回家吃饭"
    assert fit_pieces(text, None) == [text]
    assert fit_pieces(text, 100.0) == [text]
    pieces = fit_pieces(text, 4.0)
    assert len(pieces) >= 3
    assert "".join(pieces) == text
    assert all(expected_speech_s(p) <= 4.0 for p in pieces)
    words = {
        "我们",
        "一起",
        "公园",
        "散步",
        "今天",
        "天气",
        "阳光",
        "明媚",
        "适合",
        "出门",
        "风景",
        "回家",
        "吃饭",
    }
    for left, right in itertools.pairwise(pieces):
        assert (left[-1] + right[0]) not in words, (left, right)


def test_fit_pieces_latin_at_spaces() -> None:
    text = "The quick brown fox jumps over the lazy dog and then it rests under the old oak tree."
    pieces = fit_pieces(text, 2.0)
    assert "".join(pieces) == text
    assert len(pieces) >= 3
    for left, right in itertools.pairwise(pieces):
        assert left.endswith(" ") or right.startswith(" ")  # never inside a word
    assert all(expected_speech_s(p) <= 2.0 for p in pieces)


def limited_table(max_speech_s: float) -> VoiceTable:
    return VoiceTable.from_mapping(
        {
            "engines": {"sine-zh": {"kind": "sine", "char_s": 0.06, "max_speech_s": max_speech_s}},
            "voices": {"zh_test": {"engine": "sine-zh", "language": "zh", "name": "Sine"}},
            "languages": {"zh": "zh_test", "en": "zh_test"},
        }
    )


@pytest.fixture
async def limited() -> AsyncIterator[tuple[SpeechPipeline, RecordingSine]]:
    engine = RecordingSine(char_s=0.06, max_speech_s=2.0)  # ~9 Han characters per call
    sched = Scheduler({"sine": engine}, max_batch_size=1, max_wait_ms=0, workers=1)
    await sched.start()
    table = limited_table(2.0)
    pipeline = SpeechPipeline(
        table=table,
        engines={"sine-zh": engine},
        scheduler=sched,
        cache=OffCache(),
        normalizer=TextNormalizer(),
    )
    yield pipeline, engine
    await sched.close()


async def spoken_s(pipeline: SpeechPipeline, text: str, speed: float) -> float:
    opts = SpeechOptions(voice=pipeline.table.resolve("zh_test"), speed=speed)
    segments = pipeline.plan(text, opts.voice)
    pcm = [s.pcm async for s in pipeline.stream(segments, opts)]
    return sum(len(p) for p in pcm) / 24_000


async def test_a_run_over_the_engine_limit_is_cut_into_calls_that_fit(
    limited: tuple[SpeechPipeline, RecordingSine],
) -> None:
    pipeline, engine = limited
    text = "我们一起去公园散步吧今天的天气很好阳光明媚"  # 21 characters, one segment, ~4.7 s estimated
    seconds = await spoken_s(pipeline, text, 1.0)
    assert len(engine.spoken) >= 3
    assert "".join(engine.spoken) == text
    assert all(expected_speech_s(t) <= 2.0 for t in engine.spoken)
    pauses = (len(engine.spoken) - 1) * 0.10
    assert seconds == pytest.approx(len(text) * 0.06 + pauses, abs=0.01)


async def test_the_limit_holds_at_slow_speed(limited: tuple[SpeechPipeline, RecordingSine]) -> None:
    """The engine declares speed-1 seconds; a slow request's calls are cut the same way and its
    audio (pauses included) is 1/speed as long as at speed 1."""
    pipeline, engine = limited
    text = "去海边的火车每小时从北站发出一班。我们一起去公园散步吧。"
    normal = await spoken_s(pipeline, text, 1.0)
    calls_at_1 = list(engine.spoken)
    engine.spoken.clear()
    slow = await spoken_s(pipeline, text, 0.25)
    assert engine.spoken == calls_at_1
    assert slow == pytest.approx(normal / 0.25, rel=0.01)
    engine.spoken.clear()
    fast = await spoken_s(pipeline, text, 4.0)
    assert fast == pytest.approx(normal / 4.0, rel=0.01)


async def test_cut_pieces_have_their_own_cache_keys_and_work_units(
    limited: tuple[SpeechPipeline, RecordingSine],
) -> None:
    pipeline, _ = limited
    opts = SpeechOptions(voice=pipeline.table.resolve("zh_test"), speed=0.5)
    segment = pipeline.plan("今天下午我们一起去公园散步吧。今天的天气很好阳光明媚适合出门", opts.voice)[-1]
    calls = pipeline.calls(segment, opts)
    assert len(calls) >= 2  # 14 characters, each call ≤ 9 (2 s at 0.22 s each)
    assert all(expected_speech_s(c.item.text) <= 2.0 for c in calls)
    assert all(c.item.speed == 0.5 for c in calls)
    assert len({c.key for c in calls}) == len(calls)
    assert [c.pause_s for c in calls] == [0.0] + [0.2] * (len(calls) - 1)  # 0.1 s ÷ speed
    other = SpeechOptions(voice=opts.voice, speed=1.0)
    keys = pipeline.pcm_parts([segment], opts)[1:]  # after the segment's pause/run count
    assert set(keys).isdisjoint(pipeline.pcm_parts([segment], other)[1:])  # speed is in every key


class SlowLimitedSine(RecordingSine):
    """Like zh-baker: the most speech one call holds shrinks with the speed (frames run out)."""

    def max_speech_s(self, speed: float) -> float | None:
        return 4.0 * min(speed, 2.0)


@pytest.fixture
async def slow_limited() -> AsyncIterator[tuple[SpeechPipeline, RecordingSine]]:
    engine = SlowLimitedSine(char_s=0.06)
    sched = Scheduler({"sine": engine}, max_batch_size=1, max_wait_ms=0, workers=1)
    await sched.start()
    pipeline = SpeechPipeline(
        table=limited_table(4.0),
        engines={"sine-zh": engine},
        scheduler=sched,
        cache=OffCache(),
        normalizer=TextNormalizer(),
    )
    yield pipeline, engine
    await sched.close()


@pytest.mark.parametrize("speed", [0.25, 0.5, 2.0, 4.0])
async def test_speed_dependent_cuts_keep_the_whole_at_one_over_speed(
    slow_limited: tuple[SpeechPipeline, RecordingSine], speed: float
) -> None:
    """More cuts at a slow speed join with no pause: the audio of a long unpunctuated run is
    1/speed of speed 1's exactly (a 0.1 s ÷ speed pause per extra cut made it 15 % too long)."""
    pipeline, engine = slow_limited
    text = "我们一起去公园散步吧今天的天气很好阳光明媚适合出门走走看看风景然后一起回家吃饭" * 3
    normal = await spoken_s(pipeline, text, 1.0)
    calls_at_1 = len(engine.spoken)
    engine.spoken.clear()
    other = await spoken_s(pipeline, text, speed)
    if speed < 1:
        assert len(engine.spoken) > calls_at_1  # cut again: each call still fits
    assert all(expected_speech_s(t) <= 4.0 * min(speed, 2.0) for t in engine.spoken)
    assert other == pytest.approx(normal / speed, rel=0.005)
