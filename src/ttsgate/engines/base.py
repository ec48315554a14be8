"""The Engine protocol: numpy + stdlib types only, so any engine fits without the server knowing it.

An engine is created from an ``EngineSpec`` (one ``[engines.NAME]`` table of the config), loaded once
(``load``, blocking, heavy), warmed, then called by the scheduler's workers with batches of
``SynthesisInput`` (``synthesize``, blocking, called off the event loop). Items of one batch always
share ``batch_key(item)``. An engine that does not batch declares ``max_batch_size = 1``.

An engine that can hand out a segment's audio while it is still making it (issue #15: first audio
before the whole segment is synthesized) returns an iterator from ``pieces``; the others return None.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ttsgate.audio.chunk import AudioChunk


@dataclass(frozen=True, slots=True)
class SynthesisInput:
    """One segment to speak: normalized text in one language, for one voice of one engine.

    ``text`` may hold pronunciation-lexicon marks (a word with its pinyin or IPA, ``text/marks.py``):
    an engine renders those it can honour and reads the rest as ``marks.plain(text)``."""

    text: str
    language: str  # BCP-47-ish primary tag as the voice table uses it: "zh", "en", "yue", ...
    speaker: str | None = None  # engine-specific speaker/voice within the engine's model
    speed: float = 1.0
    # Extra synthesis parameters the engine understands (sorted pairs, so the value is hashable
    # and usable in cache keys).
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class EngineSpec:
    """How to build one engine instance: its name in the config, its kind, and kind options."""

    name: str
    kind: str
    options: Mapping[str, Any] = field(default_factory=dict)
    # Per-engine overrides of the scheduler settings (None: TTSGATE_* applies).
    max_batch_size: int | None = None  # also caps the engine's own preference
    workers: int | None = None
    max_queue: int | None = None
    max_wait_ms: float | None = None
    max_queue_wait_s: float | None = None


@runtime_checkable
class Engine(Protocol):
    """What the scheduler and the pipeline need of a speech engine."""

    @property
    def name(self) -> str:
        """The engine's name in the config (``zh-baker``, ``piper-joe``...)."""
        ...

    @property
    def version(self) -> str:
        """Changes whenever the same input would give other audio (part of every cache key)."""
        ...

    @property
    def sample_rate(self) -> int: ...

    @property
    def max_batch_size(self) -> int:
        """How many items one ``synthesize`` call takes with benefit; 1 means no batching."""
        ...

    def load(self) -> None:
        """Load models. Blocking; called once, off the event loop, before any synthesis."""
        ...

    def batch_key(self, item: SynthesisInput) -> Hashable:
        """Items with equal keys may share one ``synthesize`` call."""
        ...

    def max_speech_s(self, speed: float) -> float | None:
        """The most speech one item may hold at ``speed``, in seconds at speed 1 as
        ``text.expected_speech_s`` estimates them from its text; None: no limit. The pipeline cuts
        a longer run at word boundaries (``text/fit.py``) into items that each fit. A model with a
        fixed maximum output (zh-baker: 2048 mel frames) declares it here, with a margin for the
        estimate's error, and scaled by ``speed`` when it speaks slower speeds itself."""
        ...

    def speaks(self, language: str) -> bool:
        """Whether a voice made on the fly for ``language`` (speaker = the code, as the voice
        table's fallback engine is asked for an unrouted language or ``<engine>:<code>``) can
        speak. Asked after ``load``, on the event loop: a lookup, no synthesis. An engine with no
        such voices answers False."""
        ...

    def synthesize(self, batch: Sequence[SynthesisInput]) -> list[AudioChunk]:
        """Speak every item; one chunk per item, in order. Blocking. Raise to fail the batch.

        Speed means what it says: an item at ``speed`` s (0.25–4.0) gives audio 1/s as long as at
        speed 1, within ±10 % (the model's own rate control where it is that accurate,
        ``audio.tempo.time_stretch`` for the rest; measured in benchmarks/speed.md)."""
        ...

    def pieces(self, item: SynthesisInput) -> Iterator[AudioChunk] | None:
        """``item``'s audio in pieces, each handed out as soon as it is made, or None when the engine
        (or this item, e.g. a speed it time-stretches as a whole) only makes audio whole.

        The iterator is blocking and runs on a worker thread like ``synthesize``; its pieces (at
        ``sample_rate``) joined are exactly ``synthesize([item])[0].samples``, sample for sample. An
        exception from it fails the item after the pieces already handed out (the caller decides
        what a partial segment means: the HTTP rules are in README's errors section)."""
        ...

    def close(self) -> None: ...
