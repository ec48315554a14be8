"""OpenAI-compatible ``POST /v1/chat/completions`` streaming (Ollama's /v1, llama.cpp, vLLM, LM Studio).

Server-sent events: ``data: {"choices":[{"delta":{"content":"Hel"}}]}`` … ``data: [DONE]``. Servers
report a failure after streaming began as ``data: {"error": {...}}`` (llama.cpp, vLLM). ``options``
become top-level sampling fields (``num_predict`` is accepted as ``max_tokens``); ``keep_alive`` has
no OpenAI equivalent and is ignored.
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

_RENAMED = {"num_predict": "max_tokens"}


def chat_completions_url(base_url: str) -> str:
    """``http://host:port`` and ``http://host:port/v1`` both mean ``…/v1/chat/completions``."""
    base = base_url.rstrip("/")
    return f"{base}/chat/completions" if base.endswith("/v1") else f"{base}/v1/chat/completions"


class OpenAIBackend:
    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        api_key: str = "",
        *,
        max_line_chars: int = MAX_LINE_CHARS,
        max_reply_chars: int = MAX_REPLY_CHARS,
    ) -> None:
        self.client = client
        self.max_line_chars = max_line_chars
        self.max_reply_chars = max_reply_chars
        self.url = chat_completions_url(base_url)
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str,
        options: Mapping[str, JSONValue] | None = None,
        keep_alive: str | int | None = None,
    ) -> AsyncIterator[str]:
        body: dict[str, JSONValue] = {_RENAMED.get(k, k): v for k, v in (options or {}).items()}
        body.update({"model": model, "messages": list(messages), "stream": True})
        async with upstream_call(self.client, self.url, body, self.headers) as response:
            budget = ReplyBudget(self.url, self.max_reply_chars)
            async for line in bounded_lines(response, self.url, self.max_line_chars):
                if not line.startswith("data:"):
                    continue  # blank separators, ": keep-alive" comments, "event:" lines
                payload = line[5:].strip()
                if payload == "[DONE]":
                    return
                data = parse_json_line(self.url, payload)
                if "error" in data:
                    err = data["error"]
                    detail = err.get("message", err) if isinstance(err, dict) else err
                    raise UpstreamError(f"LLM server at {self.url} reported: {detail}", code="upstream_error")
                for choice in data.get("choices") or ():
                    delta = choice.get("delta") if isinstance(choice, dict) else None
                    content = delta.get("content") if isinstance(delta, dict) else None
                    if isinstance(content, str) and content:
                        yield budget.take(content)
        # Some servers close without [DONE]; a finished reply is still a reply.
