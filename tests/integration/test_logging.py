"""Structured logs: one JSON access line per request, carrying the request id the client sent."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator

import httpx
import pytest

from ttsgate.logging_setup import configure_logging


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    out = io.StringIO()
    configure_logging("json", "INFO", stream=out)
    try:
        yield out
    finally:
        root.handlers[:], root.level = saved


def access_lines(out: io.StringIO, request_id: str, timeout_s: float = 5.0) -> list[dict[str, object]]:
    """The access log lines of ``request_id`` (the line is written after the last body byte)."""
    seen: list[dict[str, object]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in out.getvalue().splitlines():
            record = json.loads(line)  # every line is JSON
            if record.get("logger") == "ttsgate.access" and record.get("request_id") == request_id:
                seen.append(record)
        if seen:
            return seen
        time.sleep(0.05)
    return seen


def test_access_line_with_incoming_request_id(sine_url: str, json_logs: io.StringIO) -> None:
    body = {"input": "Hello there.", "voice": "alloy", "response_format": "wav"}
    r = httpx.post(f"{sine_url}/v1/audio/speech", json=body, headers={"X-Request-ID": "trace-42.a"})
    assert r.status_code == 200
    assert r.headers["x-request-id"] == "trace-42.a"
    (line,) = access_lines(json_logs, "trace-42.a")
    assert line["level"] == "INFO"
    assert line["method"] == "POST"
    assert line["route"] == "/v1/audio/speech"
    assert line["path"] == "/v1/audio/speech"
    assert line["status"] == 200
    assert line["bytes"] == len(r.content)
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] > 0
    assert str(line["ts"]).endswith("Z")


def test_error_status_and_generated_id(sine_url: str, json_logs: io.StringIO) -> None:
    r = httpx.post(
        f"{sine_url}/v1/audio/speech",
        json={"input": "x", "voice": "nobody"},
        headers={"X-Request-ID": "not a safe id"},
    )
    assert r.status_code == 400
    rid = r.headers["x-request-id"]
    assert rid != "not a safe id"
    assert len(rid) == 32
    (line,) = access_lines(json_logs, rid)
    assert line["status"] == 400
    assert line["bytes"] == len(r.content)


def test_metrics_off_keeps_request_ids_and_access_log(json_logs: io.StringIO) -> None:
    from tests.support.servers import serve_app
    from tests.support.tables import sine_table
    from ttsgate.config import Settings
    from ttsgate.server import create_app

    app = create_app(Settings(cache="off", metrics=False), table=sine_table())
    with serve_app(app) as url:
        r = httpx.post(
            f"{url}/v1/audio/speech", json={"input": "Hi.", "voice": "alloy"}, headers={"X-Request-ID": "m0"}
        )
        assert r.status_code == 200
        assert r.headers["x-request-id"] == "m0"
        assert httpx.get(f"{url}/metrics").status_code == 404
        assert (
            app.state.runtime.metrics.registry.get_sample_value(
                "ttsgate_requests_total", {"route": "/v1/audio/speech", "status": "200"}
            )
            is None
        )
        (line,) = access_lines(json_logs, "m0")
        assert line["status"] == 200
