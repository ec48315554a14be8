"""Issue #15 through HTTP: an audio body starts with the first segment's first piece, and its bytes
are the same as when segments are sent whole; a failure inside the first segment after its first
piece aborts the body (README, errors), and SSE still answers a real status before any audio."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

TEXT = "第一句话说得很长很长很长。第二句，第三句话。Hello there, 第四句。"


def _server(piece_chars: int) -> Iterator[str]:
    settings = Settings(cache="off", max_wait_ms=2.0)
    app = create_app(settings, table=sine_table(fail_on="KABOOM", piece_chars=piece_chars))
    with serve_app(app) as url:
        yield url


@pytest.fixture(scope="module")
def streamed_url() -> Iterator[str]:
    """The Mandarin sine engine hands its audio out two characters at a time."""
    yield from _server(2)


@pytest.fixture(scope="module")
def whole_url() -> Iterator[str]:
    yield from _server(0)


def _speech(url: str, text: str, fmt: str, **extra: str) -> httpx.Response:
    body = {"input": text, "voice": "zh_test", "response_format": fmt, **extra}
    return httpx.post(f"{url}/v1/audio/speech", json=body, timeout=30)


@pytest.mark.parametrize("fmt", ["pcm", "wav", "mp3", "opus", "aac", "flac"])
def test_body_bytes_are_the_same_streamed_or_whole(streamed_url: str, whole_url: str, fmt: str) -> None:
    streamed, whole = _speech(streamed_url, TEXT, fmt), _speech(whole_url, TEXT, fmt)
    assert streamed.status_code == whole.status_code == 200
    assert len(streamed.content) > 1000
    assert _same_stream(streamed.content) == _same_stream(whole.content)


def _same_stream(data: bytes) -> bytes:
    """An Ogg stream's random serial number (bytes 14-17 of every page header) and the page CRC that
    covers it zeroed, so that two encodings of the same audio compare equal; other formats as they are."""
    if data[:4] != b"OggS":
        return data
    out = bytearray(data)
    at = 0
    while (at := out.find(b"OggS", at)) >= 0:
        out[at + 14 : at + 18] = out[at + 22 : at + 26] = b"\0\0\0\0"
        at += 4
    return bytes(out)


def test_subtitles_and_sse_are_unchanged(streamed_url: str, whole_url: str) -> None:
    sse = [_speech(u, TEXT, "pcm", stream_format="sse").text for u in (streamed_url, whole_url)]
    assert sse[0] == sse[1]
    subs = [
        httpx.post(f"{u}/v1/audio/subtitles", json={"input": TEXT, "voice": "zh_test", "format": "json"}).text
        for u in (streamed_url, whole_url)
    ]
    assert subs[0] == subs[1]


def test_a_failure_inside_the_first_segment_after_its_first_piece_aborts_the_body(streamed_url: str) -> None:
    received = bytearray()
    statuses: list[int] = []

    def read_all() -> None:
        body = {"input": "第一句 KABOOM 话。第二句话。", "voice": "zh_test", "response_format": "pcm"}
        with httpx.stream("POST", f"{streamed_url}/v1/audio/speech", json=body, timeout=30) as r:
            statuses.append(r.status_code)
            for chunk in r.iter_bytes():
                received.extend(chunk)

    with pytest.raises(httpx.RemoteProtocolError):  # no terminating chunk: an incomplete body
        read_all()
    assert statuses == [200]  # the first piece was out: the status went with it
    assert received  # the first piece arrived


def test_sse_still_refuses_with_a_status_before_any_audio(streamed_url: str) -> None:
    r = _speech(streamed_url, "第一句 KABOOM 话。", "pcm", stream_format="sse")
    assert r.status_code == 500
    assert r.json()["error"]["type"] == "engine_error"
