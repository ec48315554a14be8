"""The OpenAI Python SDK unmodified, ttsgate's own clients, and the CLI, against a real server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openai
import pytest

from tests.integration.test_api_speech import expected_duration
from tests.support.audio import decode
from ttsgate import AsyncClient, Client
from ttsgate.exceptions import InvalidRequestError, UpstreamUnavailableError, VoiceNotFoundError

FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_openai_sdk_create_and_streaming_response(sine_url: str, fmt: str) -> None:
    client = openai.OpenAI(base_url=f"{sine_url}/v1", api_key="unused")
    resp = client.audio.speech.create(model="tts-1", voice="alloy", input="你好世界。", response_format=fmt)
    audio = decode(resp.content, fmt)
    # mp3/aac decode with the encoder's priming and frame padding (< 0.1 s) on top of the speech
    assert audio.duration_s == pytest.approx(expected_duration(sine_url, "你好世界。"), abs=0.1)
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input="你好世界。", response_format=fmt
    ) as streamed:
        data = b"".join(streamed.iter_bytes())
    assert decode(data, fmt).duration_s == pytest.approx(audio.duration_s, abs=0.001)


def test_openai_sdk_sees_openai_errors(sine_url: str) -> None:
    client = openai.OpenAI(base_url=f"{sine_url}/v1", api_key="unused")
    with pytest.raises(openai.BadRequestError) as info:
        client.audio.speech.create(model="tts-1", voice="nosuch", input="hi")  # type: ignore[arg-type]
    assert "valid voices" in str(info.value)


def test_sync_client_roundtrip_and_errors(sine_url: str, tmp_path: Path) -> None:
    with Client(sine_url) as client:
        n = client.save(tmp_path / "a.wav", "你好世界", voice="zh_test", response_format="wav")
        assert n > 1000
        assert decode((tmp_path / "a.wav").read_bytes(), "wav").duration_s == pytest.approx(0.24, abs=0.01)
        assert any(v["id"] == "alloy" for v in client.voices())
        with pytest.raises(VoiceNotFoundError) as info:
            client.speech("hi", voice="nosuch")
        assert info.value.param == "voice"
        with pytest.raises(InvalidRequestError):
            client.speech("hi", speed=9)


async def test_async_client_streams_chunks(sine_url: str) -> None:
    async with AsyncClient(sine_url) as client:
        chunks = [
            c async for c in client.stream_speech("你好。世界。", voice="zh_test", response_format="pcm")
        ]
        assert len(b"".join(chunks)) > 0
        with pytest.raises(InvalidRequestError) as info:
            await client.speech("", voice="zh_test")
        assert info.value.param == "input"


def test_client_unreachable_server() -> None:
    with Client("http://127.0.0.1:9", timeout=2) as client, pytest.raises(UpstreamUnavailableError):
        client.voices()


def test_cli_say_and_voices(sine_url: str, tmp_path: Path) -> None:
    out = tmp_path / "x.flac"
    cli = [sys.executable, "-m", "ttsgate"]
    done = subprocess.run(
        [*cli, "say", "你好世界", "-o", str(out), "--voice", "zh_test", "--url", sine_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert decode(out.read_bytes(), "flac").duration_s == pytest.approx(0.24, abs=0.01)
    bad = subprocess.run(
        [*cli, "say", "hi", "-o", str(out), "--voice", "nosuch", "--url", sine_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1
    assert "VoiceNotFoundError" in bad.stderr
    listed = subprocess.run([*cli, "voices", "--url", sine_url], capture_output=True, text=True, timeout=60)
    assert "zh_test" in listed.stdout


def test_cli_serve_help_lists_every_setting() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ttsgate", "serve", "--help"], capture_output=True, text=True
    )
    assert "TTSGATE_MAX_QUEUE" in done.stdout
    assert "TTSGATE_CACHE_TTL_S" in done.stdout


def test_cli_serve_rejects_bad_setting() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ttsgate", "serve"],
        capture_output=True,
        text=True,
        env={"TTSGATE_PORT": "notaport", "PATH": "/usr/bin"},
        timeout=60,
    )
    assert done.returncode == 2
    assert "TTSGATE_PORT" in done.stderr


def test_clients_retry_a_full_queue_after_retry_after() -> None:
    import asyncio
    import threading
    import time

    import httpx

    from tests.support.servers import serve_app
    from tests.support.tables import sine_table
    from ttsgate.config import Settings
    from ttsgate.exceptions import OverloadedError
    from ttsgate.server import create_app

    settings = Settings(cache="off", max_queue=1, max_batch_size=1, max_wait_ms=0.0, workers=1)
    with serve_app(create_app(settings, table=sine_table(delay_s=0.5))) as url:
        text = "第一句话。第二句话。第三句话。第四句话。"
        body = {"input": text, "voice": "zh_test", "response_format": "pcm"}
        with (
            httpx.Client(timeout=60) as http,
            http.stream("POST", f"{url}/v1/audio/speech", json=body) as held,
        ):
            assert held.status_code == 200  # its queued segments fill the bound for ~1 s more
            with Client(url) as impatient, pytest.raises(OverloadedError) as refused:
                impatient.speech("你好。", voice="zh_test", response_format="pcm")
            assert refused.value.retry_after_s >= 1
            released = threading.Thread(target=held.read)
            released.start()
            t0 = time.monotonic()
            with Client(url, retries=5, max_retry_wait_s=0.5) as patient:
                pcm = patient.speech("你好。", voice="zh_test", response_format="pcm")
            assert decode(pcm, "pcm").duration_s == pytest.approx(expected_duration(url, "你好。"), abs=0.01)
            assert time.monotonic() - t0 >= 0.4  # it waited (capped Retry-After) at least once
            released.join()

            async def async_retry() -> bytes:
                async with AsyncClient(url, retries=5, max_retry_wait_s=0.5) as client:
                    return await client.speech("谢谢。", voice="zh_test", response_format="pcm")

            assert len(asyncio.run(async_retry())) > 0
