"""Voice tables for tests: the deterministic sine engine standing in for each language."""

from __future__ import annotations

from typing import Any

from ttsgate.voices import VoiceTable

ZH_CHAR_S = 0.06
EN_CHAR_S = 0.05


def sine_table(fail_on: str = "", **zh_options: Any) -> VoiceTable:
    """``fail_on``: a text that makes either sine engine fail its batch (errors mid-stream)."""
    return VoiceTable.from_mapping(
        {
            "engines": {
                "sine-zh": {
                    "kind": "sine",
                    "char_s": ZH_CHAR_S,
                    "sample_rate": 24000,
                    "fail_on": fail_on,
                    **zh_options,
                },
                "sine-en": {"kind": "sine", "char_s": EN_CHAR_S, "sample_rate": 22050, "fail_on": fail_on},
            },
            "voices": {
                "zh_test": {"engine": "sine-zh", "language": "zh", "name": "Sine Mandarin"},
                "en_test": {"engine": "sine-en", "language": "en", "name": "Sine English"},
                # Cantonese on the English engine's pace (0.05 s/char), so routing shows in durations
                "yue_test": {
                    "engine": "sine-en",
                    "language": "yue",
                    "speaker": "yue",
                    "name": "Sine Cantonese",
                },
            },
            "languages": {"zh": "zh_test", "en": "en_test", "yue": "yue_test"},
            "aliases": {"alloy": "en_test", "zh_female_001": "zh_test"},
        }
    )
