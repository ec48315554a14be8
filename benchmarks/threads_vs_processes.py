"""Worker threads or worker processes? The scheduler runs engines in worker *threads* of the server
process; this measures that choice against worker *processes* (each loading its own model, audio
pickled back to the parent), in-process, with the same texts and the same total CPU threads:

* ``threads ×1``: one worker thread, the engine sized for one worker (2 intra-op threads: the default);
* ``threads ×2``: two worker threads sharing one loaded engine sized for two (1 intra-op thread each);
* ``processes ×2``: a ``ProcessPoolExecutor`` of two processes, each with its own engine sized for
  two workers (1 intra-op thread), the parent sending texts and receiving the samples.

    .venv/bin/python benchmarks/threads_vs_processes.py [SECONDS] [ROUNDS]   # ~4 min, prints the table
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, environment, table
from gateway_efficiency import CASES

from ttsgate.bench.inproc import plan_inputs, raw_throughput
from ttsgate.engines import Engine, EngineSpec, SynthesisInput, create_engine
from ttsgate.text import TextNormalizer
from ttsgate.voices import VoiceTable

Work = Sequence[Sequence[SynthesisInput]]
_engine: list[Engine] = []  # the one engine of a pool process (set by its initializer)


def _init(spec: EngineSpec, warm: Sequence[SynthesisInput]) -> None:
    engine = create_engine(spec)
    engine.load()
    engine.synthesize(list(warm))
    _engine.append(engine)


def _speak(items: Sequence[SynthesisInput]) -> list[np.ndarray]:
    return [c.samples for item in items for c in _engine[0].synthesize([item])]


def process_throughput(pool: ProcessPoolExecutor, work: Work, *, window: int, duration_s: float) -> float:
    """Texts/s with ``window`` texts in flight (closed loop), audio returned to this process."""
    done, i = 0, 0
    inflight: list[Future[list[np.ndarray]]] = []
    start = time.perf_counter()
    deadline = start + duration_s
    while time.perf_counter() < deadline or inflight:
        while len(inflight) < window and time.perf_counter() < deadline:
            inflight.append(pool.submit(_speak, work[i % len(work)]))
            i += 1
        first = inflight.pop(0)
        assert all(len(a) > 0 for a in first.result())
        done += 1
    return done / (time.perf_counter() - start)


def rss_mb(pids: Sequence[int]) -> float:
    return sum(psutil.Process(p).memory_info().rss for p in pids) / 2**20


def measure(
    spec: EngineSpec, work: Work, seconds: float, rounds: int
) -> dict[str, tuple[list[float], float]]:
    one = create_engine(dataclasses.replace(spec, workers=1))
    two = create_engine(dataclasses.replace(spec, workers=2))
    for e in (one, two):
        e.load()
        e.synthesize(list(work[0]))
    pool = ProcessPoolExecutor(2, initializer=_init, initargs=(dataclasses.replace(spec, workers=2), work[0]))
    list(pool.map(_speak, [work[0], work[1]]))  # both processes up and warm
    configs: dict[str, Callable[[], float]] = {
        "threads ×1 (default)": lambda: raw_throughput(one, work, workers=1, duration_s=seconds)[0],
        "threads ×2": lambda: raw_throughput(two, work, workers=2, duration_s=seconds)[0],
        "processes ×2": lambda: process_throughput(pool, work, window=2, duration_s=seconds),
    }
    rates: dict[str, list[float]] = {k: [] for k in configs}
    for _ in range(rounds):
        for name, run in configs.items():
            rates[name].append(run())
            print(spec.name, name, f"{rates[name][-1]:.2f}", flush=True)
    children = [p.pid for p in psutil.Process().children()]
    mem = {"threads ×1 (default)": 0.0, "threads ×2": 0.0, "processes ×2": rss_mb(children)}
    pool.shutdown()
    for e in (one, two):
        e.close()
    return {k: (v, mem[k]) for k, v in rates.items()}


def main(seconds: float, rounds: int) -> None:
    load = [round(x, 2) for x in os.getloadavg()]
    norm = TextNormalizer()
    tbl = VoiceTable.load()
    results: dict[str, dict[str, tuple[list[float], float]]] = {}
    for engine_name, voice, texts in CASES:
        work = [[inp for _, inp in plan_inputs(tbl, voice, t, norm)] for t in texts]
        results[engine_name] = measure(tbl.engines[engine_name], work, seconds, rounds)
    rows = []
    for engine_name, res in results.items():
        base = statistics.median(res["threads ×2"][0])
        for name, (rates, mem) in res.items():
            med = statistics.median(rates)
            rows.append(
                [
                    engine_name,
                    name,
                    f"{med:.2f}",
                    f"{med / base:.2f}",
                    ", ".join(f"{r:.2f}" for r in rates),
                    f"+{mem:.0f} MB (2 processes)" if mem else "–",
                ]
            )
    plot(results)
    head = ["engine", "workers", "texts/s (median)", "÷ threads ×2", "per round", "extra RSS"]
    (ROOT / "benchmarks" / "threads_vs_processes.results.md").write_text(
        f"Command: `.venv/bin/python benchmarks/threads_vs_processes.py {seconds:g} {rounds}`\n\n"
        f"{environment(load)}\n\n{table(head, rows)}\n![texts/s](threads_vs_processes.png)\n",
        encoding="utf-8",
    )
    print((ROOT / "benchmarks" / "threads_vs_processes.results.md").read_text())


def plot(results: dict[str, dict[str, tuple[list[float], float]]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4.5 * len(results), 3))
    for ax, (engine_name, res) in zip(np.atleast_1d(axes), results.items(), strict=True):
        names = list(res)
        ax.bar(range(len(names)), [statistics.median(res[n][0]) for n in names], color="#4a7")
        ax.set_xticks(range(len(names)), [n.replace(" (default)", "\n(default)") for n in names])
        ax.set_title(engine_name)
        ax.set_ylabel("texts/s (median of rounds)")
    fig.tight_layout()
    fig.savefig(ROOT / "benchmarks" / "threads_vs_processes.png", dpi=110)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
