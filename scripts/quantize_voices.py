"""Make the int8 variants of the neural voices with onnxruntime's own quantization tooling.

Run by ``scripts/quantize_voices.sh`` in the converter's venv (``var/zh-onnx-tools``: it has ``onnx``,
which ``onnxruntime.quantization`` needs and the runtime venv does not). Inputs and outputs:

- zh-baker: ``ZH_DIR/fastspeech2.onnx`` and ``ZH_DIR/mb_melgan.onnx`` (the converted fp32 pair) →
  ``ZH_DIR/int8/`` (the same two names, so ``OnnxBaker`` loads either folder);
- piper: a voice ``MODEL.onnx`` (+ ``MODEL.onnx.json``) → ``PIPER_OUT/MODEL.onnx`` (+ the config copied).

Method (onnxruntime 1.32 ``quantize_dynamic``, the one that needs no calibration set): weights of
``MatMul`` and ``Conv`` nodes become int8 (signed, per tensor), activations are quantized at run time
(``DynamicQuantizeLinear``, uint8); everything else stays float. FastSpeech2's weights are already
int8 in the fp32 file behind ``DequantizeLinear`` (the tflite's own quantization, folded to float32 by
onnxruntime at session start): those are folded here to float first, so that the quantizer sees them
as weights. Static (QDQ, calibrated) quantization was tried and abandoned: tf2onnx's graphs reuse
tensor names that ``quantize_static`` then defines twice ("Duplicate definition of name"), even
after renaming every tensor; details in benchmarks/voice_quality.md.

Reproducible: the same inputs and versions give the same bytes (no calibration, no randomness).
``manifest.json`` beside the outputs records the sources' sha256, the versions and this script's
version; ``--check`` (stdlib only) exits 0 when every manifest is up to date, 3 when not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

SCRIPT_VERSION = "int8-dynamic-1"
MANIFEST = "manifest.json"
# file -> the node types whose weights become int8
ZH_FILES = {"fastspeech2.onnx": ["MatMul", "Conv"], "mb_melgan.onnx": ["Conv"]}
PIPER_OPS = ["MatMul", "Conv"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wanted(sources: list[Path]) -> dict[str, Any]:
    return {"script_version": SCRIPT_VERSION, "sources": {p.name: sha256(p) for p in sources}}


def up_to_date(out_dir: Path, sources: list[Path], outputs: list[str]) -> bool:
    try:
        have = json.loads((out_dir / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    want = wanted(sources)
    return all(have.get(k) == v for k, v in want.items()) and all((out_dir / o).is_file() for o in outputs)


def fold_dequantize(model: Any) -> int:
    """Replace every ``DequantizeLinear`` of constant inputs by its float32 result (an initializer)."""
    import numpy as np
    from onnx import numpy_helper

    inits = {i.name: i for i in model.graph.initializer}
    kept, folded = [], 0
    for node in model.graph.node:
        if node.op_type != "DequantizeLinear" or not all(i in inits for i in node.input if i):
            kept.append(node)
            continue
        x = numpy_helper.to_array(inits[node.input[0]]).astype(np.float32)
        scale = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
        has_zp = len(node.input) > 2 and node.input[2]
        zero = numpy_helper.to_array(inits[node.input[2]]).astype(np.float32) if has_zp else 0 * scale
        if scale.ndim == 1 and scale.size > 1:  # per axis
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            shape = [1] * x.ndim
            shape[axis] = -1
            scale, zero = scale.reshape(shape), zero.reshape(shape)
        value = ((x - zero) * scale).astype(np.float32)
        model.graph.initializer.append(numpy_helper.from_array(value, node.output[0]))
        folded += 1
    del model.graph.node[:]
    model.graph.node.extend(kept)
    return folded


def quantize(src: Path, dst: Path, ops: list[str], fold: bool) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        source = src
        if fold:
            model = onnx.load(str(src))
            if fold_dequantize(model):
                source = Path(tmp) / "float.onnx"
                onnx.save(model, str(source))
        quantize_dynamic(
            str(source), str(dst), op_types_to_quantize=ops, per_channel=False, weight_type=QuantType.QInt8
        )


def write_manifest(out_dir: Path, sources: list[Path], outputs: list[str], command: str) -> None:
    import onnx
    import onnxruntime

    manifest = {
        **wanted(sources),
        "outputs": {o: sha256(out_dir / o) for o in outputs},
        "method": "onnxruntime.quantization.quantize_dynamic, QInt8 weights, per tensor",
        "tools": {"onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__},
        "command": command,
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")


def zh(zh_dir: Path, check_only: bool, command: str) -> bool:
    out = zh_dir / "int8"
    sources = [zh_dir / f for f in ZH_FILES]
    if up_to_date(out, sources, list(ZH_FILES)):
        return True
    if check_only:
        return False
    out.mkdir(parents=True, exist_ok=True)
    for name, ops in ZH_FILES.items():
        quantize(zh_dir / name, out / name, ops, fold=True)
    write_manifest(out, sources, list(ZH_FILES), command)
    print(f"quantize: zh-baker int8 written to {out}", file=sys.stderr)
    return True


def piper(model: Path, out: Path, check_only: bool, command: str) -> bool:
    sources = [model]
    outputs = [model.name, f"{model.name}.json"]
    if up_to_date(out, sources, outputs):
        return True
    if check_only:
        return False
    out.mkdir(parents=True, exist_ok=True)
    quantize(model, out / model.name, PIPER_OPS, fold=False)
    shutil.copyfile(f"{model}.json", out / f"{model.name}.json")
    write_manifest(out, sources, outputs, command)
    print(f"quantize: piper int8 written to {out / model.name}", file=sys.stderr)
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zh-dir", type=Path, help="folder of the converted fp32 zh-baker pair")
    ap.add_argument("--piper", type=Path, help="a piper voice .onnx (its .onnx.json beside it)")
    ap.add_argument("--piper-out", type=Path, help="folder for the int8 piper voice")
    ap.add_argument("--check", action="store_true", help="only tell: exit 0 if up to date, else 3")
    args = ap.parse_args(argv)
    command = " ".join(["scripts/quantize_voices.py", *(argv if argv is not None else sys.argv[1:])])
    ok = True
    try:
        if args.zh_dir is not None:
            ok &= zh(args.zh_dir, args.check, command)
        if args.piper is not None:
            if args.piper_out is None:
                ap.error("--piper needs --piper-out")
            ok &= piper(args.piper, args.piper_out, args.check, command)
    except Exception as exc:  # onnx/onnxruntime errors: one line, exit 1
        print(f"quantize: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 3


if __name__ == "__main__":
    raise SystemExit(main())
