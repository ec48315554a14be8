"""Where a warm request's time to first byte goes: a ttsgate server in this process (uvicorn on a
thread, cache off) with timestamps at each stage of the request, median over 8 requests per case.

    .venv/bin/python benchmarks/first_audio_trace.py zh-baker     # or piper-joe
    PYTHONPATH=/tmp/ttsgate-before/src .venv/bin/python benchmarks/first_audio_trace.py zh-baker  # before

Stages (ms after the client sent the request): ``route`` (the handler starts: parsing, middleware),
``plan`` (text pipeline done), ``encoder`` (created), ``engine0`` (a worker starts the synthesis),
``first_piece`` / ``engine1`` (the engine's first piece / its end), ``body`` (the first encoded
bytes handed to the server), ``client`` (the first bytes at the client). Monkeypatches internals:
a measuring tool, not a test.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import uvicorn

import ttsgate.pipeline as pl
import ttsgate.scheduler.lane as lane
import ttsgate.server.routes_speech as rs
from ttsgate.config import Settings
from ttsgate.server.app import create_app
from ttsgate.server.serving import uvicorn_options

ENGINE = sys.argv[1] if len(sys.argv) > 1 else "zh-baker"
T: dict[str, float] = {}
CASES = {
    "zh-baker": [("zh_female_baker", "你好"), ("zh_female_baker", "今天天气不错")],
    "piper-joe": [("en_male_joe", "Hello there."), ("en_male_joe", "Good morning, everyone.")],
}[ENGINE]


def mark(key: str) -> None:
    T.setdefault(key, time.perf_counter())


def wrap(fn: Callable[..., Any], before: str, after: str) -> Callable[..., Any]:
    def wrapped(*a: Any, **k: Any) -> Any:
        mark(before)
        out = fn(*a, **k)
        mark(after)
        return out

    return wrapped


setattr(rs, "create_encoder", wrap(getattr(rs, "create_encoder"), "encoder0", "encoder"))  # noqa: B009, B010
pl.SpeechPipeline.plan = wrap(pl.SpeechPipeline.plan, "route", "plan")  # type: ignore[method-assign]
lane.run_engine = wrap(lane.run_engine, "engine0", "engine1")
_run_pieces = getattr(lane, "run_pieces", None)  # None: a revision before issue #15 (PYTHONPATH=...)


def run_pieces(engine: Any, item: Any, emit: Callable[[Any], None]) -> Any:
    def first(piece: Any) -> None:
        mark("first_piece")
        emit(piece)

    assert _run_pieces is not None
    return wrap(_run_pieces, "engine0", "engine1")(engine, item, first)


if _run_pieces is not None:
    lane.run_pieces = run_pieces
_audio_body = getattr(rs, "audio_body")  # noqa: B009


async def audio_body(*a: Any, **k: Any) -> AsyncIterator[bytes]:
    async for data in _audio_body(*a, **k):
        mark("body")
        yield data


setattr(rs, "audio_body", audio_body)  # noqa: B010


def main() -> None:
    os.environ.update(TTSGATE_CACHE="off", TTSGATE_ENGINES=ENGINE)
    settings = Settings()
    app = create_app(settings, wait_ready=True)
    options = uvicorn_options(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=8765, log_level="warning", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = "http://127.0.0.1:8765"
    with httpx.Client(timeout=120) as client:
        while True:
            try:
                if client.get(f"{url}/ready").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        for voice, text in CASES:
            for fmt in ("pcm", "mp3"):
                rows = []
                for i in range(10):
                    T.clear()
                    t0 = time.perf_counter()
                    body = {"input": text, "voice": voice, "response_format": fmt}
                    with client.stream("POST", f"{url}/v1/audio/speech", json=body) as r:
                        chunks = r.iter_raw()
                        next(chunks)
                        t1 = time.perf_counter()
                        for _ in chunks:
                            pass
                    if i >= 2:
                        rows.append({k: (v - t0) * 1e3 for k, v in T.items()} | {"client": (t1 - t0) * 1e3})
                keys = sorted(rows[0], key=lambda k: statistics.median(r[k] for r in rows))
                keys.remove("encoder0")
                cells = " ".join(f"{k}={statistics.median(r[k] for r in rows):.1f}" for k in keys)
                print(f"{text} {fmt}: {cells}", flush=True)
    server.should_exit = True
    thread.join(10)


if __name__ == "__main__":
    main()
