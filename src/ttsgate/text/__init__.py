"""Text pipeline: LLM-output cleanup, segmentation, language runs and normalisation (zh, en).

The server holds one ``TextNormalizer`` (it loads wetext's grammars); ``normalize`` and
``prepare`` without a normalizer use ``default_normalizer()``, a ``functools.cache``d instance.
"""

from __future__ import annotations

from ttsgate.text.cleanup import clean_for_speech
from ttsgate.text.live import IncrementalSegmenter
from ttsgate.text.normalizer import TextNormalizer, parse_lang
from ttsgate.text.pipeline import Segment, default_normalizer, expected_speech_s, has_speech, prepare
from ttsgate.text.runs import detect_language, split_language_runs
from ttsgate.text.segment import split_segments

__all__ = [
    "IncrementalSegmenter",
    "Segment",
    "TextNormalizer",
    "clean_for_speech",
    "default_normalizer",
    "detect_language",
    "expected_speech_s",
    "has_speech",
    "normalize",
    "parse_lang",
    "prepare",
    "split_language_runs",
    "split_segments",
]


def normalize(text: str, lang: str = "zh") -> str:
    """Normalise ``text`` with the shared ``default_normalizer()`` (see ``TextNormalizer``)."""
    return default_normalizer().normalize(text, lang)
