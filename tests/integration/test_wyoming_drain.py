"""SIGTERM drains Wyoming requests too: a real ``ttsgate serve`` process with ``TTSGATE_WYOMING_URI``,
a long ``synthesize`` and a streamed request in flight when the signal comes (as
test_rolling_restart.py's HTTP and WebSocket drain test)."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeVoice

from tests.integration.redis_server import free_port
from tests.integration.test_api_speech import expected_duration
from tests.integration.test_rolling_restart import CHAR_S, VOICES, Replica
from tests.integration.test_wyoming import audio_of, exchange

pytestmark = pytest.mark.slow

VOICE = SynthesizeVoice(name="zh_test")


@pytest.fixture
def replica(tmp_path: Path) -> Iterator[tuple[Replica, int]]:
    """(a served replica whose sine engine takes 1 s per segment, its Wyoming port)."""
    voices = tmp_path / "voices.toml"
    voices.write_text(VOICES.format(char_s=CHAR_S, delay_s=1.0))
    wyoming_port = free_port()
    env = {**os.environ, "TTSGATE_VOICES_FILE": str(voices), "TTSGATE_CACHE": "off"}
    env |= {"TTSGATE_SHUTDOWN_GRACE_S": "40", "TTSGATE_REALTIME_ADMISSION": "false"}
    env["TTSGATE_WYOMING_URI"] = f"tcp://127.0.0.1:{wyoming_port}"
    one = Replica(free_port(), env, tmp_path / "replica.log")
    one.start()
    try:
        yield one, wyoming_port
    finally:
        if one.proc is not None and one.proc.poll() is None:
            one.proc.kill()
            one.proc.wait()


async def streamed(port: int, first: str, later: list[str], later_after: threading.Event) -> list[Event]:
    """synthesize-start and ``first``; after ``later_after``, the other chunks and synthesize-stop."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(SynthesizeStart(voice=VOICE).event())
        await client.write_event(SynthesizeChunk(text=first).event())
        await asyncio.to_thread(later_after.wait, 30)
        for text in later:
            await client.write_event(SynthesizeChunk(text=text).event())
        await client.write_event(SynthesizeStop().event())
        got: list[Event] = []
        while (event := await asyncio.wait_for(client.read_event(), 60)) is not None:
            got.append(event)
            if event.type == "synthesize-stopped":
                break
        return got


def in_thread(
    results: list[tuple[list[Event], float]], make: Callable[[], Coroutine[Any, Any, list[Event]]]
) -> threading.Thread:
    """Run ``make()`` in a thread; append (its events, when it ended) to ``results``."""
    thread = threading.Thread(target=lambda: results.append((asyncio.run(make()), time.monotonic())))
    thread.start()
    return thread


def test_sigterm_drains_wyoming_requests_and_refuses_new_ones(replica: tuple[Replica, int]) -> None:
    one, port = replica
    long_text = "".join(f"这是第{k}句话。" for k in "一二三四五六七八九十百千")  # 12 segments × 1 s
    pieces = ["会话的第一句话。", "信号之后的第二句话。", "还有第三句话。"]
    want_long, want_stream = (
        expected_duration(one.url, long_text),
        expected_duration(one.url, "".join(pieces)),
    )
    signalled = threading.Event()
    long_got: list[tuple[list[Event], float]] = []
    stream_got: list[tuple[list[Event], float]] = []
    synth = Synthesize(text=long_text, voice=VOICE).event()
    threads = [
        in_thread(long_got, lambda: exchange(port, [synth], until=("audio-stop", "error"))),
        in_thread(stream_got, lambda: streamed(port, pieces[0], pieces[1:], signalled)),
    ]
    time.sleep(1.0)
    assert one.proc is not None
    began = time.monotonic()
    one.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    signalled.set()

    # New requests on a new connection: refused with code "draining"; describe still answers.
    new = Synthesize(text="新的请求。", voice=VOICE).event()
    got = asyncio.run(exchange(port, [new, Describe().event()], until=("info",)))
    assert [e.type for e in got] == ["error", "info"]
    assert Error.from_event(got[0]).code == "draining"
    refused_stream = [SynthesizeStart(voice=VOICE).event(), SynthesizeChunk(text="新的。").event()]
    got = asyncio.run(
        exchange(port, [*refused_stream, SynthesizeStop().event()], until=("synthesize-stopped",))
    )
    assert [(e.type, e.data.get("code")) for e in got] == [
        ("error", "draining"),
        ("synthesize-stopped", None),
    ]

    for thread in threads:
        thread.join(timeout=60)
    # uvicorn raises the captured SIGTERM again once it has shut down (the status systemd expects)
    assert one.proc.wait(timeout=60) in (0, -signal.SIGTERM)
    exited = time.monotonic()
    ((long_events, long_end),) = long_got
    ((stream_events, stream_end),) = stream_got
    assert exited - began > 5, "the long request outlived uvicorn's own 5 s shutdown timeout"
    assert exited - max(long_end, stream_end) < 3, "the drain ends when the last request has"
    pcm, rate = audio_of(long_events)  # all of it, and audio-stop
    assert len(pcm) / rate == pytest.approx(want_long, abs=0.02)
    assert stream_events[-1].type == "synthesize-stopped"
    pcm, rate = audio_of(stream_events)
    assert len(pcm) / rate == pytest.approx(want_stream, abs=0.05)
