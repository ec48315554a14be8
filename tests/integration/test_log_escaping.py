"""What a client sends cannot forge log lines: paths with encoded newlines, control characters and
lone surrogates are escaped in plain and JSON logs, and tracebacks cannot pass for records."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Iterator

import httpx
import pytest

from ttsgate.logging_setup import configure_logging

FORGED = "2026-11-30 13:00:00,000 INFO ttsgate.access [forged] GET /admin 200 1.0ms 0B"
RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ \S+ \[")


@pytest.fixture
def logs(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    out = io.StringIO()
    configure_logging(request.param, "INFO", stream=out)
    try:
        yield out
    finally:
        root.handlers[:], root.level = saved


def _wait_for(out: io.StringIO, needle: str, timeout_s: float = 5.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if needle in out.getvalue():
            return out.getvalue()
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} not logged:\n{out.getvalue()}")


@pytest.mark.parametrize("logs", ["plain"], indirect=True)
def test_encoded_newline_in_the_path_cannot_forge_an_access_line(sine_url: str, logs: io.StringIO) -> None:
    path = "/v1/audio/speech%0A" + FORGED.replace(" ", "%20") + "%0D%1B[31m"
    r = httpx.get(sine_url + path, headers={"X-Request-ID": "forge-1"})
    assert r.status_code == 404
    text = _wait_for(logs, "[forge-1]")
    access = re.compile(r"^\S+ \S+ INFO ttsgate\.access \[")
    lines = [line for line in text.splitlines() if access.match(line) and "forge" in line]
    assert len(lines) == 1  # one record, on one line
    assert "[forge-1]" in lines[0]
    assert not any(line.startswith(FORGED[:30]) for line in text.splitlines())
    assert "/v1/audio/speech\\n2026-11-30" in lines[0]
    assert "\\r\\x1b[31m" in lines[0]
    assert "\x1b" not in text


@pytest.mark.parametrize("logs", ["json"], indirect=True)
def test_json_access_line_carries_the_path_escaped(sine_url: str, logs: io.StringIO) -> None:
    r = httpx.get(sine_url + "/nowhere%0Aforged%E2%80%A8x", headers={"X-Request-ID": "forge-2"})
    assert r.status_code == 404
    text = _wait_for(logs, '"forge-2"')
    records = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    (access,) = [r for r in records if r.get("request_id") == "forge-2" and r["logger"] == "ttsgate.access"]
    assert access["path"] == "/nowhere\nforged\u2028x"  # JSON escapes it; the value is what was asked


@pytest.mark.parametrize("logs", ["plain"], indirect=True)
def test_plain_traceback_lines_cannot_pass_for_records(logs: io.StringIO) -> None:
    log = logging.getLogger("ttsgate.test")
    try:
        raise ValueError("bad voice\n" + FORGED)
    except ValueError:
        log.exception("client said %s", "hello\n" + FORGED + "\ud800")
    lines = logs.getvalue().splitlines()
    assert RECORD.match(lines[0])
    assert "hello\\n2026-11-30" in lines[0]
    assert "\\ud800" in lines[0]
    assert len(lines) > 2
    assert all(line.startswith("  | ") for line in lines[1:])  # the traceback, indented
    assert not any(RECORD.match(line) for line in lines[1:])


@pytest.mark.parametrize("logs", ["json"], indirect=True)
def test_json_line_with_a_lone_surrogate_is_written(logs: io.StringIO) -> None:
    logging.getLogger("ttsgate.test").warning("text %s", "a\ud800b\nc\u2028d\x85e")
    (line,) = logs.getvalue().splitlines()  # Unicode line ends split here too: none is left raw
    assert json.loads(line)["message"] == "text a\ud800b\nc\u2028d\x85e"
