"""Wire models: the request bodies ttsgate accepts, validated by pydantic (errors → 400 naming the field).

Types are strict, as OpenAI's API is: a boolean is ``true``/``false`` (not ``0`` or ``"yes"``), a
number is a JSON number (an integer is one; ``"1.5"`` is not), a string is a string. Unknown fields
are ignored, as OpenAI's SDKs may send newer ones.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from ttsgate.text.lexicon import MAX_READING_CHARS, MAX_REQUEST_ENTRIES, MAX_WORD_CHARS

AudioFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
# A BCP-47 tag, case-insensitive (``EN``, ``zh-Hant``, ``en-GB-x-rp``): lowercased here; the runtime
# maps subtags the table does not route to the primary language it does (Runtime.check_request).
Language = Annotated[
    str, Field(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", max_length=32), AfterValidator(str.lower)
]
_NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")


def _plain_number(value: object, info: ValidationInfo) -> object:
    """A number written as text (a query parameter) must be a plain decimal number: not ``nan``,
    ``inf`` or ``1_0`` (which Python's ``float`` reads as 10); a body's ``NaN``/``Infinity`` (which
    Python's JSON parser reads, though they are not JSON) is refused too."""
    lax = not (info.config or {}).get("strict")  # a body is strict: a string is no number at all there
    if lax and isinstance(value, str) and not _NUMBER.fullmatch(value):
        raise ValueError("must be a number such as 1.0")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number (NaN and Infinity are not JSON)")
    return value


Speed = Annotated[
    float,
    Field(ge=0.25, le=4.0, allow_inf_nan=False, description="0.25–4.0; 1.0 is the voice's natural pace."),
    BeforeValidator(_plain_number),
]
# The limits request_entries (text/lexicon.py) checks, in the document (its messages answer them).
LEXICON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "maxProperties": MAX_REQUEST_ENTRIES,
    "propertyNames": {"minLength": 1, "maxLength": MAX_WORD_CHARS},
    "additionalProperties": {"type": "string", "minLength": 1, "maxLength": MAX_READING_CHARS},
}
LexiconEntries = Annotated[
    dict[str, str] | None,
    Field(
        json_schema_extra={k: v for k, v in LEXICON_SCHEMA.items() if k != "type"},
        description="Pronunciation lexicon for this request, over the server's file (docs/reading.md): "
        '{"乐清": "yue4 qing1", "Nginx": "engine x", "Siobhan": "/ʃɪˈvɔːn/"}. Mandarin words take pinyin '
        "with tones 1-5 (one syllable per character), English words a respelling or IPA in slashes; "
        "at most 200 entries, words 1-64 characters, readings 1-256.",
        examples=[{"乐清": "yue4 qing1", "Nginx": "engine x"}],
    ),
]


class RequestModel(BaseModel):
    """Base of every request body: strict JSON types, unknown fields ignored."""

    model_config = ConfigDict(extra="ignore", strict=True)


class VoiceRef(RequestModel):
    """OpenAI also accepts ``{"id": "voice"}`` for custom voices."""

    id: str = Field(min_length=1, max_length=200)


class VoiceChoice(RequestModel):
    """The voice fields every speaking request shares."""

    voice: str | VoiceRef = Field("alloy", description='A voice id or alias, or {"id": ...}.')
    language: Language | None = Field(
        None,
        description="Dialect for Han text, e.g. 'yue' speaks Chinese text in Cantonese (the routing "
        "table's voice for it). Unset: the voice's own Han language, else Mandarin.",
    )

    lexicon: LexiconEntries = None

    @property
    def voice_id(self) -> str:
        return self.voice.id if isinstance(self.voice, VoiceRef) else self.voice

    @field_validator("voice", mode="before")
    @classmethod
    def _strip(cls, v: object) -> object:
        return v.strip() if isinstance(v, str) else v


class SpeechBody(VoiceChoice):
    """``POST /v1/audio/speech`` as OpenAI defines it (``model`` is accepted and recorded, not required)."""

    model: str = Field("tts-1", max_length=200)
    input: str = Field(min_length=1, description="Text to speak (up to TTSGATE_MAX_INPUT_CHARS).")
    response_format: AudioFormat = "mp3"
    speed: Speed = 1.0
    stream_format: Literal["audio", "sse"] = "audio"
    instructions: str | None = Field(None, max_length=4096, description="Accepted for compatibility; unused.")


class ChattsVoiceSettings(RequestModel):
    voice_id: str | None = Field(None, min_length=1, max_length=200)
    speed: Speed | None = None
    batch_size: int | None = Field(None, ge=1, le=64, description="Accepted; batching is the server's job.")


class ChattsBody(RequestModel):
    """The seed client's body for ``POST /api/chatts``.

    The seed wrote ``VoiceSettings(voice_id=..., speed=..., batch_size=...)`` inside a dict literal
    (a syntax error); it is accepted here as a ``voice_settings`` object, and ``voice_id``/``speed``
    are also accepted at the top level.
    """

    model: str = Field("chatts-cn-gguf", max_length=200)
    prompt: str = Field(min_length=1)
    voice_id: str | None = Field(None, min_length=1, max_length=200)
    speed: Speed | None = None
    voice_settings: ChattsVoiceSettings | None = None
    stream: bool = True
    response_format: AudioFormat = "wav"
    lexicon: LexiconEntries = None

    def resolved(self) -> tuple[str, float]:
        vs = self.voice_settings or ChattsVoiceSettings()
        voice = self.voice_id or vs.voice_id or "zh_female_001"
        speed = self.speed if self.speed is not None else (vs.speed if vs.speed is not None else 1.0)
        return voice, speed

    def client_names(self) -> dict[str, str]:
        """Where this body put the text, the voice and the speed: errors about them name these."""
        vs = self.voice_settings
        voice = "voice_settings.voice_id" if self.voice_id is None and vs and vs.voice_id else "voice_id"
        speed = "voice_settings.speed" if self.speed is None and vs and vs.speed is not None else "speed"
        return {"input": "prompt", "voice": voice, "speed": speed}


class NormalizeBody(RequestModel):
    input: str = Field(min_length=1)
    lang: Literal["zh", "en"] = "zh"
    lexicon: LexiconEntries = None


class ChatMessageBody(RequestModel):
    role: Literal["system", "user", "assistant", "tool"]
    content: str = Field(max_length=100_000)


class ChatSpeechBody(VoiceChoice):
    """``POST /v1/chat/speech``: ask the LLM, speak its reply as it is generated."""

    model: str | None = Field(
        None, min_length=1, max_length=200, description="LLM model; TTSGATE_LLM_MODEL when unset."
    )
    messages: list[ChatMessageBody] = Field(min_length=1, max_length=500)
    response_format: AudioFormat = "mp3"
    speed: Speed = 1.0
    stream_format: Literal["audio", "sse"] = "audio"
    options: dict[str, Any] | None = Field(
        None, description="LLM options (Ollama options / OpenAI sampling fields)."
    )
    keep_alive: str | int | None = Field(None, description="Ollama keep_alive, passed through.")


class WsStartMessage(VoiceChoice):
    """The first message of a ``/v1/audio/speech/ws`` session (docs/websocket.md)."""

    type: Literal["start"]
    response_format: AudioFormat = "pcm"
    speed: Speed = 1.0
