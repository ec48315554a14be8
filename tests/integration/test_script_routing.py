"""Scripts no voice of the request speaks are routed, in the same stream, to a voice of their language,
or refused with a 400 naming ``input`` and the script (never 200 with silence or code-point names)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest

from tests.support.audio import decode
from tests.support.servers import serve_app
from ttsgate.config import Settings
from ttsgate.engines.base import EngineSpec, SynthesisInput
from ttsgate.engines.registry import create_engine
from ttsgate.server import create_app
from ttsgate.text import prepare
from ttsgate.voices import VoiceTable

JA_CHAR_S = 0.2  # the Japanese sine voice: 0.2 s per character, so its runs show in durations


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    table = VoiceTable.from_mapping(
        {
            "engines": {
                "sine-zh": {"kind": "sine", "char_s": 0.06, "sample_rate": 24000},
                "sine-en": {"kind": "sine", "char_s": 0.05, "sample_rate": 24000},
                "sine-ja": {"kind": "sine", "char_s": JA_CHAR_S, "sample_rate": 24000},
            },
            "voices": {
                "zh_test": {"engine": "sine-zh", "language": "zh"},
                "en_test": {"engine": "sine-en", "language": "en"},
                "ja_test": {"engine": "sine-ja", "language": "ja"},
            },
            "languages": {"zh": "zh_test", "en": "en_test", "ja": "ja_test"},
            "aliases": {"alloy": "en_test"},
        }
    )
    with serve_app(create_app(Settings(cache="off", max_wait_ms=2.0), table=table)) as base:
        yield base


def _speak(url: str, text: str, voice: str) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/audio/speech",
        json={"input": text, "voice": voice, "response_format": "pcm"},
        timeout=30,
    )


def test_kana_goes_to_the_japanese_voice(url: str) -> None:
    r = _speak(url, "こんにちは", "zh_test")
    assert r.status_code == 200
    assert decode(r.content, "pcm").duration_s == pytest.approx(5 * JA_CHAR_S, abs=0.05)


def test_kana_inside_chinese_is_spoken_in_the_same_stream(url: str) -> None:
    with_kana = decode(_speak(url, "日语的こんにちは是你好的意思。", "zh_test").content, "pcm").duration_s
    without = decode(_speak(url, "日语的是你好的意思。", "zh_test").content, "pcm").duration_s
    assert with_kana - without == pytest.approx(5 * JA_CHAR_S, abs=0.15)


@pytest.mark.parametrize(
    ("text", "voice", "script"),
    [
        ("สวัสดีครับ", "alloy", "Thai"),
        ("안녕하세요", "zh_test", "Korean"),
        ("你好，Привет", "zh_test", "Cyrillic"),
    ],
)
def test_a_script_nothing_speaks_is_a_400_naming_it(url: str, text: str, voice: str, script: str) -> None:
    r = _speak(url, text, voice)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["param"] == "input"
    assert error["code"] == "unsupported_script"
    assert script in error["message"]


def test_normalize_shows_the_runs(url: str) -> None:
    body = httpx.post(f"{url}/v1/text/normalize", json={"input": "日语的こんにちは。", "lang": "zh"}).json()
    assert [r["language"] for r in body["segments"][0]["runs"]] == ["zh", "ja"]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_espeak_ng_speaks_a_japanese_run() -> None:
    """The real fallback: the built-in table routes kana to espeak-ng's ja voice, which speaks it."""
    table = VoiceTable.load()
    ((lang, text),) = prepare("こんにちは", "zh")[0].runs
    voice = table.route(table.resolve("zh_female_baker"), lang)
    engine = create_engine(EngineSpec("espeak", "espeak"))
    engine.load()
    try:
        (chunk,) = engine.synthesize([SynthesisInput(text, voice.language, voice.speaker)])
    finally:
        engine.close()
    assert (voice.engine, voice.speaker) == ("espeak", "ja")
    assert len(chunk.samples) / chunk.sample_rate > 0.4  # five kana, not a letter-name spelling or silence
