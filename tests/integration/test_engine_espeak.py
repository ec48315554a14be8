"""The eSpeak NG engine with the system ``espeak-ng`` binary (a base dependency)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from ttsgate.audio.chunk import AudioChunk
from ttsgate.engines.base import EngineSpec, SynthesisInput
from ttsgate.engines.espeak import EspeakEngine, parse_voice_names, speakable_text
from ttsgate.engines.registry import create_engine
from ttsgate.exceptions import EngineError, InvalidRequestError

EN = "The quick brown fox jumps over the lazy dog. Please bring your umbrella."

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


def _say(
    engine: EspeakEngine, text: str, speaker: str | None = None, language: str = "en", speed: float = 1.0
) -> AudioChunk:
    (chunk,) = engine.synthesize([SynthesisInput(text, language, speaker, speed)])
    return chunk


def _rms(chunk: AudioChunk) -> float:
    return float(np.sqrt(np.mean(np.square(chunk.samples, dtype=np.float64))))


@needs_espeak
def test_registry_builds_espeak() -> None:
    engine = create_engine(EngineSpec("e", "espeak", {}))
    assert isinstance(engine, EspeakEngine)
    assert engine.max_batch_size == 1


@pytest.mark.parametrize(
    ("text", "speaker", "language"),
    [
        ("你好，世界。今天天气很好。", "cmn", "zh"),
        ("你好，世界。今天天氣很好。", "yue", "yue"),
        (EN, "en-us", "en"),
        (EN, None, "en"),  # speaker defaults to the language
        ("Bonjour tout le monde.", "fr", "fr"),
        ("你好", None, "zh"),
    ],
)
def test_languages_have_energy(espeak: EspeakEngine, text: str, speaker: str | None, language: str) -> None:
    chunk = _say(espeak, text, speaker, language)
    assert chunk.sample_rate == espeak.sample_rate == 22_050
    assert chunk.samples.dtype == np.float32
    assert chunk.duration_s > 0.3
    assert _rms(chunk) > 0.02


@pytest.mark.parametrize("speed", [0.25, 0.3, 0.5, 2.0, 2.5, 4.0])
def test_speed_means_what_it_says(espeak: EspeakEngine, speed: float) -> None:
    """1/speed as long, within 10 % (issue #13: espeak's own 350 wpm was 12 % too short)."""
    normal = _say(espeak, EN, "en-us").duration_s
    changed = _say(espeak, EN, "en-us", speed=speed).duration_s
    assert changed * speed == pytest.approx(normal, rel=0.10)


@pytest.mark.parametrize(
    ("text", "speaker", "language"),
    [("Hi.", "en-us", "en"), ("a", "en-us", "en"), ("好", "yue", "yue"), ("oui", "fr", "fr")],
)
@pytest.mark.parametrize("speed", [0.25, 0.5, 2.0, 4.0])
def test_short_inputs_keep_one_over_speed(
    espeak: EspeakEngine, text: str, speaker: str, language: str, speed: float
) -> None:
    """espeak-ng's closing silence does not follow its rate: trimmed and put back ÷ speed, a
    one-word input is 1/speed as long too (it was ×1.25 at 0.5, ×0.74 at 2.0)."""
    if text == "a" and speed >= 2.0:
        pytest.xfail("espeak-ng at 262 wpm shortens a lone vowel 1.36x more than its rate: 0.87-0.89")
    normal = _say(espeak, text, speaker, language).duration_s
    changed = _say(espeak, text, speaker, language, speed=speed).duration_s
    assert changed * speed == pytest.approx(normal, rel=0.10)


def test_slow_audio_keeps_energy(espeak: EspeakEngine) -> None:
    assert _rms(_say(espeak, EN, "en-us", speed=0.25)) > 0.02


@pytest.mark.parametrize("voice", ["klingon", "en-us+nosuchvariant", "cmn; rm -rf /"])
def test_unknown_voice(espeak: EspeakEngine, voice: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        _say(espeak, "hello", voice)
    assert info.value.param == "voice"


def test_variant_voice(espeak: EspeakEngine) -> None:
    assert _rms(_say(espeak, "hello there", "en-us+f3")) > 0.02


def test_speed_out_of_range(espeak: EspeakEngine) -> None:
    with pytest.raises(InvalidRequestError) as info:
        _say(espeak, "hello", "en-us", speed=0.1)
    assert info.value.param == "speed"


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "\x00"])
def test_empty_text_is_short_silence(espeak: EspeakEngine, text: str) -> None:
    chunk = _say(espeak, text, "en-us")
    assert 0 < chunk.duration_s < 0.5
    assert not np.any(chunk.samples)


def test_control_characters_do_not_crash(espeak: EspeakEngine) -> None:
    assert _rms(_say(espeak, "hello\x00 world\ud800 again", "en-us")) > 0.02


def test_version(espeak: EspeakEngine) -> None:
    assert espeak.version.startswith("espeak-3:")
    assert "eSpeak" in espeak.version


def test_missing_binary_names_package() -> None:
    engine = EspeakEngine(EngineSpec("e", "espeak", {"binary": "espeak-ng-does-not-exist"}))
    with pytest.raises(EngineError, match="Debian package espeak-ng"):
        engine.load()


def test_parse_voice_names() -> None:
    listing = (
        "Pty Language       Age/Gender VoiceName          File                 Other Languages\n"
        " 5  cmn             --/M      Chinese_(Mandarin) sit/cmn              (zh-cmn 5)(zh 5)\n"
        " 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)\n"
    )
    assert parse_voice_names(listing) == {"cmn", "sit/cmn", "zh-cmn", "zh", "en-us", "gmw/en-us", "en"}


def test_speakable_text() -> None:
    assert speakable_text(" a\x00b\u200bc\n") == "a bc"


@needs_espeak
def test_latin_letters_in_cantonese_text_are_spoken(espeak: EspeakEngine) -> None:
    """A zh run keeps its letters (A股, 四G, GPT四o; docs/reading.md): the Cantonese voice gets them
    as written and says them (English letter names), so the audio is longer than without them."""
    for spoken, bare in (("A股大涨", "股大涨"), ("四G信号", "四信号"), ("GPT四o发布了", "四发布了")):
        with_letters = _say(espeak, spoken, "yue", "yue").duration_s
        assert with_letters >= _say(espeak, bare, "yue", "yue").duration_s + 0.1, spoken
