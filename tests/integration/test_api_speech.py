"""/v1/audio/speech end to end on a real server: every format decoded, errors, streaming, routing."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.support.audio import decode

FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"]
ZH = "你好世界。今天天气很好，我们去公园散步吧。"


def expected_duration(url: str, text: str) -> float:
    """Sine voices speak each character for a fixed time: derive the length from the text plan."""
    answer = httpx.post(f"{url}/v1/text/normalize", json={"input": text, "lang": "zh"})
    assert answer.status_code == 200, f"/v1/text/normalize: {answer.status_code} {answer.text[:200]}"
    plan = answer.json()
    total = 0.0
    for i, seg in enumerate(plan["segments"]):
        for run in seg["runs"]:
            total += len(run["text"]) * (0.06 if run["language"] == "zh" else 0.05)
        if i:
            prev = plan["segments"][i - 1]["text"].rstrip()
            total += 0.22 if prev[-1] in "。！？!?.…；;" else 0.10
    return total


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_decodes_with_right_rate_and_duration(sine_url: str, fmt: str) -> None:
    r = httpx.post(
        f"{sine_url}/v1/audio/speech", json={"input": ZH, "voice": "zh_test", "response_format": fmt}
    )
    assert r.status_code == 200, r.text
    audio = decode(r.content, fmt)
    assert audio.sample_rate == (48_000 if fmt == "opus" else 24_000)
    want = expected_duration(sine_url, ZH)
    assert abs(audio.duration_s - want) < 0.08, (audio.duration_s, want)
    assert audio.rms > 0.1  # the sine voice speaks at amplitude 0.3: rms ≈ 0.21


def test_default_format_is_mp3(sine_url: str) -> None:
    r = httpx.post(f"{sine_url}/v1/audio/speech", json={"input": "你好。", "voice": "zh_test"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "audio/mpeg"
    assert decode(r.content, "mp3").duration_s > 0.05


def test_speed_scales_duration(sine_url: str) -> None:
    durations = {}
    for speed in (0.5, 1.0, 2.0):
        r = httpx.post(
            f"{sine_url}/v1/audio/speech",
            json={"input": "你好世界", "voice": "zh_test", "response_format": "pcm", "speed": speed},
        )
        durations[speed] = decode(r.content, "pcm").duration_s
    assert durations[0.5] == pytest.approx(2 * durations[1.0], rel=0.02)
    assert durations[2.0] == pytest.approx(0.5 * durations[1.0], rel=0.02)


def test_chinese_with_english_only_voice_is_spoken_by_the_chinese_voice(sine_url: str) -> None:
    # alloy is an English voice; the Han run must still be spoken at the zh voice's pace (0.06 s/char)
    r = httpx.post(
        f"{sine_url}/v1/audio/speech", json={"input": "你好世界", "voice": "alloy", "response_format": "pcm"}
    )
    assert decode(r.content, "pcm").duration_s == pytest.approx(4 * 0.06, abs=0.01)


def test_english_inside_chinese_goes_to_the_english_voice(sine_url: str) -> None:
    text = "我用iPhone拍照"
    r = httpx.post(
        f"{sine_url}/v1/audio/speech", json={"input": text, "voice": "zh_test", "response_format": "pcm"}
    )
    # 我用 + 拍照 at 0.06 s/char, iPhone (6 chars) at 0.05 s/char, resampled 22.05k -> 24k
    assert decode(r.content, "pcm").duration_s == pytest.approx(4 * 0.06 + 6 * 0.05, abs=0.02)


def test_sse_stream_has_deltas_segments_and_done(sine_url: str) -> None:
    body = {"input": ZH, "voice": "zh_test", "response_format": "pcm", "stream_format": "sse"}
    with httpx.stream("POST", f"{sine_url}/v1/audio/speech", json=body) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "speech.audio.done"
    assert "speech.segment" in kinds
    pcm = b"".join(base64.b64decode(e["audio"]) for e in events if e["type"] == "speech.audio.delta")
    assert decode(pcm, "pcm").duration_s == pytest.approx(expected_duration(sine_url, ZH), abs=0.02)


def test_failure_after_first_byte_aborts_the_stream(sine_url: str) -> None:
    text = "第一句话。第二句话。第三句 KABOOM 。第四句话。"
    body = {"input": text, "voice": "zh_test", "response_format": "wav"}
    received = bytearray()

    def read_all() -> None:
        with httpx.stream("POST", f"{sine_url}/v1/audio/speech", json=body) as r:
            assert r.status_code == 200
            for chunk in r.iter_bytes():
                received.extend(chunk)

    with pytest.raises(httpx.RemoteProtocolError):
        read_all()
    assert len(received) > 44  # the first segments did arrive before the abort


def test_failure_after_first_byte_is_an_sse_error_event(sine_url: str) -> None:
    text = "第一句话。第二句话。第三句 KABOOM 。第四句话。"
    body = {"input": text, "voice": "zh_test", "response_format": "pcm", "stream_format": "sse"}
    with httpx.stream("POST", f"{sine_url}/v1/audio/speech", json=body) as r:
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["type"] == "engine_error"
    assert "speech.audio.done" not in [e["type"] for e in events]


def test_failure_before_first_byte_is_a_real_status(sine_url: str) -> None:
    r = httpx.post(f"{sine_url}/v1/audio/speech", json={"input": "KABOOM 开头就失败。", "voice": "zh_test"})
    assert r.status_code == 500
    assert r.json()["error"]["type"] == "engine_error"


def test_streaming_first_bytes_arrive_before_the_whole_synthesis(sine_url: str) -> None:
    import time

    text = "。".join(f"这是第{i}句比较长的话用来测试流式输出" for i in range(12)) + "。"
    body = {"input": text, "voice": "zh_test", "response_format": "pcm"}
    start = time.perf_counter()
    first_at = None
    with httpx.stream("POST", f"{sine_url}/v1/audio/speech", json=body) as r:
        for chunk in r.iter_bytes():
            if chunk and first_at is None:
                first_at = time.perf_counter() - start
        total = time.perf_counter() - start
    assert first_at is not None
    assert first_at < total


@pytest.mark.parametrize(
    ("body", "param", "needle"),
    [
        ({"input": "", "voice": "alloy"}, "input", "at least 1"),
        ({"input": "x" * 5000, "voice": "alloy"}, "input", "4096"),
        ({"input": "hi", "voice": "nosuchvoice"}, "voice", "valid voices"),
        ({"input": "hi", "voice": "alloy", "response_format": "ogg"}, "response_format", "mp3"),
        ({"input": "hi", "voice": "alloy", "speed": 5}, "speed", "4"),
        ({"input": "hi", "voice": "alloy", "speed": 0.1}, "speed", "0.25"),
        ({"voice": "alloy"}, "input", "required"),
        ({"input": "🙂🙂", "voice": "alloy"}, "input", "nothing speakable"),
    ],
)
def test_bad_input_is_400_naming_the_field(
    sine_url: str, body: dict[str, object], param: str, needle: str
) -> None:
    r = httpx.post(f"{sine_url}/v1/audio/speech", json=body)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["param"] == param
    assert err["type"] == "invalid_request_error"
    assert needle in err["message"]


def test_malformed_json_is_400(sine_url: str) -> None:
    r = httpx.post(
        f"{sine_url}/v1/audio/speech",
        content=b'{"input": "hi",',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"


def test_voice_object_form(sine_url: str) -> None:
    r = httpx.post(
        f"{sine_url}/v1/audio/speech",
        json={"input": "你好", "voice": {"id": "zh_test"}, "response_format": "wav"},
    )
    assert r.status_code == 200
    assert decode(r.content, "wav").duration_s == pytest.approx(0.12, abs=0.01)


@pytest.mark.parametrize(
    ("voice", "language", "per_char"),
    [
        ("alloy", None, 0.06),  # Han text from an English voice: the Mandarin voice
        ("alloy", "yue", 0.05),  # asked for Cantonese: the routing table's Cantonese voice
        ("zh_test", "yue", 0.05),
        ("yue_test", None, 0.05),  # a Cantonese voice speaks Han text itself
        ("yue_test", "zh", 0.06),  # unless Mandarin is asked for
    ],
)
def test_language_field_routes_han_text_to_a_dialect(
    sine_url: str, voice: str, language: str | None, per_char: float
) -> None:
    body: dict[str, object] = {"input": "你好世界", "voice": voice, "response_format": "pcm"}
    if language:
        body["language"] = language
    r = httpx.post(f"{sine_url}/v1/audio/speech", json=body)
    assert r.status_code == 200, r.text
    assert decode(r.content, "pcm").duration_s == pytest.approx(4 * per_char, abs=0.005)


def test_language_field_is_validated(sine_url: str) -> None:
    r = httpx.post(
        f"{sine_url}/v1/audio/speech", json={"input": "你好", "voice": "alloy", "language": "粤语"}
    )
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "language"
