"""The built-in voice table with the real neural voices, end to end through a real server."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.audio import decode
from tests.support.servers import serve_app
from ttsgate.config import Settings
from ttsgate.server import create_app

pytestmark = [pytest.mark.voices, pytest.mark.slow]


@pytest.fixture(scope="module")
def real_url() -> Iterator[str]:
    app = create_app(Settings(cache="off"))
    with serve_app(app, ready_timeout_s=300) as url:
        yield url


def synthesized(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics").text
    found = re.findall(r'ttsgate_segments_synthesized_total\{engine="([^"]+)"\} ([0-9.e+]+)', text)
    return {engine: float(v) for engine, v in found}


def test_say_writes_decodable_mandarin(real_url: str, tmp_path: Path) -> None:
    out = tmp_path / "x.mp3"
    before = synthesized(real_url).get("zh-baker", 0.0)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ttsgate",
            "say",
            "今天是2026年11月23日，气温零下3度。",
            "-o",
            str(out),
            "--url",
            real_url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    audio = decode(out.read_bytes(), "mp3")
    assert audio.sample_rate == 24_000
    # "今天是二零二六年十一月二十三日，气温零下三度。" is 22 syllables: ~3-7 s of speech
    assert 2.5 < audio.duration_s < 8.0
    assert audio.rms > 0.02
    assert synthesized(real_url)["zh-baker"] > before


def test_chinese_with_openai_voice_is_spoken_by_the_mandarin_voice(real_url: str) -> None:
    before = synthesized(real_url)
    r = httpx.post(
        f"{real_url}/v1/audio/speech",
        json={"input": "我用iPhone拍照。", "voice": "alloy", "response_format": "wav"},
        timeout=120,
    )
    assert r.status_code == 200
    after = synthesized(real_url)
    assert after["zh-baker"] > before.get("zh-baker", 0.0)  # the Han runs
    assert after["piper-joe"] > before.get("piper-joe", 0.0)  # "iPhone"
    audio = decode(r.content, "wav")
    assert audio.sample_rate == 24_000
    assert 1.0 < audio.duration_s < 5.0


@pytest.mark.parametrize(
    ("voice", "text"), [("en_male_joe", "Hello, this is a test."), ("yue_espeak", "你好，今日天气好好。")]
)
def test_other_voices_speak(real_url: str, voice: str, text: str) -> None:
    r = httpx.post(
        f"{real_url}/v1/audio/speech",
        json={"input": text, "voice": voice, "response_format": "flac"},
        timeout=120,
    )
    assert r.status_code == 200
    audio = decode(r.content, "flac")
    assert audio.duration_s > 0.8
    assert audio.rms > 0.02


def test_espeak_fallback_voice_for_any_language(real_url: str) -> None:
    r = httpx.post(
        f"{real_url}/v1/audio/speech",
        json={"input": "Bonjour tout le monde.", "voice": "espeak:fr", "response_format": "wav"},
        timeout=120,
    )
    assert r.status_code == 200
    assert decode(r.content, "wav").duration_s > 0.8


def test_language_yue_speaks_chinese_text_in_cantonese(real_url: str) -> None:
    before = synthesized(real_url).get("espeak", 0.0)
    r = httpx.post(
        f"{real_url}/v1/audio/speech",
        json={"input": "你好，今日天气好好。", "voice": "alloy", "language": "yue", "response_format": "wav"},
        timeout=120,
    )
    assert r.status_code == 200
    assert synthesized(real_url)["espeak"] > before  # yue_espeak, not the Mandarin voice
    assert decode(r.content, "wav").duration_s > 0.8
