"""``ttsgate bench stream`` end to end: against the sine server (``openai`` as pcm, ``tts`` as WAV),
and against a Wyoming server built from the ``wyoming`` library's own server classes (the capacity
search and an overload level, quickly: it answers at once)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.tables import ZH_CHAR_S
from ttsgate.cli import main


def _run(args: list[str], out: Path) -> dict[str, Any]:
    assert main(["bench", "stream", "--no-progress", "--out", str(out), *args]) == 0
    data: dict[str, Any] = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return data


def test_stream_levels_against_sine(
    sine_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "stream"
    data = _run(
        [
            *("--voice", "zh_test", "--concurrency", "1,2", "--spread", "0.2"),
            *("--target", f"gate=openai:{sine_url}", "--target", f"seed=tts:{sine_url}"),
        ],
        out,
    )
    printed = capsys.readouterr().out
    assert "| gate | c=2 | 2 | 2 | 0 | 0 |" in printed
    assert "| seed | c=2 | 2 | 2 | 0 | 0 |" in printed
    levels = {(lv["target"], lv["phase"]): lv for lv in data["levels"]}
    assert set(levels) == {(t, p) for t in ("gate", "seed") for p in ("c=1", "c=2")}
    for lv in levels.values():
        assert lv["started"] == lv["accepted"] == lv["ok"] == lv["n"]
        assert lv["refused"] == 0
        assert lv["errors"] == {}
        assert 0 < lv["ttfa"]["p50"] <= lv["ttfa"]["max"] < 1.5
        assert lv["stalled"] == 0
        assert lv["speech_per_s"] > 1
    assert levels[("gate", "c=1")]["worst_stall_s"] == 0.0  # a lone sine stream never stalls
    streams = [s for s in data["streams"] if s["phase"] != "reference"]
    assert len(streams) == 2 * 3
    for s in streams:
        assert s["outcome"] == "ok"
        assert s["sample_rate"] == 24_000
        # the built-in Mandarin paragraph (zh_test is a Chinese voice), ZH_CHAR_S per spoken character;
        # every stream's counter is as long as the reference's
        assert 100 * ZH_CHAR_S < s["audio_s"] == pytest.approx(s["expected_s"], abs=0.01)
        assert s["audio_s"] == pytest.approx(sum(d for _, d in s["arrivals"]), rel=1e-3)
        assert s["arrivals"][0][0] == pytest.approx(s["ttfa_s"], abs=1e-3)
    texts = [s for s in data["streams"] if s["target"] == "gate"]
    assert len({(s["chars"], s["start_s"]) for s in texts}) == len(texts)
    for png in ("levels.png", "ttfa_cdf.png"):
        assert (out / png).stat().st_size > 1000
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Concurrency levels" in report
    assert "Command: `ttsgate " in report


# -- a Wyoming server ------------------------------------------------------------------------

RATE = 16_000
EN_CHAR_S = 0.05


@pytest.fixture
def wyoming_server() -> Iterator[tuple[str, list[str]]]:
    """A Wyoming TTS server (the library's AsyncTcpServer) answering each ``synthesize`` with
    EN_CHAR_S of silence per character, a sentence at a time in 1024-sample chunks; yields its URI
    and the voice names it was asked for."""
    wyoming_server = pytest.importorskip("wyoming.server")
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.event import Event
    from wyoming.tts import Synthesize

    voices: list[str] = []

    class Handler(wyoming_server.AsyncEventHandler):  # type: ignore[misc]
        async def handle_event(self, event: Event) -> bool:
            if not Synthesize.is_type(event.type):
                return True
            syn = Synthesize.from_event(event)
            voices.append(syn.voice.name if syn.voice else "")
            await self.write_event(AudioStart(rate=RATE, width=2, channels=1).event())
            for sentence in syn.text.split(". "):
                await asyncio.sleep(0.005)
                audio = bytes(2 * round(RATE * EN_CHAR_S * len(sentence)))
                for i in range(0, len(audio), 2048):
                    await self.write_event(
                        AudioChunk(rate=RATE, width=2, channels=1, audio=audio[i : i + 2048]).event()
                    )
            await self.write_event(AudioStop().event())
            return True

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    loop = asyncio.new_event_loop()
    server = wyoming_server.AsyncTcpServer("127.0.0.1", port)
    loop.run_until_complete(server.start(Handler))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{port}", voices
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


def test_stream_capacity_and_overload_against_wyoming(
    wyoming_server: tuple[str, list[str]], tmp_path: Path
) -> None:
    uri, voices = wyoming_server
    out = tmp_path / "wy"
    data = _run(
        [
            *("--capacity", "--max-concurrency", "4", "--overload", "2", "--spread", "0.1", "--same-start"),
            *("--target", f"wy=wyoming:{uri}", "--wyoming-voice", "joe", "--ttfa-target", "1.0"),
        ],
        out,
    )
    assert data["capacity"] == {"wy": {"capacity": 4, "tried": [[1, True], [2, True], [4, True]]}}
    assert [(lv["mode"], lv["n"], lv["passed"]) for lv in data["levels"]] == [
        ("search", 1, True),
        ("search", 2, True),
        ("search", 4, True),
        ("overload", 8, True),
    ]
    assert set(voices) == {"joe"}
    assert len(voices) == 1 + 1 + 2 + 4 + 8  # the reference stream, then the levels
    streams = data["streams"]
    for s in streams:
        assert s["outcome"] == "ok"
        assert s["sample_rate"] == RATE
        assert s["ttfa_s"] > 0
        assert s["audio_s"] > 5
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| wy | 4 | 1✓ 2✓ 4✓ |" in report
    assert "## Overload (N × capacity)" in report
    assert "after the same first sentence ('Sure, here is the short version.')" in report
