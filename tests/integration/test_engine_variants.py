"""int8 variants on the real voices (scripts/quantize_voices.sh made their files)."""

from __future__ import annotations

import pytest

from ttsgate.engines import SynthesisInput, create_engine
from ttsgate.engines.base import EngineSpec
from ttsgate.engines.variants import cache_root
from ttsgate.engines.zh_baker_onnx import default_onnx_dir, onnx_files_present
from ttsgate.exceptions import EngineError

pytestmark = pytest.mark.voices


@pytest.mark.skipif(not onnx_files_present(default_onnx_dir() / "int8"), reason="no int8 zh-baker files")
def test_zh_int8_loads_and_speaks() -> None:
    fp32 = create_engine(EngineSpec("zh", "zh-baker", {"variant": "fp32"}, workers=1))
    int8 = create_engine(EngineSpec("zh8", "zh-baker", {"variant": "int8"}, workers=1))
    assert int8.version != fp32.version
    assert int8.version.endswith(":int8")
    int8.load()
    text = "今天天气很好，我们去公园散步吧。"  # 15 syllables
    (chunk,) = int8.synthesize([SynthesisInput(text, "zh")])
    assert chunk.sample_rate == 24_000
    assert 1.8 < chunk.duration_s < 5.0, chunk.duration_s  # ~0.19 s a syllable at speed 1
    assert float(abs(chunk.samples).max()) > 0.05  # speech, not silence
    (fast,) = int8.synthesize([SynthesisInput(text, "zh", speed=2.0)])
    assert fast.duration_s == pytest.approx(chunk.duration_s / 2, rel=0.15)


def test_piper_int8_failed_gate_is_not_offered() -> None:
    if not (cache_root() / "piper-int8" / "en_US-joe-medium.onnx").is_file():
        pytest.skip("no int8 piper file")
    with pytest.raises(EngineError, match="not offered"):
        create_engine(EngineSpec("joe8", "piper", {"variant": "int8"}, workers=1))
    auto = create_engine(EngineSpec("joe", "piper", {"variant": "auto"}, workers=1))
    fp32 = create_engine(EngineSpec("joe", "piper", {}, workers=1))
    auto.load()
    fp32.load()
    assert auto.version == fp32.version  # auto fell back to the full model
