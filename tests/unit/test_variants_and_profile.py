"""Issue #15 part 2: the int8 quality gate on recorded figures, variant resolution, TTSGATE_PROFILE=edge."""

from __future__ import annotations

import pytest

from ttsgate.config import EDGE_DEFAULTS, Settings
from ttsgate.engines.variants import Score, gate, load_recorded, resolve_variant, verdict_for
from ttsgate.exceptions import EngineError
from ttsgate.voices import VoiceTable


def test_gate_rule_bounds() -> None:
    full = Score(error_pct=2.0, dnsmos=3.0)
    assert gate(full, Score(3.0, 2.9)).passed  # exactly +1 point and -0.1: still offered
    assert not gate(full, Score(3.01, 3.0)).passed
    assert not gate(full, Score(2.0, 2.89)).passed
    assert gate(full, Score(0.5, 3.4)).passed  # better is fine
    assert gate(Score(2.0, 3.0, rss_mb=180), Score(2.0, 3.0, rss_mb=170)).smaller
    assert not gate(Score(2.0, 3.0, rss_mb=180), Score(2.0, 3.0, rss_mb=185)).smaller


def test_recorded_verdicts() -> None:
    """The figures benchmarks/voice_quality.py recorded: zh int8 keeps quality but is not smaller;
    piper Joe int8 loses 0.2 DNSMOS and is not offered."""
    recorded = load_recorded()
    zh = verdict_for("zh-baker", recorded)
    joe = verdict_for("piper:en_US-joe-medium", recorded)
    assert zh is not None
    assert zh.passed
    assert not zh.smaller
    assert joe is not None
    assert not joe.passed
    assert "DNSMOS" in joe.reason
    assert verdict_for("piper:someone-else", recorded) is None


def test_resolve_variant() -> None:
    recorded = {
        "good": {"fp32": Score(2.0, 3.0, 200), "int8": Score(2.5, 2.95, 120)},
        "bad": {"fp32": Score(2.0, 3.0, 200), "int8": Score(2.0, 2.7, 120)},
    }
    present, absent = (lambda: True), (lambda: False)
    assert resolve_variant("e", None, "good", present, recorded) == "fp32"
    assert resolve_variant("e", "auto", "good", present, recorded) == "int8"
    assert resolve_variant("e", "auto", "good", absent, recorded) == "fp32"  # files not made
    assert resolve_variant("e", "auto", "bad", present, recorded) == "fp32"
    assert resolve_variant("e", "auto", "unmeasured", present, recorded) == "fp32"
    assert resolve_variant("e", "int8", "unmeasured", present, recorded) == "int8"
    with pytest.raises(EngineError, match=r"not offered.*quality gate"):
        resolve_variant("e", "int8", "bad", present, recorded)
    with pytest.raises(EngineError, match="variant must be one of"):
        resolve_variant("e", "int4", "good", present, recorded)


def test_edge_profile_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTSGATE_PROFILE", "edge")
    s = Settings()
    for name, value in EDGE_DEFAULTS.items():
        assert getattr(s, name) == value, name
    assert s.engine_names() == {"zh-baker", "piper-joe", "espeak"}
    assert s.worker_count() == 1


def test_edge_profile_keeps_explicit_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTSGATE_PROFILE", "edge")
    monkeypatch.setenv("TTSGATE_WORKERS", "2")
    monkeypatch.setenv("TTSGATE_ENGINES", "zh-baker")
    s = Settings(variant="fp32")
    assert (s.workers, s.engines, s.variant, s.cache_memory_mb) == (2, "zh-baker", "fp32", 8)


def test_default_profile_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TTSGATE_PROFILE", raising=False)
    s = Settings()
    assert (s.profile, s.engines, s.workers, s.variant, s.memory_limit_mb) == ("default", "", 0, "fp32", 0)


@pytest.mark.parametrize("language", ["ru", "ja", "ko", "ar", "el"])
def test_edge_profile_speaks_other_scripts_through_espeak(language: str) -> None:
    """A Cyrillic, kana, Hangul, Arabic or Greek word in an edge request goes to espeak-ng (the
    table's fallback), not a 400 unsupported_script for the whole request (reviewer)."""
    names = Settings(profile="edge").engine_names()
    assert names is not None
    table = VoiceTable.load(None).only_engines(names)
    assert table.fallback_engine == "espeak"
    for voice in ("zh_female_baker", "en_male_joe"):
        assert table.route(table.voices[voice], language).engine == "espeak"
