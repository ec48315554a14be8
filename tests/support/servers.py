"""Run a real uvicorn server on loopback in a background thread, for tests and benchmarks."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from ttsgate.bench.probe import wait_ready
from ttsgate.server.serving import uvicorn_options


@contextmanager
def serve_app(app: FastAPI, *, ready_timeout_s: float = 120.0) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1:<free port>; yield its base URL once /ready answers 200.

    Served as ``ttsgate serve`` serves it: the connection timeouts and limits of the app's settings."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    runtime = getattr(app.state, "runtime", None)  # a stand-in server (the Ollama fixture) has none
    options = uvicorn_options(runtime.settings) if runtime is not None else {}
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2, **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ready_timeout_s
    while True:
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError(f"server at {url} did not become ready")
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def wait_or_fail(url: str, proc: subprocess.Popen[bytes], *, timeout_s: float, log: Path, what: str) -> None:
    """Wait until ``url`` answers 200 (``wait_ready``); else fail the test with ``log``'s tail."""
    try:
        wait_ready(url, timeout_s=timeout_s, proc=proc)
    except RuntimeError as exc:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        pytest.fail(f"{what} did not start: {exc}\n{tail}")
