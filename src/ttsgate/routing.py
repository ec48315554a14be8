"""Where a segment's text goes: each language run routed to a voice and engine, cut to what the
engine takes in one call, with its cache key; and the pauses between segments and pieces.

Split out of ``pipeline`` (issue #15): ``SpeechPipeline`` is a ``Router`` that also speaks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ttsgate.audio.chunk import OUTPUT_SAMPLE_RATE, Int16Array
from ttsgate.cache import cache_key
from ttsgate.engines.base import Engine, SynthesisInput
from ttsgate.exceptions import EngineError
from ttsgate.text import Segment
from ttsgate.text.fit import fit_pieces
from ttsgate.voices import HAN_LANGUAGES, Voice, VoiceTable

# Silence inserted before a segment, by how the previous one ended.
_SENTENCE_END = "。！？!?.…；;"
_PAUSE_SENTENCE_S = 0.22
_PAUSE_CLAUSE_S = 0.10


@dataclass(frozen=True, slots=True)
class SpeechOptions:
    voice: Voice
    speed: float = 1.0
    params: tuple[tuple[str, str], ...] = ()
    # Each segment must be synthesized within this after it is asked for (never the whole stream,
    # whose length follows its client's reading: SpeechPipeline).
    timeout_s: float = 120.0
    # An explicit language for the runs of its script (e.g. "yue": Han text in Cantonese).
    language: str | None = None


class Router:
    """Routes runs of text to engines (``table``: voices and languages; ``engines``: loaded ones)."""

    def __init__(self, table: VoiceTable, engines: Mapping[str, Engine]) -> None:
        self.table = table
        self.engines = engines

    def calls(self, segment: Segment, opts: SpeechOptions) -> list[EngineCall]:
        """A segment's engine calls, in order: each language run routed (``route_run``) and, when
        it holds more speech than its engine takes in one call (``Engine.max_speech_s``), cut
        between words into pieces that fit (``text/fit.py``).

        The cuts are those of speed 1, each preceded by a clause pause (÷ speed), and at a speed
        whose limit is lower (zh-baker below 1: the model's frames run out sooner) those pieces are
        cut again, joined with no pause: the pauses of a run are the same at every speed, divided
        by it, so its audio is 1/speed of speed 1's (a pause per speed-dependent cut made 300
        unpunctuated Han characters 15 % too long at 0.25)."""
        out: list[EngineCall] = []
        for language, text in segment.runs:
            engine, item, key = self.route_run(language, text, opts)
            limit = engine.max_speech_s(opts.speed)
            base = engine.max_speech_s(1.0)
            if limit is not None and base is not None:
                limit = min(limit, base)
            pieces = fit_pieces(text, base if limit is not None else None)
            if len(pieces) == 1 and limit is None:
                out.append(EngineCall(engine, item, key, 0.0))
                continue
            for k, piece in enumerate(pieces):
                for j, part in enumerate(fit_pieces(piece, limit)):
                    engine, item, key = self.route_run(language, part, opts)
                    pause = _PAUSE_CLAUSE_S / opts.speed if k and not j else 0.0
                    out.append(EngineCall(engine, item, key, pause))
        return out

    def route_run(self, language: str, text: str, opts: SpeechOptions) -> tuple[Engine, SynthesisInput, str]:
        """One language run's engine, engine input and segment cache key."""
        if opts.language is not None and (language == "zh") == (opts.language in HAN_LANGUAGES):
            voice = self.table.route_exact(opts.voice, opts.language)
        else:
            voice = self.table.route(opts.voice, language)
        engine = self.engines.get(voice.engine)
        if engine is None:  # the routed voice's engine is not loaded
            raise EngineError(f"no loaded engine speaks {language!r} (wanted {voice.engine!r})")
        item = SynthesisInput(text, voice.language, voice.speaker, opts.speed, opts.params)
        key = cache_key(
            engine.name,
            engine.version,
            voice.language,
            voice.speaker or "",
            text,
            f"{opts.speed:.4f}",
            repr(opts.params),
            str(OUTPUT_SAMPLE_RATE),
        )
        return engine, item, key

    def pcm_parts(self, segments: Iterable[Segment], opts: SpeechOptions) -> list[str]:
        """Everything that determines the PCM ``stream`` makes of ``segments``, in order: per
        segment its leading pause and the cache keys of its calls and the pauses between them (the
        request cache's key)."""
        parts: list[str] = []
        prev: Segment | None = None
        for seg in segments:
            pause = 0.0 if prev is None else pause_after(prev.text) / opts.speed
            calls = self.calls(seg, opts)
            parts.append(f"pause={round(pause * OUTPUT_SAMPLE_RATE)};runs={len(calls)}")
            parts.extend(f"{silence(c.pause_s).size}:{c.key}" if c.pause_s else c.key for c in calls)
            prev = seg
        return parts


def text_mode(voice: Voice, language: str | None = None) -> tuple[str, bool]:
    """How a request's text is prepared: (normalization language for script-less pieces,
    verbatim_latin). Latin runs for a Latin-script language other than English go to the engine as
    written (espeak-ng reads French numbers in French); English and Chinese get our normalizers."""
    lang = language or voice.language
    han = lang in HAN_LANGUAGES
    return ("zh" if han else "en"), (not han and lang != "en")


def silence(seconds: float) -> Int16Array:
    return np.zeros(round(seconds * OUTPUT_SAMPLE_RATE), dtype=np.int16)


class EngineCall(NamedTuple):
    """One engine call of a segment: its engine, input, cache key and the pause before its audio."""

    engine: Engine
    item: SynthesisInput
    key: str
    pause_s: float


def pause_after(text: str) -> float:
    tail = text.rstrip()
    if not tail:
        return 0.0
    return _PAUSE_SENTENCE_S if tail[-1] in _SENTENCE_END else _PAUSE_CLAUSE_S
