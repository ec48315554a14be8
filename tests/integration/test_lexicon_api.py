"""The pronunciation lexicon through a real server (sine voices: a segment's duration is its text's
length, readings included): the per-request field and its 400s on every speaking route, the file
reloaded without a restart, /v1/text/normalize, and the cache never serving an old reading."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.audio import decode
from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

FILE = "# test lexicon\n乐清\tzh\tyue4 qing1\nkubectl\ten\tcube control\n"


def write(path: Path, text: str) -> None:
    """Write and move the mtime forward, so that a change is seen even on a coarse clock."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, "utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, max(st.st_mtime_ns, before + 10_000_000)))


@pytest.fixture(scope="module")
def lexicon_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lexicon") / "lexicon.tsv"
    write(path, FILE)
    return path


@pytest.fixture(scope="module")
def url(lexicon_file: Path) -> Iterator[str]:
    """Sine voices, the memory cache on (so a stale reading would show), the lexicon file above."""
    settings = Settings(cache="memory", max_wait_ms=2.0, lexicon_file=lexicon_file)
    with serve_app(create_app(settings, table=sine_table())) as base:
        yield base


@pytest.fixture(autouse=True)
def _restore(lexicon_file: Path) -> None:
    write(lexicon_file, FILE)


def normalize(url: str, text: str, lexicon: dict[str, str] | None = None, lang: str = "zh") -> dict[str, Any]:
    body: dict[str, Any] = {"input": text, "lang": lang}
    if lexicon is not None:
        body["lexicon"] = lexicon
    r = httpx.post(f"{url}/v1/text/normalize", json=body)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def speak(url: str, text: str, lexicon: dict[str, str] | None = None) -> tuple[float, str]:
    body: dict[str, Any] = {"input": text, "voice": "zh_test", "response_format": "pcm"}
    if lexicon is not None:
        body["lexicon"] = lexicon
    r = httpx.post(f"{url}/v1/audio/speech", json=body)
    assert r.status_code == 200, r.text
    return decode(r.content, "pcm").duration_s, r.headers.get("x-cache", "miss")


def test_normalize_shows_the_file_and_request_entries_applied(url: str) -> None:
    got = normalize(url, "我用kubectl去乐清，找曾国藩。", {"曾国藩": "zeng1 guo2 fan1"})
    assert got["normalized"] == "我用cube control去乐清，找曾国藩。"
    assert got["spoken"] == "我用cube control去{乐清|yue4 qing1}，找{曾国藩|zeng1 guo2 fan1}。"
    applied = [
        (e["word"], e["language"], e["kind"], e["reading"], e["source"]) for e in got["lexicon"]["applied"]
    ]
    assert applied == [
        ("kubectl", "en", "respelling", "cube control", "file"),
        ("乐清", "zh", "pinyin", "yue4 qing1", "file"),
        ("曾国藩", "zh", "pinyin", "zeng1 guo2 fan1", "request"),
    ]
    runs = [(r["language"], r["text"]) for s in got["segments"] for r in s["runs"]]
    assert runs[:3] == [("zh", "我用"), ("en", "cube control"), ("zh", "去乐清，")]


def test_the_file_is_reloaded_without_a_restart(url: str, lexicon_file: Path) -> None:
    before = normalize(url, "我去乐清。")
    assert before["spoken"] == "我去{乐清|yue4 qing1}。"
    write(lexicon_file, "乐清\tle4 qing1\n")
    after = normalize(url, "我去乐清。")
    assert after["spoken"] == "我去{乐清|le4 qing1}。"
    assert after["lexicon"]["version"] != before["lexicon"]["version"]


def test_a_broken_file_edit_keeps_serving_the_last_good_lexicon(url: str, lexicon_file: Path) -> None:
    write(lexicon_file, "乐清\tle4 qing1\n")
    assert normalize(url, "乐清")["spoken"] == "{乐清|le4 qing1}"
    write(lexicon_file, "乐清\tle4\n")  # one syllable for two characters
    assert normalize(url, "乐清")["spoken"] == "{乐清|le4 qing1}"
    duration, _ = speak(url, "我去乐清。")
    assert duration > 0


def test_a_changed_reading_is_never_served_from_the_cache(url: str, lexicon_file: Path) -> None:
    text = "下周我们去乐清开会。"
    plain, _ = speak(url, text, {"乐清": "yue4 qing1"})
    again, cache = speak(url, text, {"乐清": "yue4 qing1"})
    assert (again, cache) == (plain, "hit")  # the same reading: one lookup
    other, cache = speak(url, text, {"乐清": "le4 qing1"})  # one letter shorter: 0.06 s less
    assert cache != "hit"
    assert other == pytest.approx(plain - 0.06, abs=0.002)
    write(lexicon_file, "乐清\tle4 qing1\n")  # the file now says le4; the request says nothing
    from_file, _ = speak(url, text)  # may be a hit: the same audio as the request's le4 above
    assert from_file == pytest.approx(other, abs=0.002)
    write(lexicon_file, "乐清\tyue4 qing1\n")
    back, _ = speak(url, text)
    assert back == pytest.approx(plain, abs=0.002)


