"""``AsyncClient`` and ``Client``: httpx clients for a ttsgate (or any OpenAI-compatible) server.

Errors come back as the server's exception class: the OpenAI-shaped body's ``type`` is mapped
through ``ttsgate.exceptions.ERROR_TYPES``; a connection that fails is ``UpstreamUnavailableError``;
an audio stream the server aborts after its first byte is ``EngineError`` (never silently short).

``retries``: how many times a request refused with 503 ``server_overloaded`` (before any audio) is
sent again, each after the server's ``Retry-After`` (at most ``max_retry_wait_s``); 0 by default.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx

from ttsgate.exceptions import (
    ERROR_CODES,
    ERROR_TYPES,
    EngineError,
    OverloadedError,
    RateLimitError,
    TTSGateError,
    UpstreamUnavailableError,
)

DEFAULT_URL = "http://127.0.0.1:8000"


def _speech_body(text: str, voice: str, fmt: str, speed: float, model: str) -> dict[str, Any]:
    return {"model": model, "input": text, "voice": voice, "response_format": fmt, "speed": speed}


def error_from_response(status: int, headers: httpx.Headers, body: bytes) -> TTSGateError:
    """The exception the server meant, rebuilt from its status, headers and OpenAI-shaped body."""
    try:
        err = json.loads(body)["error"]
        etype, message = str(err.get("type", "")), str(err.get("message", ""))
        param, code = err.get("param"), err.get("code")
    except (ValueError, KeyError, TypeError, AttributeError):
        etype, message, param, code = "", body[:200].decode("utf-8", "replace"), None, None
    if etype in (OverloadedError.error_type, RateLimitError.error_type):
        try:
            retry = float(headers.get("retry-after", "1"))
        except ValueError:
            retry = 1.0
        if etype == RateLimitError.error_type:
            return RateLimitError(message or f"HTTP {status}", retry_after_s=retry)
        return OverloadedError(message or f"HTTP {status}", retry_after_s=retry)
    cls = ERROR_CODES.get(str(code)) or ERROR_TYPES.get(etype, TTSGateError)
    return cls(message or f"HTTP {status}", param=param, code=code)


def auth_headers(api_key: str | None, headers: Any = None) -> dict[str, str]:
    """``headers`` plus ``Authorization: Bearer`` for ``api_key`` (else ``TTSGATE_API_KEY``, if set)."""
    out = dict(headers or {})
    key = api_key or os.environ.get("TTSGATE_API_KEY")
    if key:
        out["Authorization"] = f"Bearer {key}"
    return out


def _retry_wait(err: TTSGateError, attempt: int, retries: int, cap_s: float) -> float:
    """Seconds to wait before sending again, or raise ``err`` when it is not to be retried."""
    if attempt >= retries or not isinstance(err, OverloadedError):
        raise err
    return max(0.0, min(err.retry_after_s, cap_s))


def _translate(exc: httpx.HTTPError) -> TTSGateError:
    if isinstance(exc, httpx.TransportError) and not isinstance(exc, httpx.RemoteProtocolError):
        return UpstreamUnavailableError(f"cannot reach the server: {exc}")
    return EngineError(f"the server aborted the response: {exc}")


class AsyncClient:
    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        timeout: float = 120.0,
        retries: int = 0,
        max_retry_wait_s: float = 30.0,
        api_key: str | None = None,
        **httpx_kwargs: Any,
    ) -> None:
        httpx_kwargs["headers"] = auth_headers(api_key, httpx_kwargs.get("headers"))
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, **httpx_kwargs)
        self._retries, self._retry_cap_s = retries, max_retry_wait_s

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @asynccontextmanager
    async def _stream(self, method: str, url: str, **kw: Any) -> AsyncIterator[httpx.Response]:
        for attempt in itertools.count():
            try:
                async with self._http.stream(method, url, **kw) as resp:
                    if resp.status_code < 400:
                        yield resp
                        return
                    err = error_from_response(resp.status_code, resp.headers, await resp.aread())
            except httpx.HTTPError as exc:
                raise _translate(exc) from exc
            await asyncio.sleep(_retry_wait(err, attempt, self._retries, self._retry_cap_s))

    async def stream_speech(
        self,
        text: str,
        *,
        voice: str = "alloy",
        response_format: str = "mp3",
        speed: float = 1.0,
        model: str = "tts-1",
    ) -> AsyncIterator[bytes]:
        """Audio bytes as the server sends them."""
        body = _speech_body(text, voice, response_format, speed, model)
        async with self._stream("POST", "/v1/audio/speech", json=body) as resp:
            try:
                async for chunk in resp.aiter_bytes():
                    yield chunk
            except httpx.HTTPError as exc:
                raise _translate(exc) from exc

    async def speech(self, text: str, **kw: Any) -> bytes:
        return b"".join([c async for c in self.stream_speech(text, **kw)])

    async def save(self, path: str | Path, text: str, **kw: Any) -> int:
        data = await self.speech(text, **kw)
        await asyncio.to_thread(Path(path).write_bytes, data)
        return len(data)

    async def _json(self, method: str, url: str, **kw: Any) -> Any:
        async with self._stream(method, url, **kw) as resp:
            return json.loads(await resp.aread())

    async def voices(self) -> list[dict[str, Any]]:
        return list((await self._json("GET", "/v1/audio/voices"))["voices"])

    async def models(self) -> list[dict[str, Any]]:
        return list((await self._json("GET", "/v1/audio/models"))["models"])

    async def normalize(self, text: str, lang: str = "zh") -> dict[str, Any]:
        return dict(await self._json("POST", "/v1/text/normalize", json={"input": text, "lang": lang}))


class Client:
    """The synchronous twin of ``AsyncClient``."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        timeout: float = 120.0,
        retries: int = 0,
        max_retry_wait_s: float = 30.0,
        api_key: str | None = None,
        **httpx_kwargs: Any,
    ) -> None:
        httpx_kwargs["headers"] = auth_headers(api_key, httpx_kwargs.get("headers"))
        self._http = httpx.Client(base_url=base_url, timeout=timeout, **httpx_kwargs)
        self._retries, self._retry_cap_s = retries, max_retry_wait_s

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @contextmanager
    def _stream(self, method: str, url: str, **kw: Any) -> Iterator[httpx.Response]:
        for attempt in itertools.count():
            try:
                with self._http.stream(method, url, **kw) as resp:
                    if resp.status_code < 400:
                        yield resp
                        return
                    err = error_from_response(resp.status_code, resp.headers, resp.read())
            except httpx.HTTPError as exc:
                raise _translate(exc) from exc
            time.sleep(_retry_wait(err, attempt, self._retries, self._retry_cap_s))

    def stream_speech(
        self,
        text: str,
        *,
        voice: str = "alloy",
        response_format: str = "mp3",
        speed: float = 1.0,
        model: str = "tts-1",
    ) -> Iterator[bytes]:
        body = _speech_body(text, voice, response_format, speed, model)
        with self._stream("POST", "/v1/audio/speech", json=body) as resp:
            try:
                yield from resp.iter_bytes()
            except httpx.HTTPError as exc:
                raise _translate(exc) from exc

    def speech(self, text: str, **kw: Any) -> bytes:
        return b"".join(self.stream_speech(text, **kw))

    def save(self, path: str | Path, text: str, **kw: Any) -> int:
        data = self.speech(text, **kw)
        Path(path).write_bytes(data)
        return len(data)

    def _json(self, method: str, url: str, **kw: Any) -> Any:
        with self._stream(method, url, **kw) as resp:
            return json.loads(resp.read())

    def voices(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/v1/audio/voices")["voices"])

    def ready(self) -> dict[str, Any]:
        """``GET /ready`` of a ready server (engines, load, profile, memory); NotReadyError while not."""
        return dict(self._json("GET", "/ready"))

    def models(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/v1/audio/models")["models"])

    def normalize(self, text: str, lang: str = "zh") -> dict[str, Any]:
        return dict(self._json("POST", "/v1/text/normalize", json={"input": text, "lang": lang}))
