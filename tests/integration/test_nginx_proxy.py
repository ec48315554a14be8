"""deploy/nginx/ttsgate.conf for real: Debian's nginx in front of two sine ttsgate replicas.

One streamed HTTP speech request and one WebSocket session go through it. Skipped when
/usr/sbin/nginx is not installed (``apt-get install nginx-light``).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.test_api_speech import expected_duration
from tests.integration.test_ws_speech import session
from tests.support.audio import decode
from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

NGINX = "/usr/sbin/nginx"
CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "ttsgate.conf"
ZH = "你好世界。今天天气很好，我们去公园散步吧。"

pytestmark = pytest.mark.skipif(
    shutil.which(NGINX) is None and not Path(NGINX).exists(),
    reason=f"{NGINX} not installed (apt-get install nginx-light)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def render(conf: str, upstreams: list[str], port: int) -> str:
    """The deploy file with the test's upstream addresses and listen port."""
    servers = "".join(f"    server {u} max_fails=3 fail_timeout=10s;\n" for u in upstreams)
    conf, n = re.subn(r"(?m)^    server 127\.0\.0\.1:\d+[^\n]*\n", "", conf)
    assert n == 2, "deploy/nginx/ttsgate.conf should name two replicas"
    conf = conf.replace("    least_conn;", "    least_conn;\n" + servers.rstrip("\n"), 1)
    return conf.replace("listen 80;", f"listen 127.0.0.1:{port};", 1)


@pytest.fixture(scope="module")
def nginx_url(sine_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(Settings(cache="off", max_wait_ms=2.0), table=sine_table(fail_on="KABOOM"))
    with serve_app(app) as second:
        tmp = tmp_path_factory.mktemp("nginx")
        port = _free_port()
        upstreams = [sine_url.removeprefix("http://"), second.removeprefix("http://")]
        (tmp / "ttsgate.conf").write_text(render(CONF.read_text(), upstreams, port))
        temp = " ".join(
            f"{name}_temp_path {tmp}/{name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (tmp / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log warn;\n"
            f"events {{ worker_connections 64; }}\n"
            f"http {{\n  access_log {tmp}/access.log;\n  {temp}\n  include {tmp}/ttsgate.conf;\n}}\n"
        )
        args = [NGINX, "-c", str(tmp / "nginx.conf"), "-p", str(tmp), "-e", str(tmp / "error.log")]
        check = subprocess.run([*args, "-t"], capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stderr
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert proc.poll() is None, (tmp / "error.log").read_text()
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_streamed_speech_through_nginx(nginx_url: str, sine_url: str) -> None:
    body = {"input": ZH, "voice": "zh_test", "response_format": "pcm"}
    with httpx.stream("POST", f"{nginx_url}/v1/audio/speech", json=body, timeout=30) as r:
        assert r.status_code == 200
        assert r.headers.get("transfer-encoding") == "chunked"  # streamed, not buffered into one body
        assert r.headers.get("x-request-id")
        data = r.read()
    assert decode(data, "pcm").duration_s == pytest.approx(expected_duration(sine_url, ZH), abs=0.08)


async def test_websocket_session_through_nginx(nginx_url: str, sine_url: str) -> None:
    start = {"type": "start", "voice": "zh_test", "response_format": "pcm"}
    deltas = [ZH[i : i + 2] for i in range(0, len(ZH), 2)]
    events, audio, code = await session(nginx_url, start, deltas)
    assert code == 1000
    assert events[-1]["type"] == "done"
    assert decode(audio, "pcm").duration_s == pytest.approx(expected_duration(sine_url, ZH), abs=0.08)


def test_errors_keep_their_status_through_nginx(nginx_url: str) -> None:
    r = httpx.post(f"{nginx_url}/v1/audio/speech", json={"input": "hi", "voice": "nobody"}, timeout=30)
    assert r.status_code == 400
    assert json.loads(r.content)["error"]["param"] == "voice"
