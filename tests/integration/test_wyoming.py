"""Home Assistant's Wyoming protocol, spoken to by the real ``wyoming`` client library."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)

from tests.integration.redis_server import free_port
from tests.integration.test_api_speech import expected_duration
from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

ZH = "你好，欢迎使用语音网关。今天天气很好。"
EN = "Hello there. This is a test of the gateway."


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, int]]:
    """(HTTP URL, Wyoming port) of one server with the sine voices and the cache off."""
    port = free_port()
    settings = Settings(cache="off", max_wait_ms=1.0, wyoming_uri=f"tcp://127.0.0.1:{port}")
    with serve_app(create_app(settings, table=sine_table())) as url:
        yield url, port


async def exchange(port: int, events: list[Event], until: tuple[str, ...]) -> list[Event]:
    """Send ``events``; collect what comes back up to the first event whose type is in ``until``."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        for event in events:
            await client.write_event(event)
        got: list[Event] = []
        while True:
            event = await asyncio.wait_for(client.read_event(), 30)
            assert event is not None, "server closed the connection"
            got.append(event)
            if event.type in until:
                return got


def audio_of(events: list[Event]) -> tuple[npt.NDArray[np.int16], int]:
    """The PCM of the audio-chunk events (checked to match audio-start's format) and its rate."""
    starts = [AudioStart.from_event(e) for e in events if AudioStart.is_type(e.type)]
    assert len(starts) == 1, [e.type for e in events]
    start = starts[0]
    assert (start.width, start.channels) == (2, 1)
    chunks = [AudioChunk.from_event(e) for e in events if AudioChunk.is_type(e.type)]
    assert all(c.rate == start.rate for c in chunks)
    assert sum(AudioStop.is_type(e.type) for e in events) == 1
    return np.frombuffer(b"".join(c.audio for c in chunks), dtype="<i2"), start.rate


def test_describe_lists_every_voice_with_its_language(served: tuple[str, int]) -> None:
    _, port = served
    (event,) = asyncio.run(exchange(port, [Describe().event()], until=("info",)))
    info = Info.from_event(event)
    (program,) = info.tts
    assert program.supports_synthesize_streaming
    voices = {v.name: v.languages for v in program.voices}
    assert voices == {"zh_test": ["zh"], "en_test": ["en"], "yue_test": ["yue"]}


@pytest.mark.parametrize(("voice", "text"), [("zh_test", ZH), ("en_test", EN), ("alloy", EN)])
def test_synthesize_speaks_the_text_through_the_pipeline(
    served: tuple[str, int], voice: str, text: str
) -> None:
    url, port = served
    events = asyncio.run(
        exchange(
            port, [Synthesize(text=text, voice=SynthesizeVoice(name=voice)).event()], until=("audio-stop",)
        )
    )
    pcm, rate = audio_of(events)
    assert rate == 24_000
    assert len(pcm) / rate == pytest.approx(expected_duration(url, text), abs=0.05)
    assert np.abs(pcm).max() > 1000


def test_synthesize_by_language_only_picks_the_tables_voice(served: tuple[str, int]) -> None:
    url, port = served
    voice = SynthesizeVoice(language="zh_CN")
    events = asyncio.run(exchange(port, [Synthesize(text=ZH, voice=voice).event()], until=("audio-stop",)))
    pcm, rate = audio_of(events)
    assert len(pcm) / rate == pytest.approx(expected_duration(url, ZH), abs=0.05)


def test_streaming_synthesis_speaks_chunks_as_sentences_complete(served: tuple[str, int]) -> None:
    url, port = served
    pieces = ["你好，", "欢迎使用", "语音网关。今天", "天气很好。"]
    events = [
        SynthesizeStart(voice=SynthesizeVoice(name="zh_test")).event(),
        # Home Assistant also sends the whole text as a plain synthesize for old servers: ignored.
        Synthesize(text=ZH, voice=SynthesizeVoice(name="zh_test")).event(),
        *[SynthesizeChunk(text=p).event() for p in pieces],
        SynthesizeStop().event(),
    ]
    got = asyncio.run(exchange(port, events, until=("synthesize-stopped",)))
    assert SynthesizeStopped.is_type(got[-1].type)
    pcm, rate = audio_of(got)
    assert len(pcm) / rate == pytest.approx(expected_duration(url, ZH), abs=0.05)


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (Synthesize(text="hello", voice=SynthesizeVoice(name="nobody")).event(), "voice_not_found"),
        (Synthesize(text="😀😀", voice=SynthesizeVoice(name="en_test")).event(), "empty_input"),
        (Synthesize(text="x" * 5000, voice=SynthesizeVoice(name="en_test")).event(), "input_too_long"),
    ],
)
def test_bad_requests_get_an_error_event_and_the_connection_stays_usable(
    served: tuple[str, int], event: Event, code: str
) -> None:
    _, port = served
    got = asyncio.run(exchange(port, [event, Describe().event()], until=("info",)))
    errors = [Error.from_event(e) for e in got if Error.is_type(e.type)]
    assert [e.code for e in errors] == [code]
    assert not any(AudioChunk.is_type(e.type) for e in got)
    assert errors[0].text
