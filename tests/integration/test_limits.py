"""Bounded bodies and connections on a real uvicorn: 413 before a body is read, chunked bodies cut
at the limit, header read and keep-alive timeouts, a header size cap (431)."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

LIMIT = 24 * 4096 + 16_384  # the default for TTSGATE_MAX_INPUT_CHARS=4096


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    settings = Settings(cache="off", header_timeout_s=0.5, keep_alive_timeout_s=0.5, max_header_bytes=8192)
    with serve_app(create_app(settings, table=sine_table())) as base:
        yield base


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def _read_response(sock: socket.socket, timeout_s: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one response with a Content-Length."""
    sock.settimeout(timeout_s)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return int(lines[0].split()[1]), headers, body


def _closed_by_server(sock: socket.socket, timeout_s: float) -> bool:
    sock.settimeout(timeout_s)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def _assert_too_large(body: bytes, limit: int) -> None:
    err = json.loads(body)["error"]
    assert err["param"] == "body"
    assert err["code"] == "body_too_large"
    assert err["type"] == "invalid_request_error"
    assert str(limit) in err["message"]


@pytest.mark.parametrize(
    "path", ["/v1/audio/speech", "/v1/text/normalize", "/api/chatts", "/v1/audio/subtitles"]
)
def test_declared_oversized_body_is_refused_before_it_is_read(url: str, path: str) -> None:
    with _connect(url) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        sock.sendall(head.encode() + b'Content-Length: 1000000000\r\n\r\n{"input":')
        started = time.monotonic()
        status, _, body = _read_response(sock)
        assert time.monotonic() - started < 1.0  # at once: nothing of the gigabyte was waited for
        assert status == 413
        _assert_too_large(body, LIMIT)
        assert _closed_by_server(sock, 2.0)  # the rest of the body is never read
    assert httpx.get(f"{url}/health").status_code == 200


