"""Whole-request cache: direct hits, the 302 to GET /v1/audio/{key}.{fmt}, ETag / 304, strict keys."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from openai import OpenAI

from tests.support.audio import decode
from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

TEXT = "今天天气很好。我们去公园散步吧！"


def _serve(redirect: bool) -> Iterator[str]:
    settings = Settings(cache="memory", cache_redirect=redirect, max_wait_ms=1.0)
    with serve_app(create_app(settings, table=sine_table(fail_on="KABOOM"))) as url:
        yield url


@pytest.fixture(scope="module")
def redirect_url() -> Iterator[str]:
    yield from _serve(True)


@pytest.fixture(scope="module")
def direct_url() -> Iterator[str]:
    yield from _serve(False)


def speech(url: str, text: str, fmt: str = "mp3", **kw: object) -> httpx.Response:
    body = {"input": text, "voice": "zh_test", "response_format": fmt, **kw}
    return httpx.post(f"{url}/v1/audio/speech", json=body, timeout=30)


def synthesized(url: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("ttsgate_segments_synthesized_total{")
    )


def test_redirect_then_etag(redirect_url: str) -> None:
    first = speech(redirect_url, TEXT)
    assert first.status_code == 200
    assert "x-cache" not in first.headers
    second = speech(redirect_url, TEXT)
    assert second.status_code == 302
    location = second.headers["location"]
    key = location.removeprefix("/v1/audio/").removesuffix(".mp3")
    assert location == f"/v1/audio/{key}.mp3"
    assert len(key) == 64
    got = httpx.get(redirect_url + location)
    assert got.status_code == 200
    assert got.headers["content-type"] == "audio/mpeg"
    assert got.headers["etag"] == f'"{key}-mp3"'
    assert got.headers["cache-control"] == "public, max-age=300"
    assert got.content == first.content
    again = httpx.get(redirect_url + location, headers={"If-None-Match": f'W/"x", "{key}-mp3"'})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == f'"{key}-mp3"'
    # The request key does not depend on the format: a wav request redirects to the same key.
    wav = speech(redirect_url, TEXT, "wav")
    assert wav.status_code == 302
    assert wav.headers["location"] == f"/v1/audio/{key}.wav"
    decoded = decode(httpx.get(redirect_url + wav.headers["location"]).content, "wav")
    assert abs(decoded.duration_s - decode(first.content, "mp3").duration_s) < 0.2
    # Any of the six formats, encoded from the cached PCM.
    for fmt in ("opus", "aac", "flac", "pcm"):
        r = httpx.get(f"{redirect_url}/v1/audio/{key}.{fmt}")
        assert r.status_code == 200
        assert decode(r.content, fmt).rms > 0.01
    # SSE is never redirected.
    sse = speech(redirect_url, TEXT, stream_format="sse")
    assert sse.status_code == 200
    assert sse.headers["content-type"].startswith("text/event-stream")


def test_openai_sdk_follows_redirect(redirect_url: str) -> None:
    client = OpenAI(base_url=f"{redirect_url}/v1", api_key="unused")
    text = "The OpenAI client follows the redirect."
    one = client.audio.speech.create(model="tts-1", voice="alloy", input=text, response_format="wav").content
    before = synthesized(redirect_url)
    two = client.audio.speech.create(model="tts-1", voice="alloy", input=text, response_format="wav").content
    assert synthesized(redirect_url) == before
    a, b = decode(one, "wav"), decode(two, "wav")
    assert np.array_equal(a.samples, b.samples)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/audio/abc.mp3", 404),
        ("/v1/audio/" + "A" * 64 + ".mp3", 404),
        ("/v1/audio/" + "a" * 64 + "%0A.mp3", 404),
        ("/v1/audio/" + "a" * 64, 404),
        ("/v1/audio/..%2F..%2Fetc%2Fpasswd.mp3", 404),
        ("/v1/audio/../../etc/passwd", 404),
        ("/v1/audio/" + "a" * 64 + ".exe", 400),
        ("/v1/audio/" + "a" * 64 + ".mp3", 404),  # valid, but nothing cached under it
    ],
)
def test_audio_route_rejects(redirect_url: str, path: str, status: int) -> None:
    r = httpx.get(redirect_url + path)
    assert r.status_code == status
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}


def test_direct_hit_without_pipeline(direct_url: str) -> None:
    first = speech(direct_url, TEXT, "wav")
    before = synthesized(direct_url)
    second = speech(direct_url, TEXT, "wav")
    assert second.status_code == 200
    assert second.headers["x-cache"] == "hit"
    assert synthesized(direct_url) == before
    assert np.array_equal(decode(first.content, "wav").samples, decode(second.content, "wav").samples)
    assert int.from_bytes(second.content[40:44], "little") == len(second.content) - 44  # real WAV sizes
    # Another format of the same text: served from the cached PCM, no synthesis either.
    flac = speech(direct_url, TEXT, "flac")
    assert flac.headers["x-cache"] == "hit"
    assert synthesized(direct_url) == before
    # /tts and /api/chatts share the cache.
    tts = httpx.get(f"{direct_url}/tts", params={"text": TEXT, "voice_id": "zh_test"})
    assert tts.headers["x-cache"] == "hit"


def test_failed_stream_is_not_cached(direct_url: str) -> None:
    text = "第一句话说完了。KABOOM"
    for _ in range(2):
        with pytest.raises(httpx.HTTPError):
            speech(direct_url, text, "pcm").raise_for_status()