BAD = {"乐清": "yue4"}
WHY = "lexicon: '乐清': 1 pinyin syllables for 2 Han characters"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/audio/speech", {"input": "我去乐清。", "voice": "zh_test", "lexicon": BAD}),
        ("/v1/audio/subtitles", {"input": "我去乐清。", "voice": "zh_test", "lexicon": BAD}),
        ("/v1/chat/speech", {"messages": [{"role": "user", "content": "hi"}], "lexicon": BAD}),
        ("/api/chatts", {"prompt": "我去乐清。", "lexicon": BAD}),
        ("/v1/text/normalize", {"input": "我去乐清。", "lexicon": BAD}),
    ],
)
def test_a_bad_request_entry_is_a_400_naming_lexicon(url: str, path: str, body: dict[str, Any]) -> None:
    r = httpx.post(f"{url}{path}", json=body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert (error["param"], error["code"], error["type"]) == (
        "lexicon",
        "invalid_lexicon",
        "invalid_request_error",
    )
    assert error["message"].startswith(WHY)


@pytest.mark.parametrize(
    ("entries", "why"),
    [
        ({f"词{i}": "ci2 x" for i in range(201)}, "lexicon: 201 entries; the limit is 200"),
        ({"长" * 65: "chang2"}, "a word has 1 to 64 characters"),
        ({"乐清": "yue4 qing7"}, "'qing7' needs a tone digit 1-5"),
        ({"Nginx": "/ʁ/"}, "'ʁ' (U+0281) is not an English IPA symbol"),
        ({"乐清": 1}, "lexicon: '乐清': expected a string, got an integer"),
        ({"乐清": None}, "lexicon: '乐清': expected a string, got null"),
    ],
)
def test_limits_are_named_in_the_400(url: str, entries: dict[str, str], why: str) -> None:
    body = {"input": "我去乐清。", "voice": "zh_test", "lexicon": entries}
    r = httpx.post(f"{url}/v1/audio/speech", json=body)
    assert r.status_code == 400
    assert (r.json()["error"]["param"], r.json()["error"]["code"]) == ("lexicon", "invalid_lexicon")
    assert why in r.json()["error"]["message"]


def test_tts_takes_the_lexicon_as_a_json_query_parameter(url: str) -> None:
    def tts(lexicon: str) -> httpx.Response:
        params = {"text": "我去乐清。", "voice_id": "zh_test", "response_format": "pcm", "lexicon": lexicon}
        return httpx.get(f"{url}/tts", params=params)

    short, long = tts(json.dumps({"乐清": "le4 qing1"})), tts(json.dumps({"乐清": "yue4 qing1"}))
    assert short.status_code == long.status_code == 200
    assert decode(long.content, "pcm").duration_s - decode(short.content, "pcm").duration_s == pytest.approx(
        0.06, abs=0.002
    )
    for bad, why in (("not json", "must be a JSON object of strings"), (json.dumps(BAD), WHY)):
        r = tts(bad)
        assert r.status_code == 400
        assert r.json()["error"]["param"] == "lexicon"
        assert why in r.json()["error"]["message"]


async def test_websocket_start_takes_a_lexicon_and_refuses_a_bad_one(url: str) -> None:
    ws_url = url.replace("http://", "ws://") + "/v1/audio/speech/ws"

    async def session(lexicon: dict[str, str]) -> tuple[list[Any], int]:
        got: list[Any] = []
        async with connect(ws_url) as ws:
            start = {"type": "start", "voice": "zh_test", "response_format": "pcm", "lexicon": lexicon}
            await ws.send(json.dumps(start))
            await ws.send(json.dumps({"type": "text", "text": "我去乐清。"}))
            await ws.send(json.dumps({"type": "close"}))
            try:
                async for msg in ws:
                    got.append(msg if isinstance(msg, bytes) else json.loads(msg))
            except ConnectionClosed:
                pass
        assert ws.close_code is not None
        return got, ws.close_code

    got, code = await session(BAD)
    assert code == 1008
    assert got[-1]["type"] == "error"
    assert got[-1]["error"]["param"] == "lexicon"
    lengths = {}
    for reading in ("le4 qing1", "yue4 qing1"):
        got, code = await session({"乐清": reading})
        assert code == 1000
        lengths[reading] = decode(b"".join(m for m in got if isinstance(m, bytes)), "pcm").duration_s
    assert lengths["yue4 qing1"] - lengths["le4 qing1"] == pytest.approx(0.06, abs=0.002)
