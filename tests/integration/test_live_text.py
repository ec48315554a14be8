"""Live text end to end (sine voices): a finished sentence is spoken while the LLM pauses, reasoning is
never spoken, and text with nothing to speak is handled by one rule on every route."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.integration.test_ws_speech import session, ws_url
from tests.support.audio import decode
from tests.support.ollama_fixture import PAUSE, OllamaFixture, serve_ollama
from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

PAUSE_S = 3.0
REPLIES = {
    "zh": f"好的，我来回答。{PAUSE}今天天气很好，适合出门散步。",
    "en": f"I will check the weather for you.{PAUSE} It is sunny and warm today.",
    # "42." may go on as 42.5: held for the next character, but released after a short idle time
    "digit": f"答案是42.{PAUSE}然后我们继续讨论下一个问题，今天天气很好。",
    "en-digit": f"The answer is 42.{PAUSE} Then we go on.",
    "think": "<think>用户问天气，我应该简短回答。</think>\n\n今天天气很好。",
    "only-think": "<think>用户问天气。</think>",
    "details": '<details type="reasoning" done="true" duration="4">\n<summary>Thought for 4 seconds'
    "</summary>\n> 想一想。\n</details>\n今天天气很好。",
}
MESSAGES = [{"role": "user", "content": "天气怎么样？"}]


@pytest.fixture(scope="module")
def llm() -> Iterator[OllamaFixture]:
    with serve_ollama(REPLIES, token_s=0.005, pause_s=PAUSE_S) as fx:
        yield fx


@pytest.fixture(scope="module")
def chat_url(llm: OllamaFixture) -> Iterator[str]:
    settings = Settings(cache="off", max_wait_ms=2.0, llm_url=llm.url, llm_model="zh", llm_allowed_models="*")
    with serve_app(create_app(settings, table=sine_table())) as url:
        yield url


@pytest.mark.parametrize(
    ("model", "voice"), [("zh", "zh_test"), ("en", "en_test"), ("digit", "zh_test"), ("en-digit", "en_test")]
)
def test_a_finished_sentence_is_spoken_while_the_llm_pauses(
    chat_url: str, llm: OllamaFixture, model: str, voice: str
) -> None:
    body = {"model": model, "messages": MESSAGES, "voice": voice, "response_format": "pcm"}
    audio = bytearray()
    first_audio = None
    with httpx.stream("POST", f"{chat_url}/v1/chat/speech", json=body, timeout=30) as r:
        assert r.status_code == 200
        for chunk in r.iter_bytes():
            if chunk and first_audio is None:
                first_audio = time.perf_counter()
            audio += chunk
    sent = llm.sent[-1]
    resumed = next(i for i in range(1, len(sent)) if sent[i][0] - sent[i - 1][0] > PAUSE_S * 0.8)
    last_token, after_pause = sent[resumed - 1][0], sent[resumed][0]
    assert sent[resumed - 1][1].strip() in ("。", ".")  # the pause came right after a finished sentence
    assert first_audio is not None
    # The first audio follows the sentence's last token by its synthesis time (sine: milliseconds),
    # long before the pause ends; before, it came after the pause.
    assert first_audio - last_token < 1.0, first_audio - last_token
    assert after_pause - first_audio > PAUSE_S - 1.5
    assert decode(bytes(audio), "pcm").duration_s > 1.5  # both sentences were spoken


async def test_a_websocket_sentence_is_spoken_without_flush_or_close(sine_url: str) -> None:
    events: list[dict[str, Any]] = []
    async with connect(ws_url(sine_url)) as ws:
        await ws.send(json.dumps({"type": "start", "voice": "zh_test", "response_format": "pcm"}))
        await ws.send(json.dumps({"type": "text", "text": "“好的。"}))
        # nothing more is sent: the finished sentence is spoken anyway
        first = json.loads(await asyncio.wait_for(ws.recv(), 2.0))
        assert first["type"] == "segment"
        assert first["text"] == "“好的。"
        assert isinstance(await asyncio.wait_for(ws.recv(), 2.0), bytes)
        for text in ["”", "我们", "走吧。"]:  # the closing quote arrives late: never a segment
            await ws.send(json.dumps({"type": "text", "text": text}))
        await ws.send(json.dumps({"type": "close"}))
        events = [json.loads(m) async for m in ws if isinstance(m, str)]
    assert [e["text"] for e in events if e["type"] == "segment"] == ["我们走吧。"]
    assert events[-1] == {"type": "done", "segments": 2, "duration": pytest.approx(events[-1]["duration"])}


async def test_a_websocket_sentence_ending_in_a_digit_is_spoken_during_a_pause(sine_url: str) -> None:
    async with connect(ws_url(sine_url)) as ws:
        await ws.send(json.dumps({"type": "start", "voice": "en_test", "response_format": "pcm"}))
        for text in ["The answer", " is 42."]:
            await ws.send(json.dumps({"type": "text", "text": text}))
        sent = time.perf_counter()
        first = json.loads(await asyncio.wait_for(ws.recv(), 3.0))  # no flush, no close: a pause
        assert time.perf_counter() - sent < 1.5
        assert first["type"] == "segment"
        assert first["text"] == "The answer is 42."
        await ws.send(json.dumps({"type": "close"}))
        assert [json.loads(m) async for m in ws if isinstance(m, str)][-1]["type"] == "done"


@pytest.mark.parametrize(
    ("texts", "spoken"),
    [(["。。。", "😀", "”"], []),
     (["好的。", "……", "”", "😀\n", "我们走吧。"], ["好的。", "我们走吧。"]),
     (["<th", "ink>想想。</th", "ink>好的。"], ["好的。"]),
     (['<details type="tool_calls">{"a": 1}</details>', "查到了。"], ["查到了。"]),
     (["运行：\n```py", "thon\nx = 12345\n```\n", "然后好了。"], ["运行：", "代码略。", "然后好了。"]),
     (["1. 打开设", "置。\n2.", " 点击确定。"], ["打开设置。", "点击确定。"]),
     (["访问https://www.example.com了", "解更多。"], ["访问example点com了解更多。"]),
     (["请看[这个链接。", "点击这里](https://example.com)。"], ["请看这个链接。", "点击这里。"]),
     (["[THINK]用户问。[/TH", "INK]好的。"], ["好的。"])],
)  # fmt: skip
async def test_websocket_pieces_with_nothing_to_speak_are_skipped(
    sine_url: str, texts: list[str], spoken: list[str]
) -> None:
    start = {"type": "start", "voice": "zh_test", "response_format": "pcm"}
    events, audio, code = await session(sine_url, start, texts)
    assert code == 1000
    assert [e["text"] for e in events if e["type"] == "segment"] == spoken
    assert events[-1]["type"] == "done"
    assert events[-1]["segments"] == len(spoken)
    if not spoken:  # a session with nothing to speak: no audio, then done with 0 segments
        assert audio == b""
        assert events == [{"type": "done", "segments": 0, "duration": 0.0}]


@pytest.mark.parametrize("model", ["think", "details"])
def test_chat_reasoning_is_never_spoken(chat_url: str, model: str) -> None:
    body = {"model": model, "messages": MESSAGES, "voice": "zh_test", "response_format": "pcm",
            "stream_format": "sse"}  # fmt: skip
    with httpx.stream("POST", f"{chat_url}/v1/chat/speech", json=body, timeout=30) as r:
        assert r.status_code == 200
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    assert [e["text"] for e in events if e["type"] == "speech.segment"] == ["今天天气很好。"]
    assert events[-2] == {
        "type": "chat.text.done",
        "text": REPLIES[model],
    }  # the text events are the reply as written


def test_a_reply_with_nothing_to_speak_is_502_empty_reply(chat_url: str) -> None:
    r = httpx.post(
        f"{chat_url}/v1/chat/speech", json={"model": "only-think", "messages": MESSAGES}, timeout=30
    )
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "empty_reply"


NOTHING = [
    "。。。",
    "😀",
    "”",
    "……",
    "**",
    "<think>只有推理。</think>",
    " \n ",
    "<details><summary>x</summary>y</details>",
]


@pytest.mark.parametrize("text", NOTHING)
@pytest.mark.parametrize(
    ("method", "path", "field"),
    [("POST", "/v1/audio/speech", "input"), ("POST", "/v1/audio/subtitles", "input"),
     ("GET", "/tts", "text"), ("POST", "/api/chatts", "prompt")],
)  # fmt: skip
def test_a_request_with_nothing_to_speak_is_400_naming_its_field(
    sine_url: str, method: str, path: str, field: str, text: str
) -> None:
    if method == "GET":
        r = httpx.get(f"{sine_url}{path}", params={field: text}, timeout=30)
    else:
        r = httpx.post(f"{sine_url}{path}", json={field: text, "voice": "zh_test"}, timeout=30)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert (err["param"], err["code"]) == (field, "empty_input")
    assert "nothing speakable" in err["message"]


@pytest.mark.parametrize("text", ["好。。。", "“好的。”", "请*务必*提交", "😀好"])
def test_speech_with_a_little_to_speak_is_spoken(sine_url: str, text: str) -> None:
    r = httpx.post(
        f"{sine_url}/v1/audio/speech", json={"input": text, "voice": "zh_test", "response_format": "wav"}
    )
    assert r.status_code == 200
    assert decode(r.content, "wav").duration_s > 0.05