def test_chunked_body_is_cut_at_the_limit(url: str) -> None:
    """No Content-Length: the server counts while reading and answers 413 once past the limit,
    while the client is still sending (it never reads the whole body)."""
    chunk = b"a" * 16_384
    sent = 0
    with _connect(url) as sock:
        sock.sendall(
            b"POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        while sent < 50 * LIMIT:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
            if select.select([sock], [], [], 0.01)[0]:
                break
        status, _, body = _read_response(sock)
    assert status == 413
    _assert_too_large(body, LIMIT)
    assert sent < 4 * LIMIT  # the answer came near the limit, not after 50 x the limit


def test_body_at_the_default_limit_fits_4096_escaped_characters(url: str) -> None:
    """The default limit is sized for the longest input written as JSON \\u escapes (6 bytes per
    character, 12 for a character outside the BMP) plus the other fields."""
    text = "你" * 2048 + "😀" * 2048  # 4096 characters as Python counts them
    raw = json.dumps({"input": text, "lang": "zh"})  # ensure_ascii: every character escaped
    assert len(raw) > 6 * 4096
    r = httpx.post(f"{url}/v1/text/normalize", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text


def test_chat_body_has_its_own_larger_limit(url: str) -> None:
    history = [{"role": "user", "content": "x" * 90_000} for _ in range(3)]  # ~270 kB: over the speech limit
    r = httpx.post(f"{url}/v1/chat/speech", json={"messages": history}, timeout=30)
    assert r.status_code != 413  # reaches the LLM step (none runs here: 503/502), not refused for size
    over = [{"role": "user", "content": "x" * 90_000} for _ in range(13)]  # ~1.2 MB
    r = httpx.post(f"{url}/v1/chat/speech", json={"messages": over}, timeout=30)
    assert r.status_code == 413
    _assert_too_large(r.content, 1_048_576)


def test_oversized_body_is_counted_and_logged_with_its_route(url: str) -> None:
    r = httpx.post(f"{url}/v1/audio/speech", content=b"x" * (LIMIT + 1), headers={"X-Request-ID": "big-1"})
    assert r.status_code == 413
    assert r.headers["x-request-id"] == "big-1"
    metrics = httpx.get(f"{url}/metrics").text
    assert 'ttsgate_requests_total{route="/v1/audio/speech",status="413"}' in metrics


@pytest.mark.parametrize("partial", [b"", b"GET /hea", b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"])
def test_unfinished_headers_are_closed_after_the_header_timeout(url: str, partial: bytes) -> None:
    with _connect(url) as sock:
        sock.sendall(partial)
        started = time.monotonic()
        assert _closed_by_server(sock, 3.0)
        assert 0.4 < time.monotonic() - started < 2.0  # TTSGATE_HEADER_TIMEOUT_S=0.5


def test_header_timeout_applies_to_each_request_on_a_kept_alive_connection(url: str) -> None:
    with _connect(url) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert _read_response(sock)[0] == 200
        sock.sendall(b"GET /hea")  # the next request starts and stalls
        started = time.monotonic()
        assert _closed_by_server(sock, 3.0)
        assert time.monotonic() - started < 2.0


def test_a_slow_but_complete_request_is_served(url: str) -> None:
    """The timeout is for the headers only: a request whose headers arrive in time is answered."""
    with _connect(url) as sock:
        for piece in (b"GET /heal", b"th HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n\r\n"):
            sock.sendall(piece)
            time.sleep(0.1)
        assert _read_response(sock)[0] == 200


def test_idle_keep_alive_connection_is_closed(url: str) -> None:
    with _connect(url) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert _read_response(sock)[0] == 200
        started = time.monotonic()
        assert _closed_by_server(sock, 3.0)
        assert time.monotonic() - started < 2.0  # TTSGATE_KEEP_ALIVE_TIMEOUT_S=0.5


def test_oversized_headers_get_431_and_the_connection_closes(url: str) -> None:
    with _connect(url) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 10_000 + b"\r\n\r\n")
        status, headers, _ = _read_response(sock)
        assert status == 431
        assert headers["connection"] == "close"
        assert _closed_by_server(sock, 2.0)
    with _connect(url) as sock:  # a long URL counts too
        sock.sendall(b"GET /health?" + b"q" * 10_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert _read_response(sock)[0] == 431
    assert httpx.get(f"{url}/health", headers={"X-Ok": "a" * 4000}).status_code == 200


def test_one_endless_header_line_gets_431_at_the_cap(url: str) -> None:
    """httptools reports a header only when it ends: the bytes before the headers end count anyway."""
    with _connect(url) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: ")
        started = time.monotonic()
        status = None
        for _ in range(64):  # 256 KiB at most, never a CRLF
            try:
                sock.sendall(b"a" * 4096)
            except (BrokenPipeError, ConnectionResetError):
                break
            ready, _, _ = select.select([sock], [], [], 0)
            if ready:
                break
        status, headers, _ = _read_response(sock)
        assert status == 431
        assert headers["connection"] == "close"
        assert time.monotonic() - started < 0.45  # long before TTSGATE_HEADER_TIMEOUT_S=0.5
        assert _closed_by_server(sock, 2.0)


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
         b"Content-Length: 100000000000\r\n\r\n", 413),
        (b"POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
         b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % (LIMIT + 10) + b"x" * (LIMIT + 10), 413),
        (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10000000000\r\n\r\n", 200),
    ],
)  # fmt: skip
def test_a_response_before_the_body_is_read_closes_the_connection(url: str, head: bytes, status: int) -> None:
    """The rest of a refused (or unread) body is never read: the connection closes after the answer."""
    with _connect(url) as sock:
        sock.sendall(head)
        got, headers, _ = _read_response(sock)
        assert got == status
        if status == 413:
            assert headers["connection"] == "close"
        sent = 0
        try:
            for _ in range(400):  # the server must not keep taking the body (100 MiB)
                sent += sock.send(b"x" * 262_144)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass
        assert sent < 50 * 2**20
        assert _closed_by_server(sock, 2.0)


def test_a_body_without_a_json_content_type_is_labelled_with_its_route(url: str) -> None:
    """``curl -d`` sends a form content type: the body is read as JSON, the route still labels it."""
    r = httpx.post(f"{url}/v1/text/normalize", content=b'{"input": "1"}', headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Request-ID": "form-1"})  # fmt: skip
    assert r.status_code < 500
    metrics = httpx.get(f"{url}/metrics").text
    assert f'ttsgate_requests_total{{route="/v1/text/normalize",status="{r.status_code}"}}' in metrics
    assert 'route="unmatched"' not in metrics


def test_a_431_is_logged_once_at_info(url: str, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with caplog.at_level(logging.DEBUG), _connect(url) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 10_000 + b"\r\n\r\n")
        assert _read_response(sock)[0] == 431
        assert _closed_by_server(sock, 2.0)
    refusals = [r for r in caplog.records if "431" in r.getMessage() or "Invalid HTTP" in r.getMessage()]
    assert [(r.levelno, "431" in r.getMessage()) for r in refusals] == [(logging.INFO, True)]
