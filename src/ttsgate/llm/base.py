"""The ``ChatBackend`` protocol and what every backend shares: HTTP error translation.

A backend turns a chat request into a stream of text deltas. Failures become the one exception
tree: a connect failure or timeout is ``UpstreamUnavailableError`` (503, naming the upstream URL);
an HTTP error status or an error the upstream reports in-band is ``UpstreamError`` (502). Before
the first delta the route turns these into a status; after it, into an in-band error event.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypedDict

import httpx

from ttsgate.exceptions import UpstreamError, UpstreamUnavailableError

JSONValue = Any  # what json.loads gives


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
