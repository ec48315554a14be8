"""A real Prometheus scrapes a running ttsgate every second and sees the right counts."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.integration.redis_server import free_port
from tests.support.metrics import total
from tests.support.servers import wait_or_fail

pytestmark = pytest.mark.slow

CONFIG = """\
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: ttsgate
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs:
      - targets: ["{target}"]
"""


@pytest.fixture
def prometheus(sine_url: str, tmp_path: Path) -> Iterator[str]:
    exe = shutil.which("prometheus")
    if exe is None:
        pytest.skip("prometheus is not installed (apt-get install prometheus)")
    config = tmp_path / "prometheus.yml"
    config.write_text(CONFIG.format(target=urlsplit(sine_url).netloc))
    port = free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            exe,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_or_fail(f"{url}/-/ready", proc, timeout_s=30, log=tmp_path / "prometheus.log", what="prometheus")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def query(prom: str, expr: str) -> float | None:
    r = httpx.get(f"{prom}/api/v1/query", params={"query": expr}, timeout=5)
    result = r.json()["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def wait_for(prom: str, expr: str, want: float, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    got = None
    while time.monotonic() < deadline:
        got = query(prom, expr)
        if got == want:
            return
        time.sleep(0.25)
    pytest.fail(f"{expr}: prometheus has {got}, ttsgate says {want}")


def test_prometheus_scrapes_ttsgate(sine_url: str, prometheus: str) -> None:
    for i in range(5):
        r = httpx.post(f"{sine_url}/v1/audio/speech", json={"input": f"Prometheus {i}.", "voice": "alloy"})
        assert r.status_code == 200
    httpx.get(f"{sine_url}/tts", params={"text": "你好。"}).raise_for_status()
    labels = {"route": "/v1/audio/speech", "status": "200"}
    want = total(sine_url, "ttsgate_requests_total", **labels)
    seed = total(sine_url, "tts_req_total")
    assert want >= 5
    assert seed >= 6
    wait_for(prometheus, 'sum(ttsgate_requests_total{route="/v1/audio/speech",status="200"})', want)
    wait_for(prometheus, "sum(tts_req_total)", seed)
    assert query(prometheus, 'up{job="ttsgate"}') == 1.0
    assert (query(prometheus, "ttsgate_process_rss_bytes") or 0) > 10e6
    assert query(prometheus, 'ttsgate_build_info{version!=""}') == 1.0


def test_dashboard_queries_are_valid_promql(prometheus: str) -> None:
    from tests.integration.test_grafana_dashboard import DASHBOARD, expressions

    dashboard = json.loads(DASHBOARD.read_text())
    for expr in expressions(dashboard):
        if expr.startswith("label_values("):
            continue
        r = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr.replace("$route", ".*")}, timeout=5)
        assert r.json()["status"] == "success", (expr, r.text)
