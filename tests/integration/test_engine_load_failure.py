"""An engine that cannot load stops the server (runtime.py): never a server that answers every
request with "engines are still loading; retry shortly" forever. ``ttsgate serve`` exits with status
3 after one CRITICAL line per failed engine naming it, the cause and the fix (the variable when
``TTSGATE_VARIANT`` is the cause); until it has, requests get a non-retryable 500 saying so."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest

from ttsgate.config import Settings
from ttsgate.engines.zh_baker_onnx import ACOUSTIC_ONNX, VOCODER_ONNX, default_onnx_dir
from ttsgate.exceptions import EngineError
from ttsgate.runtime import Runtime
from ttsgate.server import create_app
from ttsgate.voices import VoiceTable

SINE_EN = {"kind": "sine", "char_s": 0.05, "sample_rate": 22050}
VOICES_TOML = """
[engines.sine-en]
kind = "sine"

[engines.zh-baker]
kind = "zh-baker"

[voices.en_test]
engine = "sine-en"
language = "en"
name = "Sine English"

[voices.zh_female_baker]
engine = "zh-baker"
language = "zh"
name = "Baker"

[languages]
en = "en_test"
zh = "zh_female_baker"
"""


def table(engine: str, options: Mapping[str, object]) -> VoiceTable:
    """English on the sine engine (it loads), Mandarin on ``engine`` (made to fail)."""
    return VoiceTable.from_mapping(
        {
            "engines": {"sine-en": SINE_EN, engine: options},
            "voices": {
                "en_test": {"engine": "sine-en", "language": "en", "name": "Sine English"},
                "zh_test": {"engine": engine, "language": "zh", "name": "Mandarin"},
            },
            "languages": {"en": "en_test", "zh": "zh_test"},
        }
    )


def test_serve_exits_3_naming_the_engine_and_the_fix_when_the_onnx_files_are_missing(tmp_path: Path) -> None:
    voices = tmp_path / "voices.toml"
    voices.write_text(VOICES_TOML)
    empty = tmp_path / "empty-cache"
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(empty),
        "TTSGATE_VOICES_FILE": str(voices),
        "TTSGATE_CACHE": "off",
        "TTSGATE_PORT": "0",
        "TTSGATE_WORKERS": "1",
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ttsgate", "serve"], env=env, capture_output=True, text=True, timeout=90
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the server kept running with an engine that cannot load: {exc.stderr!r}")
    assert done.returncode == 3, done.stderr
    lines = [line for line in done.stderr.splitlines() if "could not load" in line]
    assert len(lines) == 1, done.stderr
    (line,) = lines
    assert "CRITICAL" in line
    assert "zh-baker" in line
    assert "sine-en" not in line
    assert str(empty / "ttsgate" / "zh-baker-onnx") in line
    assert "XDG_CACHE_HOME" in line
    assert "scripts/convert_zh_baker_onnx.sh" in line
    assert "tflite" not in done.stderr, "no TensorFlow in any lock: runtime 'tflite' is no fix"
    assert "Traceback" not in done.stderr


async def loaded(runtime: Runtime) -> None:
    await runtime.start()
    assert runtime._warm_task is not None
    await runtime._warm_task


def test_damaged_onnx_files_are_a_non_retryable_refusal_that_says_to_reconvert(tmp_path: Path) -> None:
    onnx_dir = tmp_path / "zh-baker-onnx"
    onnx_dir.mkdir()
    (onnx_dir / ACOUSTIC_ONNX).write_bytes(b"\x08\x07truncated")
    (onnx_dir / VOCODER_ONNX).write_bytes(b"\x08\x07truncated")
    app = create_app(
        Settings(cache="off", workers=1),
        table=table("zh-baker", {"kind": "zh-baker", "onnx_dir": str(onnx_dir)}),
    )
    runtime: Runtime = app.state.runtime

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        async with app.router.lifespan_context(app):
            assert runtime._warm_task is not None
            await runtime._warm_task
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                body = {"input": "Hello there.", "voice": "en_test", "response_format": "wav"}
                english = await client.post("/v1/audio/speech", json=body)
                mandarin = await client.post(
                    "/v1/audio/speech", json={**body, "input": "你好", "voice": "zh_test"}
                )
                ready = await client.get("/ready")
        return english, mandarin, ready

    english, mandarin, ready = asyncio.run(scenario())
    for response in (english, mandarin):  # the English engine loaded, but no engine is served
        assert response.status_code == 500, response.text
        assert "retry-after" not in response.headers
        error = response.json()["error"]
        assert error["code"] == "engine_unavailable"
        assert error["type"] == "engine_error"
        assert "'zh-baker'" in error["message"]
        assert "damaged" in error["message"]
        assert f"delete {onnx_dir}" in error["message"]
        assert "convert_zh_baker_onnx.sh" in error["message"]
    assert ready.status_code == 503
    assert set(ready.json()["failed"]) == {"zh-baker"}


def test_tts_variant_int8_refused_by_the_gate_names_the_setting() -> None:
    runtime = Runtime.build(
        Settings(cache="off", workers=1, variant="int8"), table("piper-joe", {"kind": "piper"})
    )

    async def run() -> None:
        try:
            with pytest.raises(EngineError) as info:
                await runtime.start(wait=True)
            assert info.value.code == "engine_unavailable"
            with pytest.raises(EngineError):
                runtime.require_ready()
        finally:
            await runtime.close()

    asyncio.run(run())
    assert runtime.load_failure is not None
    assert not runtime.ready
    reason = runtime.failed["piper-joe"]
    assert "quality gate" in reason
    assert "TTSGATE_VARIANT=int8" in reason
    assert "TTSGATE_VARIANT=auto" in reason
    assert "fp32" in reason
    assert "sine-en" not in runtime.failed


def test_a_variant_named_in_the_table_is_not_blamed_on_the_setting() -> None:
    options = {"kind": "piper", "variant": "int8"}
    runtime = Runtime.build(Settings(cache="off", workers=1, variant="int8"), table("piper-joe", options))

    async def run() -> None:
        try:
            await loaded(runtime)
        finally:
            await runtime.close()

    asyncio.run(run())
    assert "quality gate" in runtime.failed["piper-joe"]
    assert "TTSGATE_VARIANT" not in runtime.failed["piper-joe"]


def test_default_onnx_dir_follows_xdg_cache_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_onnx_dir() == tmp_path / "ttsgate" / "zh-baker-onnx"
