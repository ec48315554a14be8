"""A stand-in Ollama: a real HTTP server (Starlette on uvicorn) replaying ``POST /api/chat`` NDJSON.

Lines are exactly Ollama's documented streaming shape: one ``{"model","created_at","message":
{"role":"assistant","content"},"done":false}`` per token, then a ``done`` line with ``done_reason``
and the durations. The model name picks the behaviour:

- ``busy``       503 ``{"error":"server busy, please try again.  maximum pending requests exceeded"}``
- ``missing``    404 ``{"error":"model \\"missing\\" not found, try pulling it first"}``
- ``midfail``    a few tokens, then the in-band ``{"error":"…"}`` line (and the stream ends)
- ``huge:N``     one delta of N times ``a``: one huge line (the upstream limits, llm/base.py)
- ``late:N``     "Hello there. This is fine. ", then that one huge delta
- anything else  the reply for that model in ``replies`` (or ``replies["*"]``), token by token

``token_s`` paces the tokens; a ``PAUSE`` character in a reply is not sent but waits ``pause_s``
(a tool call, a thinking phase); ``sent`` records (perf_counter, token) per request and ``closed``
counts streams that ended because the client went away.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.servers import serve_app

_TOKEN = re.compile(r"\s*[A-Za-z0-9'’]+|\s*[\u3400-\u9fff]{1,2}|\s*\S|\s+")
BUSY = "server busy, please try again.  maximum pending requests exceeded"
PAUSE = "\u23f8"


def tokenize(text: str) -> list[str]:
    """Roughly an LLM tokenizer's pieces: a word with its leading space, 1–2 Han characters, a symbol."""
    return _TOKEN.findall(text)


@dataclass
class OllamaFixture:
    replies: dict[str, str]
    token_s: float = 0.0
    pause_s: float = 0.0
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    sent: list[list[tuple[float, str]]] = field(default_factory=list)
    closed: int = 0
    finished: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/", self._root),
            Route("/ready", self._root),
            Route("/api/chat", self._chat, methods=["POST"]),
            Route("/v1/chat/completions", self._chat, methods=["POST"]),
        ])  # fmt: skip

    async def _root(self, _: Request) -> Response:
        return PlainTextResponse("Ollama is running")

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.requests.append(body)
        model = str(body.get("model", ""))
        if model == "busy":
            return JSONResponse({"error": BUSY}, status_code=503)
        if model == "missing":
            return JSONResponse(
                {"error": f'model "{model}" not found, try pulling it first'}, status_code=404
            )
        if model == "midfail":
            tokens, error = (
                tokenize("Hello there. This will"),
                "an error was encountered while running the model",
            )
        elif model.startswith(("huge:", "late:")):
            head = tokenize("Hello there. This is fine. ") if model.startswith("late:") else []
            tokens, error = [*head, "a" * int(model.split(":")[1])], None
        else:
            tokens, error = tokenize(self.replies.get(model, self.replies.get("*", ""))), None
        record: list[tuple[float, str]] = []
        with self._lock:
            self.sent.append(record)
        if request.url.path.startswith("/v1/"):
            return StreamingResponse(self._sse(model, tokens, error, record), media_type="text/event-stream")
        return StreamingResponse(self._lines(model, tokens, error, record), media_type="application/x-ndjson")

    async def _sse(
        self, model: str, tokens: list[str], error: str | None, record: list[tuple[float, str]]
    ) -> AsyncIterator[bytes]:
        """The same reply as OpenAI-compatible chat completion chunks (what Ollama's /v1 sends)."""
        async for line in self._lines(model, tokens, error, record):
            data = json.loads(line)
            if "error" in data:
                chunk: dict[str, Any] = {"error": {"message": data["error"], "type": "server_error"}}
            else:
                delta = {"role": "assistant", "content": data["message"]["content"]}
                finish = data.get("done_reason") if data["done"] else None
                chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": model,
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
            yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode()
            if data.get("done"):
                yield b"data: [DONE]\n\n"

    async def _lines(
        self, model: str, tokens: list[str], error: str | None, record: list[tuple[float, str]]
    ) -> AsyncIterator[bytes]:
        started = time.perf_counter_ns()
        try:
            for token in tokens:
                if token.strip() == PAUSE:
                    await asyncio.sleep(self.pause_s)
                    continue
                if self.token_s:
                    await asyncio.sleep(self.token_s)
                record.append((time.perf_counter(), token))
                yield _line(
                    {
                        "model": model,
                        "created_at": _now(),
                        "message": {"role": "assistant", "content": token},
                        "done": False,
                    }
                )
            if error is not None:
                yield _line({"error": error})
                return
            elapsed = time.perf_counter_ns() - started
            yield _line({
                "model": model, "created_at": _now(), "message": {"role": "assistant", "content": ""},
                "done": True, "done_reason": "stop", "total_duration": elapsed, "load_duration": 1_000_000,
                "prompt_eval_count": 12, "prompt_eval_duration": 2_000_000,
                "eval_count": len(tokens), "eval_duration": elapsed,
            })  # fmt: skip
            with self._lock:
                self.finished += 1
        except (asyncio.CancelledError, GeneratorExit):
            with self._lock:
                self.closed += 1
            raise


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())


def _line(payload: dict[str, Any]) -> bytes:
    return (json.dumps(payload, ensure_ascii=False) + "\n").encode()


@contextmanager
def serve_ollama(
    replies: dict[str, str], *, token_s: float = 0.0, pause_s: float = 0.0
) -> Iterator[OllamaFixture]:
    fixture = OllamaFixture(replies=replies, token_s=token_s, pause_s=pause_s)
    with serve_app(fixture.app()) as url:  # type: ignore[arg-type]
        fixture.url = url
        yield fixture
