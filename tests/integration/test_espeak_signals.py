"""Ctrl-C in a terminal drains: the SIGINT sent to the terminal's foreground process group must
not reach the espeak-ng subprocesses, or every espeak stream the drain waits for dies with it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")

# A process (its own process group, standing for the terminal's) that speaks a long text with the
# espeak engine and, while espeak-ng runs, sends SIGINT to its whole process group, as Ctrl-C does.
SCRIPT = textwrap.dedent(
    """
    import json, os, signal, threading, time
    from ttsgate.engines.base import EngineSpec, SynthesisInput
    from ttsgate.engines.espeak import EspeakEngine

    caught = []
    signal.signal(signal.SIGINT, lambda *_: caught.append("SIGINT"))  # ttsgate: the drain starts
    engine = EspeakEngine(EngineSpec("espeak", "espeak", {}))
    engine.load()
    text = "This is a long sentence that espeak speaks while the signal comes. " * 80
    result = {}

    def speak():
        began = time.monotonic()
        try:
            (chunk,) = engine.synthesize([SynthesisInput(text, "en", "en-us")])
            result["audio_s"] = len(chunk.samples) / chunk.sample_rate
        except Exception as exc:
            result["error"] = repr(exc)
        result["took_s"] = time.monotonic() - began

    thread = threading.Thread(target=speak)
    thread.start()
    time.sleep(0.3)
    os.killpg(0, signal.SIGINT)
    thread.join()
    print(json.dumps({**result, "caught": caught}))
    """
)


def test_ctrl_c_in_a_terminal_does_not_kill_espeak_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, start_new_session=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["caught"] == ["SIGINT"]
    assert result["took_s"] > 0.3, "espeak-ng was running when the signal came"
    assert "error" not in result, result["error"]
    assert result["audio_s"] > 60
