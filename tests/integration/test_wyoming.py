"""Home Assistant's Wyoming protocol, spoken to by the real ``wyoming`` client library."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event, async_read_event
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
from ttsgate.server.wyoming_server import MAX_MISTAKES

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
        (Synthesize(text="hello", voice=SynthesizeVoice(language="tlh")).event(), "voice_not_found"),
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


async def raw_exchange(port: int, lines: list[bytes]) -> tuple[list[Event], bool]:
    """Write raw bytes (a broken client); read events until EOF or 5 s of silence.
    Returns the events and whether the server closed the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"".join(lines))
        await writer.drain()
        got: list[Event] = []
        while True:
            try:
                event = await asyncio.wait_for(async_read_event(reader), 5)
            except TimeoutError:
                return got, False
            if event is None:
                return got, True
            got.append(event)
            if event.type == "info":
                return got, False
    finally:
        writer.close()


def line(obj: object) -> bytes:
    return json.dumps(obj).encode() + b"\n"


DESCRIBE = line({"type": "describe"})


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "synthesize", "data": {"text": 123}},
        {"type": "synthesize"},
        {"type": "synthesize", "data": {"text": "hello", "voice": "en_test"}},
        {"type": "synthesize", "data": {"text": "hello", "voice": {"name": 5}}},
        {"type": "synthesize-start", "data": {"voice": [1]}},
        {"type": "synthesize-chunk", "data": {"text": "no start before it"}},
        {"type": "synthesize-stop"},
    ],
)
def test_an_invalid_event_gets_an_error_and_the_connection_stays_usable(
    served: tuple[str, int], bad: dict[str, object]
) -> None:
    _, port = served
    got, closed = asyncio.run(raw_exchange(port, [line(bad), DESCRIBE]))
    assert [e.type for e in got] == ["error", "info"], got
    assert Error.from_event(got[0]).code == "invalid_request"
    assert not closed


@pytest.mark.parametrize(
    "raw",
    [
        b"this is not json\n",
        b'["type", "describe"]\n',
        line({"data": {"text": "no type"}}),
        line({"type": "describe", "data": 5}),
        line({"type": "synthesize", "data_length": "ten"}),
        line({"type": "synthesize", "data_length": 1 << 30}),  # never read into memory
        line({"type": "synthesize", "data_length": 4}) + b"[1]\n",
        b"{" + b" " * 70_000 + b"}\n",  # a header line over 64 KiB
    ],
)
def test_broken_framing_gets_an_error_then_the_connection_closes(served: tuple[str, int], raw: bytes) -> None:
    _, port = served
    got, closed = asyncio.run(raw_exchange(port, [raw]))
    assert [(e.type, e.data.get("code")) for e in got] == [("error", "invalid_request")]
    assert closed


def test_a_second_synthesize_start_is_refused_and_the_open_stream_goes_on(served: tuple[str, int]) -> None:
    url, port = served
    voice = SynthesizeVoice(name="zh_test")
    events = [
        SynthesizeStart(voice=voice).event(),
        SynthesizeChunk(text="你好，欢迎使用").event(),
        SynthesizeStart(voice=SynthesizeVoice(name="en_test")).event(),
        SynthesizeChunk(text="语音网关。今天").event(),
        SynthesizeStart(voice=voice).event(),
        SynthesizeChunk(text="天气很好。").event(),
        SynthesizeStop().event(),
    ]
    got = asyncio.run(exchange(port, events, until=("synthesize-stopped",)))
    errors = [Error.from_event(e) for e in got if Error.is_type(e.type)]
    assert [e.code for e in errors] == ["invalid_request", "invalid_request"]
    pcm, rate = audio_of(got)  # one audio-start, one audio-stop: the first stream, whole
    assert len(pcm) / rate == pytest.approx(expected_duration(url, ZH), abs=0.05)
    # the connection is usable again: a new stream after synthesize-stopped
    again = asyncio.run(
        exchange(
            port,
            [*events[:2], SynthesizeChunk(text="语音网关。").event(), SynthesizeStop().event()],
            until=("synthesize-stopped",),
        )
    )
    assert not any(Error.is_type(e.type) for e in again)


def test_a_flood_of_starts_closes_the_connection_quietly(
    served: tuple[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    """One open stream, then MAX_MISTAKES more starts: that many error events, then the server
    closes; the open stream is cancelled cleanly (no task left, nothing logged above INFO) and
    only the first refusal is logged at INFO."""
    _, port = served
    caplog.set_level(logging.DEBUG)
    start = line(SynthesizeStart(voice=SynthesizeVoice(name="zh_test")).event().to_dict())
    got, closed = asyncio.run(raw_exchange(port, [start] * (MAX_MISTAKES + 1)))
    assert [e.data.get("code") for e in got] == ["invalid_request"] * MAX_MISTAKES
    assert closed
    got, _ = asyncio.run(raw_exchange(port, [DESCRIBE]))  # the server is fine
    assert [e.type for e in got] == ["info"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    info = [
        r.getMessage() for r in caplog.records if r.name == "ttsgate.wyoming" and r.levelno == logging.INFO
    ]
    assert len([m for m in info if "refused" in m]) == 1, info


def test_a_stream_over_the_input_limit_is_refused_and_ends_cleanly(served: tuple[str, int]) -> None:
    _, port = served
    events = [
        SynthesizeStart(voice=SynthesizeVoice(name="zh_test")).event(),
        SynthesizeChunk(text="你好。").event(),
        *[SynthesizeChunk(text="很长的文本。" * 100).event() for _ in range(8)],  # 4800 characters
        SynthesizeChunk(text="之后的文本被丢弃。").event(),
        SynthesizeStop().event(),
    ]
    got = asyncio.run(exchange(port, events, until=("synthesize-stopped",)))
    kinds = [e.type for e in got]
    assert [Error.from_event(e).code for e in got if Error.is_type(e.type)] == ["input_too_long"]
    assert kinds.count("audio-start") == kinds.count("audio-stop") <= 1
    assert kinds[-1] == "synthesize-stopped"
