"""/v1/audio/subtitles: cues that line up with the audio of the same request."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.test_api_speech import expected_duration
from tests.support.audio import decode

TEXT = "你好世界。今天天气很好，我们去公园散步吧。"


def test_json_cues_cover_the_audio(sine_url: str) -> None:
    body = {"input": TEXT, "voice": "zh_test", "subtitle_format": "json"}
    cues = httpx.post(f"{sine_url}/v1/audio/subtitles", json=body).json()
    audio = httpx.post(f"{sine_url}/v1/audio/speech", json={**body, "response_format": "pcm"})
    duration = decode(audio.content, "pcm").duration_s
    assert cues["duration"] == pytest.approx(duration, abs=0.002)
    assert cues["duration"] == pytest.approx(expected_duration(sine_url, TEXT), abs=0.002)
    assert cues["cues"][0]["start"] == 0.0
    assert cues["cues"][0]["text"] == "你好世界。"
    starts = [c["start"] for c in cues["cues"]]
    assert starts == sorted(starts)
    assert all(c["end"] > c["start"] for c in cues["cues"])
    # the second cue starts after the first one's pause
    assert cues["cues"][1]["start"] == pytest.approx(cues["cues"][0]["end"] + 0.22, abs=0.002)


def test_vtt_and_srt(sine_url: str) -> None:
    vtt = httpx.post(f"{sine_url}/v1/audio/subtitles", json={"input": TEXT, "voice": "zh_test"})
    assert vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT")
    assert "00:00:00.000 --> 00:00:00.300" in vtt.text
    srt = httpx.post(
        f"{sine_url}/v1/audio/subtitles", json={"input": TEXT, "voice": "zh_test", "subtitle_format": "srt"}
    )
    assert srt.text.startswith("1\n00:00:00,000 --> 00:00:00,300\n你好世界。")


def test_bad_subtitle_format(sine_url: str) -> None:
    r = httpx.post(
        f"{sine_url}/v1/audio/subtitles", json={"input": TEXT, "voice": "zh_test", "subtitle_format": "ass"}
    )
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "subtitle_format"
