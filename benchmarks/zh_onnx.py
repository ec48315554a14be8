"""zh-baker: onnxruntime (converted graphs) vs tflite (tensorflow-cpu 2.15.1), same voice?

``equivalence``: for each sentence of benchmarks/texts_zh.txt, FastSpeech2 on both runtimes:
durations (frames per phoneme), and the DTW-aligned mel distance (mean |Δ| over 80 bins of the
normalized log-mel, along the DTW path: the two may differ by a frame here and there). The tflite
graph samples its dropout noise per call, so tflite-vs-tflite is the noise floor; onnx with two
seeds is the same noise on the other side. The vocoders get the same mel: sample SNR.
``perf --runtime R``: one process loads the engine (1 worker, 2 threads), synthesizes every
sentence 3 rounds; real-time factor (median round) and the process's RSS after load and after.

    .venv/bin/python benchmarks/zh_onnx.py equivalence
    .venv/bin/python benchmarks/zh_onnx.py perf --runtime tflite   # one at a time
    .venv/bin/python benchmarks/zh_onnx.py perf --runtime onnx
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import psutil

from ttsgate.bench.mel import dtw_mel_distance
from ttsgate.engines.base import EngineSpec, SynthesisInput
from ttsgate.engines.zh_baker import ACOUSTIC_FILE, VOCODER_FILE, ZhBakerEngine, default_asset_dir
from ttsgate.engines.zh_baker_onnx import OnnxBaker, default_onnx_dir
from ttsgate.engines.zh_frontend import MandarinFrontend

TEXTS = Path(__file__).with_name("texts_zh.txt")


class Tflite:
    def __init__(self, asset: Path) -> None:
        import tensorflow as tf

        self.ac = tf.lite.Interpreter(str(asset / ACOUSTIC_FILE), num_threads=2)
        self.voc = tf.lite.Interpreter(str(asset / VOCODER_FILE), num_threads=2)

    def acoustic(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        ac = self.ac
        details = ac.get_input_details()
        ac.resize_tensor_input(details[0]["index"], [1, len(ids)])
        ac.allocate_tensors()
        one = np.ones(1, np.float32)
        values = (np.asarray([ids], np.int32), np.zeros(1, np.int32), one, one, one)
        for d, v in zip(details, values, strict=True):
            ac.set_tensor(d["index"], v)
        ac.invoke()
        out = ac.get_output_details()
        return ac.get_tensor(out[1]["index"]), ac.get_tensor(out[2]["index"])[0]

    def vocoder(self, mel: np.ndarray) -> np.ndarray:
        vin = self.voc.get_input_details()[0]["index"]
        self.voc.resize_tensor_input(vin, list(mel.shape))
        self.voc.allocate_tensors()
        self.voc.set_tensor(vin, mel)
        self.voc.invoke()
        return np.asarray(self.voc.get_tensor(self.voc.get_output_details()[0]["index"])[0, :, 0])


def onnx_durations(ox: OnnxBaker, ids: list[int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    sess = ox._acoustic
    one = np.ones(1, np.float32)
    feeds = {
        "input_ids": np.asarray([ids], np.int32),
        "speaker_ids": np.zeros(1, np.int32),
        "speed_ratios": one,
        "f0_ratios": one,
        "energy_ratios": one,
        "dropout_noise": np.random.default_rng(seed).random((2, 1, len(ids), 256), dtype=np.float32),
    }
    _, mel, durations, *_ = sess.run(None, feeds)
    return mel, durations[0]


def equivalence() -> None:
    asset = default_asset_dir()
    assert asset is not None
    tfl, ox = Tflite(asset), OnnxBaker(default_onnx_dir(), 2)
    frontend = MandarinFrontend.with_files()
    rows, floor, cross, seeds, snrs = [], [], [], [], []
    tokens = differing = 0
    for line in TEXTS.read_text("utf-8").split():
        for ids in frontend.to_ids(line):
            mel_t1, dur_t1 = tfl.acoustic(ids)
            mel_t2, dur_t2 = tfl.acoustic(ids)
            mel_o, dur_o = onnx_durations(ox, ids, 0)
            mel_o1, _ = onnx_durations(ox, ids, 1)
            assert np.array_equal(dur_t1, dur_t2), "tflite durations are deterministic"
            tokens += len(ids)
            differing += int((dur_o != dur_t1).sum())
            pairs = ((mel_t1, mel_t2), (mel_o, mel_t1), (mel_o, mel_o1))
            f, c, s = (dtw_mel_distance(x[0], y[0]) for x, y in pairs)
            floor.append(f)
            cross.append(c)
            seeds.append(s)
            pcm_t, pcm_o = tfl.vocoder(mel_t1), ox.vocoder(mel_t1)
            snr = 10 * np.log10(np.sum(pcm_t**2) / max(np.sum((pcm_t - pcm_o) ** 2), 1e-20))
            snrs.append(snr)
            rows.append((line[:12], int(dur_t1.sum()), int(dur_o.sum()), f, c, s, snr))
    print("| sentence | tflite frames | onnx frames | tflite↔tflite | onnx↔tflite | onnx seed 0↔1 ", end="")
    print("| vocoder SNR dB |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.3f} | {r[4]:.3f} | {r[5]:.3f} | {r[6]:.1f} |")
    med = statistics.median
    print(f"\nsentences {len(rows)}, phonemes {tokens}, durations differing {differing} (by one frame)")
    print(f"median mel distance: tflite↔tflite {med(floor):.3f}, onnx↔tflite {med(cross):.3f}, ", end="")
    print(f"onnx seeds {med(seeds):.3f}; max onnx↔tflite {max(cross):.3f}, ", end="")
    print(f"max tflite↔tflite {max(floor):.3f}")
    print(f"total frames: tflite {sum(r[1] for r in rows)}, onnx {sum(r[2] for r in rows)}")
    print(f"vocoder SNR (same mel): min {min(snrs):.1f} dB, median {med(snrs):.1f} dB")


def perf(runtime: str) -> None:
    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    engine = ZhBakerEngine(EngineSpec("zh-baker", "zh-baker", workers=1, options={"runtime": runtime}))
    started = time.perf_counter()
    engine.load()
    load_s = time.perf_counter() - started
    rss_load = proc.memory_info().rss
    items = [SynthesisInput(t, "zh") for t in TEXTS.read_text("utf-8").split()]
    rtfs = []
    for _ in range(3):
        t0 = time.perf_counter()
        audio = sum(engine.synthesize([item])[0].duration_s for item in items)
        rtfs.append((time.perf_counter() - t0) / audio)
    rss_end = proc.memory_info().rss
    print(
        f"| {runtime} | {load_s:.1f} | {statistics.median(rtfs):.4f} ({min(rtfs):.4f}–{max(rtfs):.4f}) "
        f"| {rss_load / 2**20:.0f} | {rss_end / 2**20:.0f} | {rss0 / 2**20:.0f} |"
    )


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["equivalence", "perf"])
    ap.add_argument("--runtime", choices=["onnx", "tflite"], default="onnx")
    args = ap.parse_args()
    equivalence() if args.what == "equivalence" else perf(args.runtime)


if __name__ == "__main__":
    main()
