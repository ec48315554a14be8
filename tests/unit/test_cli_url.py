"""``ttsgate say`` and ``ttsgate voices`` without ``--url`` reach the server ``ttsgate serve`` starts
with the same settings: ``TTSGATE_URL``, else ``TTSGATE_HOST`` and ``TTSGATE_PORT``."""

from __future__ import annotations

import pytest

from ttsgate.cli import _build_parser, default_url


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"TTSGATE_PORT": "8123"}, "http://127.0.0.1:8123"),
        ({"TTSGATE_HOST": "10.0.0.5", "TTSGATE_PORT": "9000"}, "http://10.0.0.5:9000"),
        ({"TTSGATE_HOST": "0.0.0.0", "TTSGATE_PORT": "8001"}, "http://127.0.0.1:8001"),
        ({"TTSGATE_HOST": "::"}, "http://[::1]:8000"),
        ({"TTSGATE_HOST": "fd00::7"}, "http://[fd00::7]:8000"),
        ({"TTSGATE_URL": "https://tts.example", "TTSGATE_PORT": "8123"}, "https://tts.example"),
    ],
)
def test_default_url_follows_the_server_settings(env: dict[str, str], url: str) -> None:
    assert default_url(env) == url


@pytest.mark.parametrize("command", [["voices"], ["say", "hi", "-o", "x.mp3"]])
def test_voices_and_say_default_to_the_port_serve_listens_on(
    monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.delenv("TTSGATE_URL", raising=False)
    monkeypatch.delenv("TTSGATE_HOST", raising=False)
    monkeypatch.setenv("TTSGATE_PORT", "8002")
    assert _build_parser().parse_args(command).url == "http://127.0.0.1:8002"
