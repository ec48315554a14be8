"""The seed's routes, discovery routes, health/readiness, request ids."""

from __future__ import annotations

import httpx
import pytest

from tests.support.audio import decode


def test_seed_get_tts_streams_wav(sine_url: str) -> None:
    r = httpx.get(f"{sine_url}/tts", params={"text": "你好世界", "voice_id": "zh_female_001", "speed": 1.0})
    assert r.status_code == 200
    assert r.headers["content-type"] == "audio/wav"
    audio = decode(r.content, "wav")
    assert audio.sample_rate == 24_000
    assert audio.duration_s == pytest.approx(0.24, abs=0.01)


def test_seed_get_tts_bad_speed_names_the_field(sine_url: str) -> None:
    r = httpx.get(f"{sine_url}/tts", params={"text": "你好", "speed": 9})
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "speed"


def test_seed_chatts_body_with_voice_settings(sine_url: str) -> None:
    body = {
        "model": "chatts-cn-gguf",
        "prompt": "你好世界",
        "voice_settings": {"voice_id": "zh_female_001", "speed": 2.0, "batch_size": 4},
        "stream": True,
    }
    r = httpx.post(f"{sine_url}/api/chatts", json=body)
    assert r.status_code == 200
    assert decode(r.content, "wav").duration_s == pytest.approx(0.12, abs=0.01)


def test_seed_chatts_not_streamed_has_real_wav_sizes(sine_url: str) -> None:
    import io
    import wave

    r = httpx.post(f"{sine_url}/api/chatts", json={"prompt": "你好世界", "stream": False})
    assert r.status_code == 200
    with wave.open(io.BytesIO(r.content)) as w:
        assert w.getframerate() == 24_000
        assert w.getnframes() == pytest.approx(0.24 * 24_000, abs=10)
    assert int.from_bytes(r.content[4:8], "little") == len(r.content) - 8


def test_seed_chatts_empty_prompt(sine_url: str) -> None:
    r = httpx.post(f"{sine_url}/api/chatts", json={"prompt": ""})
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "prompt"


def test_voices_and_models_shapes(sine_url: str) -> None:
    voices = httpx.get(f"{sine_url}/v1/audio/voices").json()["voices"]
    ids = {v["id"] for v in voices}
    assert {"zh_test", "en_test", "alloy", "zh_female_001"} <= ids
    assert all({"id", "name", "language"} <= v.keys() for v in voices)
    models = httpx.get(f"{sine_url}/v1/audio/models").json()["models"]
    assert "tts-1" in {m["id"] for m in models}
    assert httpx.get(f"{sine_url}/v1/models").json()["object"] == "list"


def test_health_ready_and_request_id(sine_url: str) -> None:
    assert httpx.get(f"{sine_url}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{sine_url}/ready").json()
    assert ready["ready"] is True
    assert set(ready["engines"]) == {"sine-zh", "sine-en"}
    r = httpx.get(f"{sine_url}/health", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    assert len(httpx.get(f"{sine_url}/health").headers["x-request-id"]) == 32


def test_unknown_route_is_openai_shaped_404(sine_url: str) -> None:
    r = httpx.get(f"{sine_url}/v1/nope")
    assert r.status_code == 404
    assert r.json()["error"]["type"] == "not_found_error"


def test_metrics_count_requests(sine_url: str) -> None:
    httpx.post(f"{sine_url}/v1/audio/speech", json={"input": "你好", "voice": "zh_test"})
    text = httpx.get(f"{sine_url}/metrics").text
    assert 'ttsgate_requests_total{route="/v1/audio/speech",status="200"}' in text
    assert "tts_req_total" in text
    assert "ttsgate_time_to_first_audio_seconds_bucket" in text
