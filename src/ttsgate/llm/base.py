"""The ``ChatBackend`` protocol and what every backend shares: HTTP error translation.

A backend turns a chat request into a stream of text deltas. Failures become the one exception
tree: a connect failure or timeout is ``UpstreamUnavailableError`` (503, naming the upstream URL);
an HTTP error status or an error the upstream reports in-band is ``UpstreamError`` (502). Before
the first delta the route turns these into a status; after it, into an in-band error event.

What an upstream sends is bounded before it is parsed: one line (an NDJSON object, an SSE ``data:``
line) holds at most ``max_line_chars`` characters, read from the byte stream without ever holding
more (``bounded_lines``), and the reply's deltas at most ``max_reply_chars`` in all. Past either,
the reply fails as ``UpstreamError`` (``reply_too_long``): one multi-megabyte line is no LLM
token, and cutting it into speech would hold the server's CPU and memory for minutes.
``limits(settings)`` derives both from ``TTSGATE_MAX_INPUT_CHARS``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypedDict

import httpx

from ttsgate.exceptions import UpstreamError, UpstreamUnavailableError

JSONValue = Any  # what json.loads gives

LINE_FACTOR = 8  # one upstream line: 8 x TTSGATE_MAX_INPUT_CHARS (+ room for the JSON around it)
LINE_EXTRA = 4096
REPLY_FACTOR = 64  # one whole reply: 64 x TTSGATE_MAX_INPUT_CHARS (262144 characters at 4096)
MAX_LINE_CHARS = LINE_FACTOR * 4096 + LINE_EXTRA
MAX_REPLY_CHARS = REPLY_FACTOR * 4096


def limits(max_input_chars: int) -> tuple[int, int]:
    """(``max_line_chars``, ``max_reply_chars``) for a server whose input limit is ``max_input_chars``."""
    return LINE_FACTOR * max_input_chars + LINE_EXTRA, REPLY_FACTOR * max_input_chars


def too_long(url: str, what: str, limit: int) -> UpstreamError:
    return UpstreamError(
        f"LLM server at {url} sent {what} longer than {limit} characters", code="reply_too_long"
    )


async def bounded_lines(response: httpx.Response, url: str, max_chars: int) -> AsyncIterator[str]:
    """The lines of ``response`` (split at ``\\n``, a ``\\r`` before it dropped), each at most
    ``max_chars`` characters: a longer one raises ``UpstreamError`` as soon as it is known to be longer,
    before it is held whole."""
    parts: list[str] = []
    size = 0
    async for chunk in response.aiter_text():
        start = 0
        while (nl := chunk.find("\n", start)) >= 0:
            size += nl - start
            if size > max_chars:
                raise too_long(url, "a line", max_chars)
            parts.append(chunk[start:nl])
            line = "".join(parts)
            parts.clear()
            size = 0
            yield line[:-1] if line.endswith("\r") else line
            start = nl + 1
        size += len(chunk) - start
        if size > max_chars:
            raise too_long(url, "a line", max_chars)
        if start < len(chunk):
            parts.append(chunk[start:])
    if parts:
        line = "".join(parts)
        yield line[:-1] if line.endswith("\r") else line


class ReplyBudget:
    """Counts a reply's characters; ``take`` raises ``UpstreamError`` once they pass ``max_chars``."""

    def __init__(self, url: str, max_chars: int) -> None:
        self.url = url
        self.max_chars = max_chars
        self.used = 0

    def take(self, delta: str) -> str:
        self.used += len(delta)
        if self.used > self.max_chars:
            raise too_long(self.url, "a reply", self.max_chars)
        return delta


class ChatMessage(TypedDict):
    role: str
    content: str


class ChatBackend(Protocol):
    """An LLM server that streams a chat reply as text deltas."""

    url: str

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str,
        options: Mapping[str, JSONValue] | None = None,
        keep_alive: str | int | None = None,
    ) -> AsyncIterator[str]:
        """Text deltas of the assistant's reply, in order; closing the iterator ends the request."""
        ...


@asynccontextmanager
async def upstream_call(
    client: httpx.AsyncClient,
    url: str,
    body: Mapping[str, JSONValue],
    headers: Mapping[str, str] | None = None,
) -> AsyncIterator[httpx.Response]:
    """POST ``body`` to ``url`` as a stream; translate transport failures and error statuses."""
    try:
        async with client.stream("POST", url, json=dict(body), headers=dict(headers or {})) as response:
            if response.status_code >= 400:
                raw = await response.aread()
                raise _status_error(url, response.status_code, raw)
            yield response
    except httpx.TimeoutException as exc:
        raise UpstreamUnavailableError(
            f"LLM server at {url} did not answer in time ({type(exc).__name__})", code="upstream_timeout"
        ) from exc
    except httpx.TransportError as exc:
        raise UpstreamUnavailableError(
            f"LLM server at {url} is unreachable: {exc or type(exc).__name__}", code="upstream_unreachable"
        ) from exc


def _status_error(url: str, status: int, raw: bytes) -> UpstreamError | UpstreamUnavailableError:
    """A busy LLM (Ollama's 503 "server busy", a 429) is 503 for our client too: retry later.
    Any other status is 502: the upstream answered, wrongly."""
    detail = error_detail(raw) or raw[:200].decode("utf-8", "replace").strip() or "no detail"
    message = f"LLM server at {url} answered {status}: {detail}"
    if status in (429, 503):
        return UpstreamUnavailableError(message, code="upstream_busy")
    return UpstreamError(message, code="upstream_status")


def error_detail(raw: bytes | str) -> str | None:
    """The message of an ``{"error": "…"}`` or ``{"error": {"message": "…"}}`` body, if it is one."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or "error" not in data:
        return None
    err = data["error"]
    if isinstance(err, dict):
        return str(err.get("message") or err)
    return str(err)


def parse_json_line(url: str, line: str) -> dict[str, JSONValue]:
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise UpstreamError(f"LLM server at {url} sent a malformed line: {line[:120]!r}") from exc
    if not isinstance(data, dict):
        raise UpstreamError(f"LLM server at {url} sent a non-object line: {line[:120]!r}")
    return data
