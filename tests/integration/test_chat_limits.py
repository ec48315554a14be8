"""What one LLM reply may be: a line and a whole reply are bounded (llm/base.py), and a huge line
neither stalls the server nor reaches the segmenter; text work stays off the event loop."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.support.ollama_fixture import OllamaFixture, serve_ollama
from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.llm.base import limits
from ttsgate.server import create_app

MAX_INPUT = 200
LINE, REPLY = limits(MAX_INPUT)
LONG = " ".join(f"This is sentence number {i} of a long answer." for i in range(400))
MESSAGES = [{"role": "user", "content": "Say something."}]


@pytest.fixture(scope="module")
def ollama() -> Iterator[OllamaFixture]:
    with serve_ollama({"*": "Hello there. Fine.", "long": LONG}) as fx:
        yield fx


@pytest.fixture(scope="module", params=["ollama", "openai"])
def chat_url(ollama: OllamaFixture, request: pytest.FixtureRequest) -> Iterator[str]:
    llm_url = ollama.url + ("/v1" if request.param == "openai" else "")
    settings = Settings(
        cache="off", max_wait_ms=2.0, llm_url=llm_url, llm_kind=request.param, llm_model="default-model",
        llm_allowed_models="*", max_input_chars=MAX_INPUT,
    )  # fmt: skip
    with serve_app(create_app(settings, table=sine_table())) as url:
        yield url


def _body(model: str) -> dict[str, object]:
    return {"model": model, "messages": MESSAGES, "voice": "en_test", "response_format": "pcm",
            "stream_format": "sse"}  # fmt: skip


def test_limits_follow_the_input_limit() -> None:
    assert LINE > 4 * MAX_INPUT
    assert REPLY > LINE
    assert len(LONG) > REPLY


@pytest.mark.parametrize("n", [LINE + 1, 4 << 20])
def test_a_huge_first_line_is_502_before_any_audio(chat_url: str, n: int) -> None:
    r = httpx.post(f"{chat_url}/v1/chat/speech", json=_body(f"huge:{n}"), timeout=60)
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "reply_too_long"
    assert httpx.get(f"{chat_url}/health", timeout=10).status_code == 200


def test_a_line_within_the_limit_is_spoken(chat_url: str) -> None:
    r = httpx.post(f"{chat_url}/v1/chat/speech", json=_body(f"huge:{LINE // 2}"), timeout=60)
    assert r.status_code == 200
    events = [json.loads(x[6:]) for x in r.text.splitlines() if x.startswith("data: ")]
    assert events[-1]["type"] == "speech.audio.done"


def _events(url: str, model: str) -> list[dict[str, object]]:
    with httpx.stream("POST", f"{url}/v1/chat/speech", json=_body(model), timeout=60) as r:
        assert r.status_code == 200
        return [json.loads(x[6:]) for x in r.iter_lines() if x.startswith("data: ")]


def test_a_huge_line_after_audio_is_an_sse_error_event(chat_url: str) -> None:
    events = _events(chat_url, f"late:{4 << 20}")
    kinds = [e["type"] for e in events]
    assert "speech.audio.delta" in kinds
    assert kinds[-1] == "error"
    assert "longer than" in str(events[-1]["error"])


def test_a_reply_over_the_total_limit_ends_with_an_error_event(chat_url: str) -> None:
    events = _events(chat_url, "long")
    assert events[-1]["type"] == "error"
    assert "a reply longer than" in str(events[-1]["error"])
    spoken = "".join(str(e["delta"]) for e in events if e["type"] == "chat.text.delta")
    assert len(spoken) <= REPLY
