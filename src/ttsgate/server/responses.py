"""Shapes of the JSON answers, for the OpenAPI document (routes return plain dicts of these shapes).

Declared with ``responses={200: {"model": ...}}``: they document, they do not filter. Extra fields
are allowed, so adding one to an answer does not break a client generated from the schema.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ModelInfo(_Open):
    id: str
    object: Literal["model"]
    owned_by: str


class ModelList(_Open):
    """``GET /v1/models``: OpenAI's list shape; ``models`` repeats ``data`` for Open WebUI."""

    object: Literal["list"]
    data: list[ModelInfo]
    models: list[ModelInfo]


class AudioModelList(_Open):
    models: list[ModelInfo]


class VoiceInfo(_Open):
    id: str
    name: str
    language: str
    engine: str
    alias_of: str | None = Field(None, description="For an alias: the voice id it names.")


class VoiceList(_Open):
    voices: list[VoiceInfo]


class Health(_Open):
    status: Literal["ok"]


class Readiness(_Open):
    """``GET /ready``: 200 when every engine is loaded and warm and new work is taken, else 503 with
    the same shape (``refusing`` says why a warm server refuses new work)."""

    ready: bool
    engines: list[str]
    failed: dict[str, str] = Field(description="engine → why it failed to load")
    load: dict[str, dict[str, float]] | None = Field(None, description="engine → load figures")
    profile: str | None = Field(None, description="TTSGATE_PROFILE: default or edge")
    refusing: dict[str, str] | None = Field(
        None,
        description="present while every new request is refused (503): code (memory) and reason, e.g. "
        "the process RSS above TTSGATE_MEMORY_LIMIT_MB",
    )
    memory: dict[str, Any] | None = Field(
        None,
        description="rss_mb: the process's resident memory now (MiB); engines_rss_mb: engine → RSS its "
        "load and warm-up added (MiB; engines load in turn, so a shared library counts on the first)",
    )


class Draining(_Open):
    """``GET /ready`` while the server drains (SIGTERM; server/drain.py)."""

    status: Literal["draining"]


class NormalizedRun(_Open):
    language: str
    text: str


class NormalizedSegment(_Open):
    text: str
    runs: list[NormalizedRun]


class Normalized(_Open):
    normalized: str
    segments: list[NormalizedSegment]


class SubtitleCue(_Open):
    start: float = Field(description="seconds from the start of the audio")
    end: float = Field(description="seconds")
    text: str


class Subtitles(_Open):
    """``subtitle_format: json``."""

    duration: float = Field(description="seconds")
    cues: list[SubtitleCue]
