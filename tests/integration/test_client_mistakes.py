"""Client mistakes are refused before any engine work, named by their field, and never counted or
logged as engine failures; metrics exist at 0 from the start; long text work runs off the loop."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.integration.test_ws_speech import ws_url
from tests.support.metrics import scrape, total
from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app
from ttsgate.voices import VoiceTable

TEXTS = ["Hello there.", "你好，世界。", "我用iPhone拍照。"]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("language", ["xx", "fr", "qq-abc"])
def test_unknown_language_is_a_400_naming_language(
    sine_url: str, text: str, language: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = total(sine_url, "ttsgate_segments_synthesized_total")
    errors_before = total(sine_url, "ttsgate_engine_errors_total")  # the server is shared by many tests
    with caplog.at_level(logging.WARNING):
        r = httpx.post(
            f"{sine_url}/v1/audio/speech", json={"input": text, "voice": "alloy", "language": language}
        )
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["param"] == "language"
    assert err["code"] == "unsupported_language"
    assert repr(language) in err["message"]
    assert "yue" in err["message"]  # says what is known
    assert total(sine_url, "ttsgate_segments_synthesized_total") == before  # no engine work
    assert total(sine_url, "ttsgate_engine_errors_total") == errors_before
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/tts?text=hello&language=xx", None),
        ("POST", "/v1/audio/subtitles", {"input": "你好。", "voice": "zh_test", "language": "xx"}),
        ("POST", "/v1/chat/speech", {"messages": [{"role": "user", "content": "hi"}], "language": "xx"}),
    ],
)
def test_every_speaking_route_applies_the_language_rule(
    sine_url: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    r = httpx.request(method, sine_url + path, json=body)
    assert r.status_code == 400  # the chat route answers before asking any LLM (none runs here)
    assert r.json()["error"]["param"] == "language"


async def test_websocket_applies_the_language_rule(sine_url: str) -> None:
    async with connect(ws_url(sine_url)) as ws:
        await ws.send(json.dumps({"type": "start", "voice": "zh_test", "language": "xx"}))
        events = []
        try:
            while True:
                events.append(json.loads(await ws.recv()))
        except ConnectionClosed:
            pass
    assert ws.close_code == 1008
    assert events[-1]["error"]["param"] == "language"


@pytest.mark.parametrize(
    ("text", "language"),
    [("你好。", "yue"), ("Hello.", "en"), ("你好。", "zh"), ("Hello.", "EN"), ("你好。", "zh-Hant"),
     ("你好。", "yue-HK"), ("你好。", "ZH-hans-CN"), ("Hello.", "en-GB")],
)  # fmt: skip
def test_known_languages_are_spoken(sine_url: str, text: str, language: str) -> None:
    body = {"input": text, "voice": "alloy", "language": language, "response_format": "wav"}
    assert httpx.post(f"{sine_url}/v1/audio/speech", json=body).status_code == 200


def test_a_language_tag_is_case_insensitive_in_a_query_too(sine_url: str) -> None:
    r = httpx.get(f"{sine_url}/tts", params={"text": "你好。", "voice_id": "zh_test", "language": "YUE-hk"})
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def espeak_url() -> Iterator[str]:
    """Sine voices plus the real espeak-ng engine as the fallback (what an unrouted language gets)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    base = sine_table()
    table = VoiceTable.from_mapping(
        {
            "engines": {
                **{n: {"kind": s.kind, **s.options} for n, s in base.engines.items()},
                "espeak": {"kind": "espeak"},
            },
            "voices": {
                v.id: {"engine": v.engine, "language": v.language, "speaker": v.speaker, "name": v.name}
                for v in base.voices.values()
            },
            "languages": base.languages,
            "aliases": base.aliases,
            "fallback": {"engine": "espeak"},
        }
    )
    with serve_app(create_app(Settings(cache="off"), table=table)) as url:
        yield url


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"input": "Bonjour.", "voice": "en_test", "language": "xx"}, 400, "language"),
        ({"input": "你好。", "voice": "zh_test", "language": "xx"}, 400, "language"),
        ({"input": "Bonjour.", "voice": "espeak:xx"}, 400, "voice"),
        ({"input": "Bonjour.", "voice": "en_test", "language": "fr"}, 200, None),
        ({"input": "Bonjour.", "voice": "espeak:fr"}, 200, None),
        ({"input": "Bonjour.", "voice": "en_test", "language": "FR"}, 200, None),
        ({"input": "Hello.", "voice": "espeak:en-GB-x-rp"}, 200, None),
        ({"input": "Hello.", "voice": "en_test", "language": "en-GB-x-rp"}, 200, None),
    ],
)
def test_fallback_engine_decides_what_it_speaks(
    espeak_url: str, body: dict[str, Any], status: int, param: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        r = httpx.post(f"{espeak_url}/v1/audio/speech", json={**body, "response_format": "wav"}, timeout=30)
    assert r.status_code == status, r.text[:300]
    if param is not None:
        assert r.json()["error"]["param"] == param
    assert total(espeak_url, "ttsgate_engine_errors_total") == 0
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]


