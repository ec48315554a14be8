"""Ollama's native ``POST /api/chat`` stream: NDJSON lines, one per delta, the last with ``done``.

    {"model":"…","created_at":"…","message":{"role":"assistant","content":"Hel"},"done":false}
    …
    {"model":"…","created_at":"…","message":{"role":"assistant","content":""},"done":true,
     "done_reason":"stop","total_duration":…,"eval_count":…}

An error after streaming began arrives in-band as ``{"error":"…"}``; a busy server answers 503
(or 429) before streaming. ``options`` (temperature, num_predict, …) and ``keep_alive`` pass through.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

import httpx

from ttsgate.exceptions import UpstreamError
from ttsgate.llm.base import (
    MAX_LINE_CHARS,
    MAX_REPLY_CHARS,
    ChatMessage,
    JSONValue,
    ReplyBudget,
    bounded_lines,
    parse_json_line,
    upstream_call,
)


class OllamaBackend:
    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        max_line_chars: int = MAX_LINE_CHARS,
        max_reply_chars: int = MAX_REPLY_CHARS,
    ) -> None:
        self.client = client
        self.max_line_chars = max_line_chars
        self.max_reply_chars = max_reply_chars
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/api/chat"

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str,
        options: Mapping[str, JSONValue] | None = None,
        keep_alive: str | int | None = None,
    ) -> AsyncIterator[str]:
        body: dict[str, JSONValue] = {"model": model, "messages": list(messages), "stream": True}
        if options:
            body["options"] = dict(options)
        if keep_alive is not None:
            body["keep_alive"] = keep_alive
        async with upstream_call(self.client, self.url, body) as response:
            budget = ReplyBudget(self.url, self.max_reply_chars)
            async for line in bounded_lines(response, self.url, self.max_line_chars):
                if not line.strip():
                    continue
                data = parse_json_line(self.url, line)
                if "error" in data:
                    raise UpstreamError(
                        f"LLM server at {self.url} reported: {data['error']}", code="upstream_error"
                    )
                message = data.get("message")
                content = message.get("content") if isinstance(message, dict) else None
                if isinstance(content, str) and content:
                    yield budget.take(content)
                if data.get("done"):
                    return
        raise UpstreamError(
            f"LLM server at {self.url} ended the stream without done", code="upstream_truncated"
        )
