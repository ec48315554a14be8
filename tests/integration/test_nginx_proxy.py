"""deploy/nginx/ttsgate.conf for real: Debian's nginx in front of two sine ttsgate replicas.

One streamed HTTP speech request and one WebSocket session go through it. Skipped when
/usr/sbin/nginx is not installed (``apt-get install nginx-light``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.test_api_speech import expected_duration
from tests.integration.test_ws_speech import session
from tests.support.audio import decode
from tests.support.nginx import NGINX, nginx_missing, run_nginx
from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

ZH = "你好世界。今天天气很好，我们去公园散步吧。"

pytestmark = pytest.mark.skipif(nginx_missing(), reason=f"{NGINX} not installed (apt-get install nginx)")


@pytest.fixture(scope="module")
def nginx_url(sine_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(Settings(cache="off", max_wait_ms=2.0), table=sine_table(fail_on="KABOOM"))
    with serve_app(app) as second, run_nginx([sine_url, second], tmp_path_factory.mktemp("nginx")) as url:
        yield url


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
