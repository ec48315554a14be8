"""LLM backends that stream a chat reply as text deltas, to be spoken as it arrives.

``create_backend(settings, client)`` picks Ollama's native ``/api/chat`` (``TTSGATE_LLM_KIND=ollama``)
or the OpenAI-compatible ``/v1/chat/completions`` (``openai``) at ``TTSGATE_LLM_URL``, on the
runtime's shared ``httpx.AsyncClient``. ``reply_segments`` turns deltas into speakable segments.
"""

from __future__ import annotations

import httpx

from ttsgate.config import Settings
from ttsgate.llm.base import ChatBackend, ChatMessage, JSONValue, limits
from ttsgate.llm.ollama import OllamaBackend
from ttsgate.llm.openai import OpenAIBackend
from ttsgate.llm.segments import Flush, read_ahead, reply_segments

__all__ = [
    "ChatBackend",
    "ChatMessage",
    "Flush",
    "JSONValue",
    "OllamaBackend",
    "OpenAIBackend",
    "create_backend",
    "read_ahead",
    "reply_segments",
]


def create_backend(settings: Settings, client: httpx.AsyncClient) -> ChatBackend:
    line, reply = limits(settings.max_input_chars)
    if settings.llm_kind == "openai":
        return OpenAIBackend(
            client, settings.llm_url, settings.llm_api_key, max_line_chars=line, max_reply_chars=reply
        )
    return OllamaBackend(client, settings.llm_url, max_line_chars=line, max_reply_chars=reply)