def test_labelled_metrics_exist_at_zero_from_the_start() -> None:
    settings = Settings(cache="memory")
    with serve_app(create_app(settings, table=sine_table())) as url:
        samples = {(n, tuple(sorted(lab.items()))): v for n, lab, v in scrape(url)}
    for engine in ("sine-zh", "sine-en"):
        for name in (
            "ttsgate_segments_synthesized_total",
            "ttsgate_engine_errors_total",
            "ttsgate_deadline_misses_total",
            "ttsgate_audio_seconds_total",
            "ttsgate_batch_size_count",
            "ttsgate_queue_wait_seconds_count",
        ):
            assert samples[(name, (("engine", engine),))] == 0, name
    for reason in ("realtime", "queue_full", "queue_wait", "memory"):
        assert samples[("ttsgate_rejected_total", (("reason", reason),))] == 0
    for result in ("hit", "miss"):
        assert ("ttsgate_cache_requests_total", (("backend", "memory"), ("result", result))) in samples
    assert samples[("ttsgate_time_to_first_audio_seconds_count", (("route", "/v1/audio/speech"),))] == 0


def test_normalize_has_the_speech_input_limit(sine_url: str) -> None:
    r = httpx.post(f"{sine_url}/v1/text/normalize", json={"input": "一" * 4097})
    assert r.status_code == 400
    err = r.json()["error"]
    assert (err["param"], err["code"]) == ("input", "input_too_long")
    assert "4096" in err["message"]
    assert httpx.post(f"{sine_url}/v1/text/normalize", json={"input": "一" * 4096}).status_code == 200


@pytest.fixture
def text_threads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """Records (characters, ran on the event loop's thread) for every text preparation."""
    import ttsgate.llm.segments as segments
    import ttsgate.server.routes_meta as routes_meta
    from ttsgate.pipeline import SpeechPipeline

    seen: list[tuple[int, bool]] = []

    def on_loop() -> bool:
        try:
            asyncio.get_running_loop()  # a worker thread has no running loop
            return True
        except RuntimeError:
            return False

    real_prepare, real_plan = routes_meta.prepare, SpeechPipeline.plan

    def prepare(text: str, *args: Any, **kwargs: Any) -> Any:
        seen.append((len(text), on_loop()))
        return real_prepare(text, *args, **kwargs)

    def plan(self: SpeechPipeline, text: str, *args: Any, **kwargs: Any) -> Any:
        seen.append((len(text), on_loop()))
        return real_plan(self, text, *args, **kwargs)

    monkeypatch.setattr(routes_meta, "prepare", prepare)
    monkeypatch.setattr(segments, "prepare", prepare)
    monkeypatch.setattr(SpeechPipeline, "plan", plan)
    return seen


LONG = "今天是2026年11月23日，气温零下3度。" * 60  # ~1300 characters


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/text/normalize", {"input": LONG}),
        ("/v1/audio/subtitles", {"input": LONG, "voice": "zh_test", "subtitle_format": "json"}),
        ("/v1/audio/speech", {"input": LONG, "voice": "zh_test", "response_format": "pcm"}),
    ],
)
def test_long_text_is_prepared_off_the_event_loop(
    sine_url: str, text_threads: list[tuple[int, bool]], path: str, body: dict[str, Any]
) -> None:
    r = httpx.post(sine_url + path, json=body, timeout=60)
    assert r.status_code == 200, r.text[:300]
    long_runs = [on_loop for n, on_loop in text_threads if n > 256]
    assert long_runs
    assert not any(long_runs)


def test_short_text_is_prepared_inline(sine_url: str, text_threads: list[tuple[int, bool]]) -> None:
    assert httpx.post(f"{sine_url}/v1/text/normalize", json={"input": "你好。"}).status_code == 200
    assert text_threads == [(3, True)]
