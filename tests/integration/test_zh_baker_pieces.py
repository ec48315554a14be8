"""zh-baker hands a segment's audio out in pieces (issue #15): the acoustic model once per sentence,
then the vocoder over the first 0.4 s and the rest in 400-frame pieces, with 32 frames of context;
the pieces join to exactly what ``synthesize`` returns, and a sentence of one piece is trimmed as
before streaming existed."""

from __future__ import annotations

import numpy as np
import pytest

from ttsgate.engines.base import EngineSpec, SynthesisInput
from ttsgate.engines.zh_baker import SAMPLE_RATE, ZhBakerEngine
from ttsgate.engines.zh_baker_audio import FIRST_FRAMES, STREAM_MIN_FRAMES, VOC_CHUNK, schedule, trim
from ttsgate.engines.zh_baker_onnx import default_onnx_dir, onnx_files_present

pytestmark = pytest.mark.skipif(
    not onnx_files_present(default_onnx_dir()),
    reason="no converted zh-baker ONNX files (scripts/convert_zh_baker_onnx.sh, run by scripts/install.sh)",
)
TEXTS = [
    "你好",  # one piece
    "今天天气不错",  # two: 0.4 s, then the rest
    "去海边的火车每小时从北站发出一班。天气很好。",  # two sentences
    "今天是二零二六年十一月二十三日，北京的气温是零下三度，早上出门的时候，街上已经有很多人在排队买早餐，"
    "地铁站里比平时更加拥挤，大家都穿着厚厚的羽绒服。",  # a sentence of more than 400 frames
    "？",  # nothing to speak: silence
]


@pytest.fixture(scope="module")
def engine(zh_onnx_engine: ZhBakerEngine) -> ZhBakerEngine:
    return zh_onnx_engine


def test_schedule() -> None:
    assert schedule(STREAM_MIN_FRAMES - 1) == [(0, STREAM_MIN_FRAMES - 1)]
    assert schedule(141) == [(0, FIRST_FRAMES), (FIRST_FRAMES, 141)]
    spans = schedule(1000)
    assert spans[0] == (0, FIRST_FRAMES)
    assert spans[-1][1] == 1000
    assert all(b - a <= VOC_CHUNK and a == prev for (a, b), (_, prev) in zip(spans[1:], spans, strict=False))


@pytest.mark.parametrize("speed", [1.0, 0.6, 1.8])
@pytest.mark.parametrize("text", TEXTS)
def test_pieces_join_to_exactly_the_whole_call(engine: ZhBakerEngine, text: str, speed: float) -> None:
    item = SynthesisInput(text, "zh", speed=speed)
    pieces = engine.pieces(item)
    assert pieces is not None
    chunks = list(pieces)
    assert all(c.sample_rate == SAMPLE_RATE and len(c.samples) for c in chunks)
    whole = engine.synthesize([item])[0].samples
    np.testing.assert_array_equal(np.concatenate([c.samples for c in chunks]), whole)


def test_a_clause_of_several_spans_comes_in_several_pieces(engine: ZhBakerEngine) -> None:
    pieces = engine.pieces(SynthesisInput(TEXTS[3], "zh"))
    assert pieces is not None
    chunks = list(pieces)
    assert len(chunks) >= 3
    assert len(chunks[0].samples) <= FIRST_FRAMES * 300  # the first is at most 0.4 s


def test_a_one_piece_sentence_is_trimmed_as_before(engine: ZhBakerEngine) -> None:
    pool = engine._require()
    models = pool.get()
    try:
        ids = engine._frontend.to_ids("你好")[0]
        raw = engine._speak(models, ids, 1.0)
    finally:
        pool.put(models)
    assert len(raw) // 300 < STREAM_MIN_FRAMES
    expected = np.clip(trim(raw, SAMPLE_RATE, 1.0), -1.0, 1.0)
    np.testing.assert_array_equal(engine.synthesize([SynthesisInput("你好", "zh")])[0].samples, expected)


def test_speeds_it_stretches_and_tflite_are_whole_only() -> None:
    eng = ZhBakerEngine(EngineSpec("zh-baker", "zh-baker", options={"runtime": "tflite"}))
    assert eng.pieces(SynthesisInput("你好", "zh")) is None
    onnx = ZhBakerEngine(EngineSpec("zh-baker", "zh-baker", options={"runtime": "onnx"}))
    onnx.load()
    try:
        assert onnx.pieces(SynthesisInput("你好", "zh", speed=3.0)) is None
    finally:
        onnx.close()
