"""/v1/chat/speech end to end: a real ttsgate server on sine voices, asking a fixture Ollama server."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.audio import decode
from tests.support.ollama_fixture import OllamaFixture, serve_ollama
from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

EN = "Hello there. The weather is nice today, so let us go for a walk in the park."
ZH = "你好！今天天气很好，我们去公园散步吧。公园里有很多花。"
LONG = " ".join(f"This is sentence number {i} of a long answer." for i in range(60))
MESSAGES = [{"role": "user", "content": "Say something."}]


@pytest.fixture(scope="module")
def ollama() -> Iterator[OllamaFixture]:
    with serve_ollama({"*": EN, "zh": ZH, "long": LONG}, token_s=0.005) as fx:
        yield fx


def _gateway(llm_url: str, kind: str = "ollama", **policy: str) -> Iterator[str]:
    """The fixture's models pick its replies ("zh", "long", "busy"…): the operator allows any model
    and temperature/keep_alive here (llm/policy.py), unless ``policy`` says otherwise."""
    policy = {"llm_allowed_models": "*", "llm_allowed_options": "temperature,keep_alive", **policy}
    settings = Settings(
        cache="off", max_wait_ms=2.0, llm_url=llm_url, llm_kind=kind, llm_model="default-model", **policy
    )
    with serve_app(create_app(settings, table=sine_table(fail_on="KABOOM"))) as url:
        yield url


@pytest.fixture(scope="module")
def chat_url(ollama: OllamaFixture) -> Iterator[str]:
    yield from _gateway(ollama.url)


def _sse(url: str, body: dict[str, object]) -> list[dict[str, object]]:
    with httpx.stream("POST", f"{url}/v1/chat/speech", json=body, timeout=30) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        return [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]


@pytest.mark.parametrize(("model", "reply", "voice"), [("any", EN, "en_test"), ("zh", ZH, "zh_test")])
def test_sse_text_deltas_segments_and_audio_in_order(
    chat_url: str, model: str, reply: str, voice: str
) -> None:
    body = {
        "model": model,
        "messages": MESSAGES,
        "voice": voice,
        "response_format": "pcm",
        "stream_format": "sse",
    }
    events = _sse(chat_url, body)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "chat.text.delta"
    assert kinds[-2:] == ["chat.text.done", "speech.audio.done"]
    assert "".join(str(e["delta"]) for e in events if e["type"] == "chat.text.delta") == reply
    assert events[-2]["text"] == reply
    segments = [e for e in events if e["type"] == "speech.segment"]
    assert len(segments) >= 2
    # every segment's text has arrived as deltas before its speech.segment event
    for seg in segments:
        pos = events.index(seg)
        so_far = "".join(str(e["delta"]) for e in events[:pos] if e["type"] == "chat.text.delta")
        assert str(seg["text"]).strip() in so_far
    pcm = b"".join(base64.b64decode(str(e["audio"])) for e in events if e["type"] == "speech.audio.delta")
    audio = decode(pcm, "pcm")
    assert audio.duration_s == pytest.approx(float(segments[-1]["end"]), abs=0.01)  # type: ignore[arg-type]
    assert audio.rms > 0.1


def test_audio_stream_matches_sse_duration(chat_url: str) -> None:
    body = {"model": "any", "messages": MESSAGES, "voice": "en_test", "response_format": "pcm"}
    r = httpx.post(f"{chat_url}/v1/chat/speech", json=body, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/pcm"
    events = _sse(chat_url, {**body, "stream_format": "sse"})
    end = [e for e in events if e["type"] == "speech.segment"][-1]["end"]
    assert decode(r.content, "pcm").duration_s == pytest.approx(float(end), abs=0.01)  # type: ignore[arg-type]


def test_mp3_decodes(chat_url: str) -> None:
    body = {"model": "zh", "messages": MESSAGES, "voice": "zh_test", "response_format": "mp3"}
    r = httpx.post(f"{chat_url}/v1/chat/speech", json=body, timeout=30)
    assert r.status_code == 200
    assert decode(r.content, "mp3").duration_s > 1.0


def test_model_options_and_keep_alive_reach_ollama(chat_url: str, ollama: OllamaFixture) -> None:
    body = {"messages": MESSAGES, "voice": "en_test", "response_format": "pcm",
            "options": {"temperature": 0.2, "num_predict": 64}, "keep_alive": "5m"}  # fmt: skip
    assert httpx.post(f"{chat_url}/v1/chat/speech", json=body, timeout=30).status_code == 200
    sent = ollama.requests[-1]
    assert sent["model"] == "default-model"
    assert sent["stream"] is True
    assert sent["options"] == {"temperature": 0.2, "num_predict": 64}
    assert sent["keep_alive"] == "5m"
    assert sent["messages"] == MESSAGES


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_llm_is_503_naming_the_upstream_before_any_audio() -> None:
    dead = f"http://127.0.0.1:{_free_port()}"
    for url in _gateway(dead):
        r = httpx.post(f"{url}/v1/chat/speech", json={"messages": MESSAGES, "voice": "en_test"}, timeout=30)
        assert r.status_code == 503
        err = r.json()["error"]
        assert err["type"] == "upstream_unavailable"
        assert dead in err["message"]


def test_busy_ollama_is_503_with_retry_after_before_any_audio(chat_url: str) -> None:
    r = httpx.post(f"{chat_url}/v1/chat/speech", json={"model": "busy", "messages": MESSAGES}, timeout=30)
    assert r.status_code == 503
    assert int(r.headers["retry-after"]) >= 1
    err = r.json()["error"]
    assert (err["type"], err["code"]) == ("upstream_unavailable", "upstream_busy")
    assert "503" in err["message"]
    assert "server busy" in err["message"]


def test_missing_model_is_502_with_ollamas_message(chat_url: str) -> None:
    r = httpx.post(f"{chat_url}/v1/chat/speech", json={"model": "missing", "messages": MESSAGES}, timeout=30)
    assert r.status_code == 502
    assert "not found, try pulling it first" in r.json()["error"]["message"]


def test_error_after_audio_started_is_an_sse_error_event(chat_url: str) -> None:
    body = {
        "model": "midfail",
        "messages": MESSAGES,
        "voice": "en_test",
        "response_format": "pcm",
        "stream_format": "sse",
    }
    events = _sse(chat_url, body)
    kinds = [e["type"] for e in events]
    assert "speech.audio.delta" in kinds
    assert kinds[-1] == "error"
    assert "an error was encountered while running the model" in str(events[-1]["error"])


def test_error_after_audio_started_aborts_the_audio_body(chat_url: str) -> None:
    body = {"model": "midfail", "messages": MESSAGES, "voice": "en_test", "response_format": "pcm"}
    with httpx.stream("POST", f"{chat_url}/v1/chat/speech", json=body, timeout=30) as r:
        assert r.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):  # the body never gets its terminating chunk
            r.read()


def test_client_disconnect_cancels_the_llm_request(ollama: OllamaFixture) -> None:
    with serve_ollama({"*": LONG}, token_s=0.05) as slow:
        for url in _gateway(slow.url):
            body = {"messages": MESSAGES, "voice": "en_test", "response_format": "pcm"}
            with httpx.stream("POST", f"{url}/v1/chat/speech", json=body, timeout=30) as r:
                assert r.status_code == 200
                next(r.iter_bytes())
            deadline = time.monotonic() + 5
            while slow.closed == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert slow.closed == 1
            assert slow.finished == 0
            assert len(slow.sent[0]) < len(LONG.split())  # it stopped long before the end


@pytest.mark.parametrize(
    ("body", "param"),
    [({"messages": []}, "messages"), ({"messages": MESSAGES, "voice": "nobody"}, "voice"),
     ({"messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role")],
)  # fmt: skip
def test_bad_bodies_are_400_naming_the_field(chat_url: str, body: dict[str, object], param: str) -> None:
    r = httpx.post(f"{chat_url}/v1/chat/speech", json=body, timeout=30)
    assert r.status_code == 400
    assert r.json()["error"]["param"] == param


def test_openai_compatible_path_against_the_fixture(ollama: OllamaFixture) -> None:
    for url in _gateway(ollama.url + "/v1", kind="openai"):
        body = {"model": "zh", "messages": MESSAGES, "voice": "zh_test", "response_format": "pcm",
                "stream_format": "sse", "options": {"num_predict": 32, "temperature": 0}}  # fmt: skip
        events = _sse(url, body)
        assert events[-2] == {"type": "chat.text.done", "text": ZH}
        sent = ollama.requests[-1]
        assert (sent["max_tokens"], sent["temperature"], sent["stream"]) == (32, 0, True)
        events = _sse(url, {**body, "model": "midfail"})
        assert events[-1]["type"] == "error"
        r = httpx.post(f"{url}/v1/chat/speech", json={**body, "model": "busy"}, timeout=30)
        assert r.status_code == 503


def test_default_policy_sends_the_configured_model_and_a_bounded_reply(ollama: OllamaFixture) -> None:
    """Out of the box a client cannot pick the server's LLM model or its options (llm/policy.py)."""
    for url in _gateway(ollama.url, llm_allowed_models="", llm_allowed_options=""):
        body = {"messages": MESSAGES, "voice": "en_test", "response_format": "pcm"}
        assert httpx.post(f"{url}/v1/chat/speech", json=body, timeout=30).status_code == 200
        sent = ollama.requests[-1]
        assert sent["model"] == "default-model"
        assert sent["options"] == {"num_predict": 1024}
        assert "keep_alive" not in sent
        for extra, param in [({"model": "llama3:70b"}, "model"), ({"options": {"n": 128}}, "options.n")]:
            r = httpx.post(f"{url}/v1/chat/speech", json={**body, **extra}, timeout=30)
            assert r.status_code == 400
            assert r.json()["error"]["param"] == param
