"""Rolling restart for real: nginx (deploy/nginx/ttsgate.conf) in front of two ``ttsgate serve``
processes sharing redis-server; clients keep streaming while each replica gets SIGTERM, drains,
exits and comes back in turn. Nothing may fail or be cut short."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.integration.redis_server import RedisServer, free_port, redis_server  # noqa: F401  (fixture)
from tests.integration.test_api_speech import expected_duration
from tests.integration.test_ws_speech import ws_url
from tests.support.audio import decode
from tests.support.nginx import NGINX, nginx_missing, run_nginx
from tests.support.servers import wait_or_fail

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(nginx_missing(), reason=f"{NGINX} not installed (apt-get install nginx)"),
]

CHAR_S = 0.06  # as tests.support.tables, whose pace expected_duration() assumes
# A slow sine engine (delay_s per segment), so that streams are in flight when SIGTERM comes.
VOICES = """
[engines.sine]
kind = "sine"
char_s = {char_s}
delay_s = {delay_s}
max_batch_size = 1

[voices.zh_test]
engine = "sine"
language = "zh"
name = "Sine"

[languages]
zh = "zh_test"
"""
# Every sentence names the request: no segment is ever a cache hit, each one is synthesized.
SENTENCES = [f"第{{n}}号请求的第{k}句话。" for k in "一二三四五"]


class Replica:
    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port, self.env, self.log = port, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ttsgate", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_or_fail(f"{self.url}/ready", self.proc, timeout_s=60, log=self.log, what="ttsgate")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout_s: float = 30) -> float:
        """SIGTERM; seconds until the process exited."""
        assert self.proc is not None
        began = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=timeout_s)
        return time.monotonic() - began


@pytest.fixture
def fleet(redis_server: RedisServer, tmp_path: Path) -> Iterator[tuple[str, list[Replica]]]:  # noqa: F811
    voices = tmp_path / "voices.toml"
    voices.write_text(VOICES.format(char_s=CHAR_S, delay_s=0.25))
    env = {
        **os.environ,
        "TTSGATE_VOICES_FILE": str(voices),
        "TTSGATE_CACHE": redis_server.url,
        "TTSGATE_SHUTDOWN_GRACE_S": "30",
        "TTSGATE_REALTIME_ADMISSION": "false",  # the point here is restarts, not admission
    }
    replicas = [Replica(free_port(), env, tmp_path / f"replica{i}.log") for i in range(2)]
    try:
        for r in replicas:
            r.start()
        with run_nginx([r.url for r in replicas], tmp_path) as url:
            yield url, replicas
    finally:
        for r in replicas:
            if r.proc is not None and r.proc.poll() is None:
                r.proc.kill()
                r.proc.wait()


def test_rolling_restart_loses_no_request(fleet: tuple[str, list[Replica]]) -> None:
    url, replicas = fleet
    failures: list[str] = []
    done: list[float] = []
    stop = threading.Event()
    counter = iter(range(1_000_000))
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(timeout=60) as http:
            while not stop.is_set():
                with lock:
                    n = next(counter)
                text = "".join(SENTENCES).format(n=n)  # distinct: never a cache hit
                body = {"input": text, "voice": "zh_test", "response_format": "pcm"}
                try:
                    r = http.post(f"{url}/v1/audio/speech", json=body)
                    if r.status_code != 200:
                        failures.append(f"{n}: {r.status_code} {r.text[:200]}")
                        continue
                    got, want = decode(r.content, "pcm").duration_s, expected_duration(url, text)
                    if abs(got - want) > 0.02:
                        failures.append(f"{n}: {got:.2f} s of audio, expected {want:.2f} s")
                    done.append(time.monotonic())
                except Exception as exc:  # any failure of a request counts, not only transport errors
                    failures.append(f"{n}: {exc!r}")

    threads = [threading.Thread(target=client) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(3)
        for replica in replicas:
            took = replica.stop()
            assert took < 25, "the drain must end when the accepted streams have"
            replica.start()
            time.sleep(2)
        time.sleep(2)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    kinds: dict[str, int] = {}
    for f in failures:
        key = f.split(": ", 1)[1][:60]
        kinds[key] = kinds.get(key, 0) + 1
    assert failures == [], kinds
    assert len(done) >= 10
    for replica in replicas:  # the restarted replicas serve again
        assert httpx.get(f"{replica.url}/ready").status_code == 200


@pytest.fixture
def replica(tmp_path: Path) -> Iterator[Replica]:
    voices = tmp_path / "voices.toml"
    voices.write_text(VOICES.format(char_s=CHAR_S, delay_s=1.0))
    env = {**os.environ, "TTSGATE_VOICES_FILE": str(voices), "TTSGATE_CACHE": "off"}
    env |= {"TTSGATE_SHUTDOWN_GRACE_S": "40", "TTSGATE_REALTIME_ADMISSION": "false"}
    one = Replica(free_port(), env, tmp_path / "replica.log")
    one.start()
    try:
        yield one
    finally:
        if one.proc is not None and one.proc.poll() is None:
            one.proc.kill()
            one.proc.wait()


async def ws_session(
    url: str, first: str, later: list[str], later_after: threading.Event
) -> tuple[bytes, int]:
    """A WebSocket session that sends ``first``, waits for ``later_after``, then sends the rest."""
    audio = bytearray()
    async with connect(ws_url(url)) as ws:
        await ws.send(json.dumps({"type": "start", "voice": "zh_test", "response_format": "pcm"}))
        await ws.send(json.dumps({"type": "text", "text": first}))
        await asyncio.to_thread(later_after.wait, 30)
        for text in later:
            await ws.send(json.dumps({"type": "text", "text": text}))
        await ws.send(json.dumps({"type": "close"}))
        async for msg in ws:
            if isinstance(msg, bytes):
                audio += msg
    assert ws.close_code is not None
    return bytes(audio), ws.close_code


def test_sigterm_drains_long_streams_and_websocket_sessions(replica: Replica) -> None:
    """Streams longer than uvicorn's own shutdown timeout and a WebSocket session that keeps sending
    after SIGTERM are finished in full; meanwhile /ready is 503 and new work is refused with 503."""
    url = replica.url
    long_text = "".join(f"第{k}段长文本的一句话。" for k in range(1, 61))  # ~8 segments × 1 s
    posted: list[httpx.Response] = []
    poster = threading.Thread(
        target=lambda: posted.append(
            httpx.post(f"{url}/v1/audio/speech", json={"input": long_text, "voice": "zh_test",
                                                         "response_format": "pcm"}, timeout=60)
        )
    )  # fmt: skip
    signalled = threading.Event()
    ws_result: list[tuple[bytes, int]] = []
    ws_texts = ["会话的第一句话。", "信号之后的第二句话。", "还有第三句话。"]
    wsock = threading.Thread(
        target=lambda: ws_result.append(asyncio.run(ws_session(url, ws_texts[0], ws_texts[1:], signalled)))
    )
    want_long, want_ws = expected_duration(url, long_text), expected_duration(url, "".join(ws_texts))
    poster.start()
    wsock.start()
    time.sleep(1.0)
    assert replica.proc is not None
    began = time.monotonic()
    replica.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    signalled.set()
    ready = httpx.get(f"{url}/ready")
    assert (ready.status_code, ready.json()) == (503, {"status": "draining"})
    assert httpx.get(f"{url}/health").status_code == 200
    refused = httpx.post(f"{url}/v1/audio/speech", json={"input": "新的请求。", "voice": "zh_test"})
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "draining"
    assert refused.headers["retry-after"] == "1"
    poster.join(timeout=60)
    wsock.join(timeout=60)
    replica.proc.wait(timeout=60)
    assert time.monotonic() - began > 5, "the long stream outlived uvicorn's own 5 s shutdown timeout"
    (response,) = posted
    assert response.status_code == 200
    assert decode(response.content, "pcm").duration_s == pytest.approx(want_long, abs=0.02)
    ((audio, code),) = ws_result
    assert code == 1000
    assert decode(audio, "pcm").duration_s == pytest.approx(want_ws, abs=0.05)
