"""Are two zh-baker ONNX conversions the same model? (e.g. Python 3.11/TF 2.15 vs 3.13/TF 2.20)

Compares directory A and B, each with ``fastspeech2.onnx`` and ``mb_melgan.onnx``
(``scripts/convert_zh_baker_onnx.sh``'s output), in two ways:

* **graph**: per file, the topology (a digest of the DAG: every tensor hashed from its producer's op,
  attributes and input hashes, so names and node order, which tf2onnx varies between runs, do not
  count), the multiset of op types, the initializers' values and the graph inputs/outputs (types, shapes).
* **outputs**: both run on onnxruntime with the same feeds, for every sentence of
  benchmarks/texts_zh.txt at speeds 1.0 and 1.3: FastSpeech2's outputs with the same dropout noise
  (seed 0, as the engine draws it), durations compared exactly and the mels by max |a - b|; then
  both vocoders on A's mel, PCM by max |a - b|.

    var/zh-onnx-tools/bin/python scripts/compare_zh_baker_onnx.py ~/.cache/ttsgate/zh-baker-onnx DIR

The graph part needs ``onnx``, the output part onnxruntime and ttsgate's Mandarin front end (the
phoneme ids): a tools venv that borrows .venv (var/zh-onnx-tools on Python 3.11) has both; .venv
alone compares the outputs only. Exit 0 when every output difference is within ``--tol`` (default
1e-4) and no duration differs (``--graphs-only``: when the graphs are identical), else 1.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ROOT / "benchmarks" / "texts_zh.txt"
FILES = ("fastspeech2.onnx", "mb_melgan.onnx")
SPEEDS = (1.0, 1.3)


def graph_summary(path: Path) -> dict[str, Any]:
    import onnx

    graph = onnx.load(str(path)).graph
    digests = sorted(value_digest(t) for t in graph.initializer)
    return {
        "topology": topology(graph),
        "ops": Counter(n.op_type for n in graph.node),
        "initializers": digests,
        "inputs": [(i.name, shape(i)) for i in graph.input],
        "outputs": [shape(o) for o in graph.output],
    }


def topology(graph: Any) -> str:
    """A digest of the graph as a DAG, independent of names and node order (tf2onnx varies both
    between runs): each tensor hashed from its producer (op, attributes, the hashes of its inputs),
    graph inputs by name, initializers by value; the digest covers every node and the outputs."""
    from onnx import AttributeProto

    def h(*parts: object) -> str:
        return hashlib.sha256(repr(parts).encode()).hexdigest()

    tensor = {i.name: h("input", i.name) for i in graph.input}
    tensor.update({t.name: h("init", value_digest(t)) for t in graph.initializer})
    tensor[""] = ""  # an omitted optional input
    nodes = []
    for node in graph.node:  # ONNX files are topologically sorted
        attrs = sorted(
            (a.name, value_digest(a.t) if a.type == AttributeProto.TENSOR else a.SerializeToString())
            for a in node.attribute
        )
        nh = h(node.op_type, node.domain, attrs, [tensor[i] for i in node.input])
        nodes.append(nh)
        tensor.update({out: h(nh, k) for k, out in enumerate(node.output)})
    return h(sorted(nodes), [tensor[o.name] for o in graph.output])


def value_digest(t: Any) -> str:
    from onnx import numpy_helper

    return hashlib.sha256(numpy_helper.to_array(t).tobytes() + str(t.data_type).encode()).hexdigest()


def shape(value: Any) -> tuple[int, list[int | str]]:
    """Element type and dims; a symbolic dim is "?" (tf2onnx numbers them "unk__N" per run)."""
    t = value.type.tensor_type
    return t.elem_type, [d.dim_value if d.HasField("dim_value") else "?" for d in t.shape.dim]


def compare_graphs(a: Path, b: Path) -> bool:
    same_all = True
    for name in FILES:
        ga, gb = graph_summary(a / name), graph_summary(b / name)
        same = {key: ga[key] == gb[key] for key in ga}
        n_nodes = (sum(ga["ops"].values()), sum(gb["ops"].values()))
        print(
            f"{name}: nodes {n_nodes[0]} vs {n_nodes[1]}, initializers {len(ga['initializers'])} vs "
            f"{len(gb['initializers'])}; same: {same}"
        )
        if not same["ops"]:
            only_a, only_b = dict(ga["ops"] - gb["ops"]), dict(gb["ops"] - ga["ops"])
            print(f"  op counts, A only / B only: {only_a} / {only_b}")
        same_all &= all(same.values())
    return same_all


def sessions(d: Path) -> tuple[Any, Any]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    prov = ["CPUExecutionProvider"]
    return (
        ort.InferenceSession(str(d / FILES[0]), opts, providers=prov),
        ort.InferenceSession(str(d / FILES[1]), opts, providers=prov),
    )


def compare_outputs(a: Path, b: Path) -> dict[str, float]:
    if str(ROOT / "src") not in sys.path:
        sys.path.insert(0, str(ROOT / "src"))  # ttsgate, where the venv only borrows .venv's packages
    from ttsgate.engines.zh_frontend import MandarinFrontend

    (ac_a, voc_a), (ac_b, voc_b) = sessions(a), sessions(b)
    frontend = MandarinFrontend.with_files()
    worst = {"mel": 0.0, "mel_before": 0.0, "f0/energy": 0.0, "pcm": 0.0, "pcm_peak": 0.0}
    runs = tokens = dur_diff = 0
    for line in TEXTS.read_text("utf-8").split():
        for ids in frontend.to_ids(line):
            for speed in SPEEDS:
                n = len(ids)
                feeds = {
                    "input_ids": np.asarray([ids], np.int32),
                    "speaker_ids": np.zeros(1, np.int32),
                    "speed_ratios": np.full(1, 1.0 / speed, np.float32),
                    "f0_ratios": np.ones(1, np.float32),
                    "energy_ratios": np.ones(1, np.float32),
                    "dropout_noise": np.random.default_rng(0).random((2, 1, n, 256), dtype=np.float32),
                }
                oa, ob = ac_a.run(None, feeds), ac_b.run(None, feeds)
                runs += 1
                tokens += n
                dur_diff += int((oa[2] != ob[2]).sum())
                if oa[1].shape != ob[1].shape:
                    print(f"mel shapes differ: {oa[1].shape} vs {ob[1].shape} ({line}, speed {speed})")
                    worst["mel"] = float("inf")
                    continue
                worst["mel_before"] = max(worst["mel_before"], float(np.abs(oa[0] - ob[0]).max()))
                worst["mel"] = max(worst["mel"], float(np.abs(oa[1] - ob[1]).max()))
                if len(oa) > 3:
                    diffs = (float(np.abs(x - y).max()) for x, y in zip(oa[3:], ob[3:], strict=True))
                    worst["f0/energy"] = max(worst["f0/energy"], *diffs)
                pa, pb = voc_a.run(None, {"mels": oa[1]})[0], voc_b.run(None, {"mels": oa[1]})[0]
                worst["pcm"] = max(worst["pcm"], float(np.abs(pa - pb).max()))
                worst["pcm_peak"] = max(worst["pcm_peak"], float(np.abs(pa).max()))
    print(f"{runs} runs ({tokens} phoneme ids), durations differing: {dur_diff}")
    for key, value in worst.items():
        print(f"max |A - B| {key}: {value:.3g}" if key != "pcm_peak" else f"PCM peak |A|: {value:.3g}")
    worst["durations"] = float(dur_diff)
    return worst


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--graphs-only", action="store_true", help="skip running the models")
    args = ap.parse_args(argv)
    try:
        import onnx  # noqa: F401
    except ImportError:
        print("graphs not compared (no onnx module here: run with var/zh-onnx-tools/bin/python)")
        if args.graphs_only:
            return 1
    else:
        same = compare_graphs(args.a, args.b)
        if same:
            print(
                "graphs identical (topology, attributes, initializer values, inputs/outputs; names ignored)"
            )
        if args.graphs_only:
            return 0 if same else 1
    worst = compare_outputs(args.a, args.b)
    outputs = ("mel", "mel_before", "f0/energy", "pcm")
    ok = worst["durations"] == 0 and all(worst[k] <= args.tol for k in outputs)
    print("same model" if ok else "DIFFERENT")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
