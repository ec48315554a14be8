"""API keys, per-key rate limits (in process and shared through real Redis) and the WebSocket Origin
check, through a real server, the OpenAI SDK and the websockets client."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import openai
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.integration.redis_server import RedisServer, redis_server  # noqa: F401  (fixture)
from tests.integration.test_ws_speech import ws_url
from tests.support.audio import decode
from tests.support.metrics import total
from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

KEY, LIMITED = "sk-test-full-0123456789", "sk-test-limited-0123456789"
SPEECH = {"model": "tts-1", "input": "你好，世界。", "voice": "zh_test", "response_format": "pcm"}


def keys_file(tmp: Path) -> Path:
    path = tmp / "keys"
    path.write_text(f"{KEY} name=full\n{LIMITED} name=limited rpm=3 cpm=40\n")
    return path


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(cache="off", max_wait_ms=1.0, api_keys_file=keys_file(tmp_path_factory.mktemp("k")))
    with serve_app(create_app(settings, table=sine_table())) as url:
        yield url


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize("headers", [{}, auth("sk-wrong-0123456789abc"), {"Authorization": f"Basic {KEY}"}])
def test_missing_or_wrong_key_is_401_in_openais_shape(keyed: str, headers: dict[str, str]) -> None:
    r = httpx.post(f"{keyed}/v1/audio/speech", json=SPEECH, headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    error = r.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error",
        "invalid_api_key",
        "Authorization",
    )


def test_open_paths_need_no_key(keyed: str) -> None:
    for path in ("/health", "/ready", "/metrics", "/openapi.json", "/"):
        assert httpx.get(f"{keyed}{path}", follow_redirects=True).status_code == 200, path
    assert httpx.get(f"{keyed}/v1/audio/voices").status_code == 401


def test_openai_sdk_with_a_key_gets_audio_and_the_key_is_counted(keyed: str) -> None:
    client = openai.OpenAI(base_url=f"{keyed}/v1", api_key=KEY, max_retries=0)
    audio = client.audio.speech.create(
        model="tts-1", voice="zh_test", input="你好，世界。", response_format="pcm"
    )
    assert decode(audio.content, "pcm").duration_s > 0.3
    assert total(keyed, "ttsgate_key_requests_total", key="full") >= 1
    assert total(keyed, "ttsgate_key_requests_total", key="limited") == 0  # present from the start
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(
            base_url=f"{keyed}/v1", api_key="sk-nope-0123456789abcd", max_retries=0
        ).audio.speech.create(model="tts-1", voice="zh_test", input="你好")


def test_requests_per_minute_give_429_with_retry_after(keyed: str) -> None:
    statuses = [
        httpx.post(f"{keyed}/v1/audio/speech", json={**SPEECH, "input": "好"}, headers=auth(LIMITED))
        for _ in range(4)
    ]
    assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
    refused = statuses[3]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    client = openai.OpenAI(base_url=f"{keyed}/v1", api_key=LIMITED, max_retries=0)
    with pytest.raises(openai.RateLimitError):
        client.audio.speech.create(model="tts-1", voice="zh_test", input="好")
    assert httpx.post(f"{keyed}/v1/audio/speech", json=SPEECH, headers=auth(KEY)).status_code == 200


def test_limits_are_shared_by_replicas_through_redis(redis_server: RedisServer, tmp_path: Path) -> None:  # noqa: F811
    settings = Settings(cache=redis_server.url, max_wait_ms=1.0, api_keys_file=keys_file(tmp_path))
    with (
        serve_app(create_app(settings, table=sine_table())) as one,
        serve_app(create_app(settings, table=sine_table())) as two,
    ):
        codes = [
            httpx.post(
                f"{url}/v1/audio/speech", json={**SPEECH, "input": "好"}, headers=auth(LIMITED)
            ).status_code
            for url in (one, two, one, two)
        ]
    assert codes == [200, 200, 200, 429]


def test_characters_per_minute_count_the_input(keyed: str, tmp_path: Path) -> None:
    settings = Settings(cache="off", max_wait_ms=1.0, api_keys_file=keys_file(tmp_path))
    with serve_app(create_app(settings, table=sine_table())) as url:
        long = {**SPEECH, "input": "一二三四五六七八九十。" * 3}  # 33 characters of 40 per minute
        assert httpx.post(f"{url}/v1/audio/speech", json=long, headers=auth(LIMITED)).status_code == 200
        again = httpx.post(f"{url}/v1/audio/speech", json=long, headers=auth(LIMITED))
        assert again.status_code == 429
        assert "input characters" in again.json()["error"]["message"]


async def _ws_session(
    url: str, start: Mapping[str, object], **kw: object
) -> tuple[list[dict[str, object]], int]:
    events: list[dict[str, object]] = []
    async with connect(url, **kw) as ws:  # type: ignore[arg-type]
        with contextlib.suppress(ConnectionClosed):  # a refused start closes before the rest is sent
            await ws.send(json.dumps(start))
            await ws.send(json.dumps({"type": "text", "text": "你好。"}))
            await ws.send(json.dumps({"type": "close"}))
        with contextlib.suppress(ConnectionClosed):  # an error close ends the iteration with a raise
            async for msg in ws:
                if isinstance(msg, str):
                    events.append(json.loads(msg))
    assert ws.close_code is not None
    return events, ws.close_code


def test_websocket_key_in_header_query_or_start_message(keyed: str) -> None:
    start = {"type": "start", "voice": "zh_test", "response_format": "pcm"}
    base = ws_url(keyed)
    for url, message, kw in [
        (base, start, {"additional_headers": auth(KEY)}),
        (f"{base}?api_key={KEY}", start, {}),
        (base, {**start, "api_key": KEY}, {}),
    ]:
        events, code = asyncio.run(_ws_session(url, message, **kw))
        assert code == 1000, events
        assert events[-1]["type"] == "done"
    events, code = asyncio.run(_ws_session(base, start))
    assert code == 1008
    assert events[0]["type"] == "error"
    assert events[0]["error"]["code"] == "invalid_api_key"  # type: ignore[index]


@pytest.fixture(scope="module")
def open_server() -> Iterator[str]:
    settings = Settings(cache="off", max_wait_ms=1.0, allowed_origins="https://app.example.com")
    with serve_app(create_app(settings, table=sine_table())) as url:
        yield url


def test_websocket_origin_must_be_the_servers_own_or_allowed(open_server: str) -> None:
    start = {"type": "start", "voice": "zh_test", "response_format": "pcm"}
    url, host = ws_url(open_server), open_server.removeprefix("http://")
    for origin in (None, f"http://{host}", "https://app.example.com"):
        kw = {} if origin is None else {"origin": origin}
        _, code = asyncio.run(_ws_session(url, start, **kw))
        assert code == 1000, origin
    with pytest.raises(InvalidStatus) as refused:
        asyncio.run(_ws_session(url, start, origin="https://evil.example"))
    assert refused.value.response.status_code == 403


def test_an_empty_keys_setting_or_file_refuses_to_start(tmp_path: Path) -> None:
    empty = tmp_path / "keys"
    empty.write_text("# every key commented out\n# sk-old-0123456789abcdef\n")
    for settings in (Settings(cache="off", api_keys_file=empty), Settings(cache="off", api_keys=" , ")):
        with pytest.raises(ValueError, match="name no key"):
            create_app(settings, table=sine_table())


def test_refused_and_failed_requests_are_given_back(keyed: str) -> None:
    """A 400 costs no characters: the limited key (40 per minute) can still speak 30 after
    three 30-character requests for a voice that does not exist."""
    bad = {**SPEECH, "input": "一二三四五六七八九十" * 3, "voice": "nobody"}
    for _ in range(3):
        assert httpx.post(f"{keyed}/v1/audio/speech", json=bad, headers=auth(KEY)).status_code == 400
    assert total(keyed, "ttsgate_key_input_characters_total", key="full") >= 90  # counted, then refunded


def test_an_input_over_the_keys_whole_limit_is_a_400_not_a_429(tmp_path: Path) -> None:
    settings = Settings(cache="off", max_wait_ms=1.0, api_keys_file=keys_file(tmp_path))
    with serve_app(create_app(settings, table=sine_table())) as url:
        big = {**SPEECH, "input": "好" * 41}  # the limited key allows 40 characters per minute
        r = httpx.post(f"{url}/v1/audio/speech", json=big, headers=auth(LIMITED))
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "over_key_limit"
        bad = {**SPEECH, "input": "好" * 30, "voice": "nobody"}
        assert httpx.post(f"{url}/v1/audio/speech", json=bad, headers=auth(LIMITED)).status_code == 400
        ok = {**SPEECH, "input": "好" * 30}  # the 400s above were given back
        assert httpx.post(f"{url}/v1/audio/speech", json=ok, headers=auth(LIMITED)).status_code == 200


def test_a_hash_inside_a_key_is_part_of_the_key(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("sk-team-alpha-7f3c#9e1d0a2b name=alpha  # comment\n")
    settings = Settings(cache="off", max_wait_ms=1.0, api_keys_file=keys)
    with serve_app(create_app(settings, table=sine_table())) as url:
        good = httpx.post(f"{url}/v1/audio/speech", json=SPEECH, headers=auth("sk-team-alpha-7f3c#9e1d0a2b"))
        assert good.status_code == 200
        prefix = httpx.post(f"{url}/v1/audio/speech", json=SPEECH, headers=auth("sk-team-alpha-7f3c"))
        assert prefix.status_code == 401


def test_browser_rules_host_and_cross_site(open_server: str) -> None:
    """DNS rebinding (a foreign Host on a loopback server) and a cross-site <audio src> are refused;
    the server's own names and non-browser clients are not."""
    port = open_server.rsplit(":", 1)[1]
    tts = f"{open_server}/tts?text=你好&voice_id=zh_test&format=wav"
    assert httpx.get(tts, headers={"Host": f"localhost:{port}"}).status_code == 200
    rebound = httpx.get(tts, headers={"Host": f"attacker.example:{port}"})
    assert rebound.status_code == 400
    assert rebound.json()["error"]["param"] == "Host"
    cross = httpx.get(tts, headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "audio"})
    assert cross.status_code == 403
    assert cross.json()["error"]["code"] == "origin_not_allowed"
    allowed = {"Sec-Fetch-Site": "cross-site", "Origin": "https://app.example.com"}
    assert httpx.get(tts, headers=allowed).status_code == 200
    assert httpx.get(tts, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200


def test_websocket_over_its_limit_gets_an_error_event_and_1013(tmp_path: Path) -> None:
    settings = Settings(cache="off", max_wait_ms=1.0, api_keys_file=keys_file(tmp_path))
    start = {"type": "start", "voice": "zh_test", "response_format": "pcm"}
    with serve_app(create_app(settings, table=sine_table())) as url:
        for _ in range(3):
            httpx.get(f"{url}/v1/audio/voices", headers=auth(LIMITED))
        events, code = asyncio.run(_ws_session(ws_url(url), start, additional_headers=auth(LIMITED)))
    assert code == 1013
    assert events[0]["error"]["code"] == "rate_limit_exceeded"  # type: ignore[index]
