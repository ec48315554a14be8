"""Warm time to first audio byte of short clauses through HTTP (issue #15 part 3), before and after,
side by side with the engine's own in-process synthesis of the same text.

Two servers run at once, each ``python -m ttsgate serve`` with cache off and the default workers:
"before" from a git worktree of REV (the revision before the change), "after" from this checkout.
Rounds interleave every measurement (before, after, in-process) so that the shared box's load
drifts over all of them alike. A request's time to first byte is from sending it to the first body
bytes (httpx, keep-alive connection, warm server); the engine's time is one ``synthesize`` call of
the clause's first segment in this process (one intra-op thread, as a server worker on 2 cores),
and its first piece the time to the first piece of ``pieces`` (the current engine).

    git worktree add /tmp/ttsgate-before REV
    .venv/bin/python benchmarks/first_audio.py /tmp/ttsgate-before [ROUNDS]   # the HTTP tables
    .venv/bin/python benchmarks/first_audio.py --cost      # zh-baker: acoustic, vocoder, pieces' cost
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _common import ROOT, environment, free_port, table

from ttsgate.bench.inproc import load_engine, plan_inputs
from ttsgate.bench.probe import wait_ready
from ttsgate.engines.base import Engine, SynthesisInput
from ttsgate.text import TextNormalizer
from ttsgate.voices import VoiceTable

CLAUSES = [
    ("zh_female_baker", "你好"),
    ("zh_female_baker", "今天天气不错"),
    ("zh_female_baker", "去海边的火车每小时"),
    ("en_male_joe", "Hello there."),
    ("en_male_joe", "Good morning, everyone."),
]
FMTS = ("pcm", "mp3")
ENGINES = "zh-baker,piper-joe"


@contextmanager
def server(src: Path) -> Iterator[str]:
    """``python -m ttsgate serve`` importing ttsgate from ``src`` (cache off)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(src), "TTSGATE_CACHE": "off", "TTSGATE_ENGINES": ENGINES}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ttsgate", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{url}/ready", timeout_s=240, proc=proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def ttfb(client: httpx.Client, url: str, voice: str, text: str, fmt: str) -> float:
    body = {"input": text, "voice": voice, "response_format": fmt}
    t0 = time.perf_counter()
    with client.stream("POST", f"{url}/v1/audio/speech", json=body) as r:
        assert r.status_code == 200, r.status_code
        chunks = r.iter_raw()
        next(chunks)
        first = time.perf_counter() - t0
        for _ in chunks:
            pass
    return first


