"""Reading Wyoming events from a client we do not trust: bounded framing, checked fields, the voice.

The ``wyoming`` library's reader trusts its peer: a ``data_length`` of a gigabyte is read into
memory, a line that is not JSON silently ends the connection, an event without ``type`` or a
``synthesize`` whose ``text`` is a number raises out of the connection's task. Here every framing
mistake is an ``InvalidRequestError`` (code ``invalid_request``) that the handler answers with an
``error`` event before it closes the connection (the framing is lost), and the fields of the TTS
events are checked (``InvalidRequestError`` too, answered, the connection stays usable).

Limits: a header line of at most 64 KiB (the stream reader's limit), a ``data`` part of at most
``max_data_bytes`` (the handler allows ``TTSGATE_MAX_INPUT_CHARS`` in UTF-8 plus room for the
voice), a binary payload (TTS clients send none) of at most ``MAX_PAYLOAD_BYTES``, read and dropped.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from wyoming.event import Event

from ttsgate.exceptions import InvalidRequestError, VoiceNotFoundError
from ttsgate.runtime import Runtime
from ttsgate.voices import Voice

DEFAULT_VOICE = "alloy"
MAX_PAYLOAD_BYTES = 1 << 20
INVALID = "invalid_request"


def invalid(message: str, param: str | None = None) -> InvalidRequestError:
    """The error a malformed event is answered with (code ``invalid_request``)."""
    return InvalidRequestError(message, param=param, code=INVALID)


def _length(header: dict[str, Any], key: str, limit: int) -> int:
    value = header.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise invalid(f"{key}: must be a non-negative integer", key)
    if value > limit:
        raise invalid(f"{key}: {value} bytes is over the limit of {limit}", key)
    return value


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError alike
        raise invalid(f"{what}: not JSON") from None
    if not isinstance(value, dict):
        raise invalid(f"{what}: must be a JSON object")
    return value


async def read_event(reader: asyncio.StreamReader, *, max_data_bytes: int) -> Event | None:
    """The next event, or None at the end of the stream (also when it ends inside an event).

    Raises ``InvalidRequestError`` for a header that is not a JSON object with a string ``type``,
    ``data`` that is not an object, or lengths that are not integers or are over their limits."""
    try:
        line = await reader.readline()
    except ValueError:  # over the reader's limit; what was read is dropped
        raise invalid("event header line over 64 KiB") from None
    if not line:
        return None
    header = _json_object(line, "event header")
    kind = header.get("type")
    if not isinstance(kind, str) or not kind:
        raise invalid("type: a string is required", "type")
    data = header.get("data")
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise invalid("data: must be a JSON object", "data")
    data_length = _length(header, "data_length", max_data_bytes)
    payload_length = _length(header, "payload_length", MAX_PAYLOAD_BYTES)
    try:
        if data_length:
            data = {**data, **_json_object(await reader.readexactly(data_length), "data")}
        if payload_length:
            await reader.readexactly(payload_length)  # a TTS server has no use for a payload
    except asyncio.IncompleteReadError:
        return None
    return Event(type=kind, data=data)


@dataclass(frozen=True)
class VoiceRef:
    """A checked Wyoming ``voice`` object: a voice id or alias, or a language, or neither."""

    name: str | None = None
    language: str | None = None


def _optional_str(data: dict[str, Any], key: str, param: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise invalid(f"{param}: must be a string", param)
    return value or None


def voice_of(event: Event) -> VoiceRef:
    """The ``voice`` of a ``synthesize`` or ``synthesize-start`` (absent or null: the default)."""
    voice = event.data.get("voice")
    if voice is None:
        return VoiceRef()
    if not isinstance(voice, dict):
        raise invalid("voice: must be an object (name, language)", "voice")
    return VoiceRef(
        _optional_str(voice, "name", "voice.name"), _optional_str(voice, "language", "voice.language")
    )


def text_of(event: Event) -> str:
    """The ``text`` of a ``synthesize`` or ``synthesize-chunk`` (required, a string)."""
    text = event.data.get("text")
    if not isinstance(text, str):
        raise invalid(f"text: a string is required in {event.type}", "text")
    return text


def pick_voice(rt: Runtime, voice: VoiceRef) -> Voice:
    """The table voice a Wyoming ``voice`` names; ``VoiceNotFoundError`` if there is none."""
    if voice.name:
        return rt.table.resolve(voice.name)
    if voice.language:
        base = voice.language.replace("_", "-").split("-", 1)[0].lower()
        if base in rt.table.languages:
            return rt.table.voices[rt.table.languages[base]]
        raise VoiceNotFoundError(
            f"no voice for language {voice.language!r}; languages: {', '.join(sorted(rt.table.languages))}",
            param="voice.language",
            code="voice_not_found",
        )
    return rt.table.resolve(DEFAULT_VOICE)