def engine_times(engine: Engine, item: SynthesisInput) -> tuple[float, float]:
    """(whole synthesize, first piece) in seconds; the first piece is the whole without ``pieces``."""
    t0 = time.perf_counter()
    engine.synthesize([item])
    whole = time.perf_counter() - t0
    t0 = time.perf_counter()
    pieces = engine.pieces(item)
    if pieces is None:
        return whole, whole
    first = 0.0
    for k, _ in enumerate(pieces):
        if k == 0:
            first = time.perf_counter() - t0
    return whole, first


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def main(before_tree: Path, rounds: int) -> str:
    load = [round(x, 2) for x in os.getloadavg()]
    norm, voices = TextNormalizer(), VoiceTable.load()
    engines = {name: load_engine(voices, name, workers=2) for name in ENGINES.split(",")}
    first_inputs = {text: plan_inputs(voices, voice, text, norm)[0] for voice, text in CLAUSES}
    rev = subprocess.run(["git", "-C", str(before_tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True, check=True).stdout.strip()  # fmt: skip
    after_rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                               text=True, check=True).stdout.strip()  # fmt: skip
    keys = [(v, t, f) for v, t in CLAUSES for f in FMTS]
    http: dict[str, dict[tuple[str, str, str], list[float]]] = {"before": {k: [] for k in keys},
                                                               "after": {k: [] for k in keys}}  # fmt: skip
    inproc: dict[str, list[tuple[float, float]]] = {t: [] for _, t in CLAUSES}
    with ExitStack() as stack:
        urls = {"before": stack.enter_context(server(before_tree / "src")),
                "after": stack.enter_context(server(ROOT / "src"))}  # fmt: skip
        client = stack.enter_context(httpx.Client(timeout=60))
        for r in range(rounds + 2):  # the first two rounds warm every path and are not counted
            for voice, text in CLAUSES:
                name, item = first_inputs[text]
                times = engine_times(engines[name], item)
                for fmt in FMTS:
                    for side in ("before", "after") if r % 2 else ("after", "before"):
                        t = ttfb(client, urls[side], voice, text, fmt)
                        if r >= 2:
                            http[side][(voice, text, fmt)].append(t)
                if r >= 2:
                    inproc[text].append(times)
    rows = []
    for voice, text, fmt in keys:
        b, a = http["before"][(voice, text, fmt)], http["after"][(voice, text, fmt)]
        whole = statistics.median(x[0] for x in inproc[text])
        piece = statistics.median(x[1] for x in inproc[text])
        rows.append([f"{text} ({voice.split('_')[0]})", fmt,
                     f"{pct(b, .5) * 1e3:.0f} / {pct(b, .95) * 1e3:.0f}",
                     f"{pct(a, .5) * 1e3:.0f} / {pct(a, .95) * 1e3:.0f}",
                     f"{pct(a, .5) / pct(b, .5):.2f}",
                     f"{whole * 1e3:.0f}", f"{piece * 1e3:.0f}",
                     f"{pct(a, .5) / whole:.2f}"])  # fmt: skip
    head = ["clause", "format", "before p50 / p95 ms", "after p50 / p95 ms", "after ÷ before (p50)",
            "engine synthesize ms (p50)", "engine first piece ms (p50)",
            "after p50 ÷ engine synthesize"]  # fmt: skip
    return (
        f"Before: {rev}; after: {after_rev} (+ working tree). {rounds} rounds, interleaved.\n\n"
        + table(head, rows)
        + "\n"
        + environment(load)
        + "\n"
    )


COST_TEXTS = ["你好", "今天天气不错", "去海边的火车每小时",
              "今天是二零二六年十一月二十三日，北京的气温是零下三度。"]  # fmt: skip


def cost(repeats: int = 15) -> str:
    """zh-baker in process (2 workers' sizing: one intra-op thread): the acoustic model and the
    whole vocoder on one sentence, ``synthesize``, and ``pieces``' first piece and total."""
    from dataclasses import replace

    from ttsgate.engines.zh_baker import ZhBakerEngine

    engine = ZhBakerEngine(replace(VoiceTable.load().engines["zh-baker"], workers=2))  # its internals
    engine.load()
    pool = engine._require()
    models = pool.get()
    pool.put(models)
    onnx = models.onnx
    assert onnx is not None
    rows = []
    for text in COST_TEXTS:
        ids = engine._frontend.to_ids(text)[0]
        item = SynthesisInput(text, "zh")
        t: dict[str, list[float]] = {k: [] for k in ("ac", "voc", "whole", "first", "all")}
        frames = 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            mel = onnx.acoustic(ids, 1.0)
            t1 = time.perf_counter()
            onnx.vocoder(mel)
            t["ac"].append(t1 - t0)
            t["voc"].append(time.perf_counter() - t1)
            frames = int(mel.shape[1])
            whole, first = engine_times(engine, item)
            t0 = time.perf_counter()
            pieces = engine.pieces(item)
            assert pieces is not None
            for _ in pieces:
                pass
            t["whole"].append(whole)
            t["first"].append(first)
            t["all"].append(time.perf_counter() - t0)
        ms = {k: statistics.median(v) * 1e3 for k, v in t.items()}
        rows.append([text, str(frames)] + [f"{ms[k]:.0f}" for k in ("ac", "voc", "whole", "first", "all")]
                    + [f"{ms['all'] / ms['whole']:.2f}"])  # fmt: skip
    head = ["clause", "mel frames", "acoustic ms", "vocoder whole ms", "synthesize ms", "first piece ms",
            "all pieces ms", "pieces ÷ synthesize"]  # fmt: skip
    return table(head, rows)


if __name__ == "__main__":
    if sys.argv[1:] == ["--cost"]:
        print(cost())
        sys.exit(0)
    tree = Path(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    print(main(tree, n))
