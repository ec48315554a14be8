"""ChatTTS engine on random models of ChatTTS's architecture (CPU): batching gain, streaming
first-audio latency, and join quality of our windowed stream decoding vs ChatTTS's own stream mode.
Prints markdown.

    .venv/bin/python benchmarks/chattts.py [--sizes tiny small] [--threads 1 2] [--tokens 64]
                                           [--repeats 5] [--stream-tokens 256] [--no-stream]

Sizes (of the Llama GPT; the DVAE/decoder/Vocos are tiny at every size): ``tiny`` (the tests' model,
hidden 64 x 2 layers), ``small`` (hidden 768 x 4 layers: the real width, 1/5 of the real depth,
weights larger than the CPU caches), or ``HIDDENxLAYERS`` (e.g. ``512x6``: heads of 64, MLP 4x).
Batching is measured round-robin (every repeat runs every size x thread count x batch once), so
load changes on a shared machine hit all configurations alike; each table cell is a median.

Everything runs in-process on ``tests/support/chattts_tiny.py``'s models (random weights, reduced
sizes): the figures show the engine's overheads and scaling, not real ChatTTS speed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.support.chattts_tiny import SMALL_GPT, build_tiny_chattts  # noqa: E402

from ttsgate.engines import chattts_stream as cs  # noqa: E402
from ttsgate.engines.base import EngineSpec, SynthesisInput  # noqa: E402
from ttsgate.engines.chattts import ChatTTSEngine, Sampling  # noqa: E402

SENTENCES = [
    "今天天气很好，我们去公园散步吧。",
    "请在下一个路口向左转。",
    "会议改到明天下午三点。",
    "这本书我已经看了两遍了。",
    "欢迎来到我们的语音服务。",
    "火车晚点了二十分钟。",
    "他每天早上六点起床跑步。",
    "谢谢你的帮助，再见。",
]


def engine(assets: Path, tokens: int, threads: int, **extra: Any) -> ChatTTSEngine:
    opts = {
        "asset_dir": str(assets),
        "max_new_tokens": tokens,
        "min_new_tokens": tokens,
        "num_threads": threads,
    }
    eng = ChatTTSEngine(EngineSpec("chattts-tiny", "chattts", {**opts, **extra}, max_batch_size=8))
    eng.load()
    return eng


def gpt_size(spec: str) -> dict[str, int]:
    """``build_tiny_chattts`` keyword arguments for a ``--sizes`` entry."""
    if spec == "tiny":
        return {}
    if spec == "small":
        return dict(SMALL_GPT)
    try:
        hidden, layers = (int(x) for x in spec.lower().split("x"))
    except ValueError:
        raise SystemExit(f"--sizes: {spec!r} is not tiny, small or HIDDENxLAYERS") from None
    return {"hidden": hidden, "layers": layers, "heads": max(1, hidden // 64), "intermediate": 4 * hidden}


def describe(eng: ChatTTSEngine) -> str:
    g = eng._chat.config.gpt
    n = sum(p.numel() for p in eng._chat.gpt.gpt.parameters())
    return (
        f"GPT hidden {g.hidden_size} × {g.num_hidden_layers} layers ({g.num_attention_heads} heads, "
        f"MLP {g.intermediate_size}): {n / 1e6:.1f} M parameters = {n * 4 / 1e6:.1f} MB float32"
    )


BATCHES = (1, 2, 4, 8)


def batch_items(b: int) -> list[SynthesisInput]:
    return [SynthesisInput(SENTENCES[i % 8], "zh", f"chattts_0{i % 8 + 1}") for i in range(b)]


def bench_batches(
    engines: dict[str, ChatTTSEngine], threads: list[int], repeats: int
) -> dict[tuple[str, int, int], list[float]]:
    """Seconds per ``synthesize`` call for every (size, threads, batch), round-robin over repeats
    after one discarded warm-up pass."""
    import torch

    times: dict[tuple[str, int, int], list[float]] = {}
    for rep in range(repeats + 1):
        for size, eng in engines.items():
            for t in threads:
                torch.set_num_threads(t)
                for b in BATCHES:
                    items = batch_items(b)
                    t0 = time.perf_counter()
                    eng.synthesize(items)
                    dt = time.perf_counter() - t0
                    if rep:
                        times.setdefault((size, t, b), []).append(dt)
    return times


def bench_first_audio(eng: ChatTTSEngine, repeats: int) -> dict[str, float]:
    """Ours: first chunk of synthesize_stream. ChatTTS: first chunk of Chat.infer(stream=True)."""
    chat = eng._chat
    ours, ours_total, theirs, theirs_total, offline = [], [], [], [], []
    item = SynthesisInput(SENTENCES[0], "zh")
    spk = chat.speaker._encode(eng._speaker_tensor("chattts_01"))
    params = chat.InferCodeParams(
        spk_emb=spk,
        max_new_token=eng._max_new,
        min_new_token=eng._min_new,
        show_tqdm=False,
    )
    for _ in range(repeats):
        t0 = time.perf_counter()
        first = None
        for step in eng.synthesize_stream([item]):
            if first is None and step[0] is not None:
                first = time.perf_counter() - t0
        ours.append(first or 0.0)
        ours_total.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        first = None
        for wavs in chat.infer(
            [item.text],
            stream=True,
            skip_refine_text=True,
            split_text=False,
            do_text_normalization=False,
            do_homophone_replacement=False,
            params_infer_code=params,
        ):
            if first is None and wavs.size:
                first = time.perf_counter() - t0
        theirs.append(first or 0.0)
        theirs_total.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        eng.synthesize([item])
        offline.append(time.perf_counter() - t0)
    med = statistics.median
    return {
        "ours_first": med(ours),
        "ours_total": med(ours_total),
        "theirs_first": med(theirs),
        "theirs_total": med(theirs_total),
        "offline": med(offline),
    }


def chattts_stream_sim(
    decode: Any, h: Any, stream_batch: int = 24, pass_first: int = 2, speed: int = 12000
) -> tuple[np.ndarray, list[int], int]:
    """ChatTTS 0.2.5 ``Chat._infer`` stream slicing, replayed on a finished token sequence: every
    ``stream_batch`` tokens decode the whole prefix, skip the first ``pass_first`` yields, emit at most
    ``speed`` new samples; at the end emit the rest with near-zero columns dropped."""
    n_total = h.shape[0]
    parts, joins, length, decoded, count = [], [], 0, 0, 0
    for n in range(stream_batch, n_total + 1, stream_batch):
        wav = decode(h[:n])
        decoded += n
        count += 1
        if count <= pass_first:
            continue
        piece = wav[length : min(length + speed, len(wav))]
        if parts:
            joins.append(sum(map(len, parts)))
        parts.append(piece)
        length += len(piece)
    wav = decode(h)
    decoded += n_total
    rest = wav[length:]
    rest = rest[np.abs(rest) > 1e-5]
    if parts:
        joins.append(sum(map(len, parts)))
    parts.append(rest)
    return np.concatenate(parts).astype(np.float32), joins, decoded


def ours_stream_sim(decode: Any, h: Any, plan: cs.StreamPlan, step: int) -> tuple[np.ndarray, list[int], int]:
    n_total = h.shape[0]
    row = cs.RowStream(plan)
    parts, decoded = [], 0

    def dec(windows: Any) -> list[np.ndarray]:
        nonlocal decoded
        decoded += sum(e - s for _, s, e in windows)
        return [decode(h[s:e]) for _, s, e in windows]

    for n in range(step, n_total + 1, step):
        (p,) = cs.step([row], [n], False, dec)
        if p is not None:
            parts.append(p)
    (p,) = cs.step([row], [n_total], True, dec)
    if p is not None:
        parts.append(p)
    return np.concatenate(parts), row.joins, decoded


def bench_joins(eng: ChatTTSEngine, tokens: int) -> list[dict[str, Any]]:
    import torch

    chat = eng._chat
    rows = [eng._row(SynthesisInput(SENTENCES[0], "zh"), Sampling(0.3, 0.7, 20, False))]
    with torch.inference_mode():
        (res,) = list(eng._generate(rows, Sampling(0.3, 0.7, 20, False), chat.gpt.Context(), stream=False))
        h = res.hiddens[0].detach()

        def theirs_decode(x: Any) -> np.ndarray:
            return np.asarray(chat._decode_to_wavs([x.clone()], True)[0], dtype=np.float32)

        def ours_decode(x: Any) -> np.ndarray:
            return eng._decode([x])[0]

        reference = ours_decode(h)
        assert np.allclose(reference, np.clip(theirs_decode(h), -1, 1)[: len(reference)], atol=1e-5)
        out = []
        a, aj, ad = chattts_stream_sim(theirs_decode, h)
        name = "ChatTTS stream mode (24-token re-decode)"
        out.append({"method": name, **cs.join_metrics(a, reference, aj), "decoded": ad})
        plan = eng._plan
        assert plan is not None
        for lc, la in ((16, 8), (24, 12), (32, 16)):
            p = cs.StreamPlan(plan.samples_per_token, 12, 24, lc, la, plan.crossfade)
            b, bj, bd = ours_stream_sim(ours_decode, h, p, 8)
            name = f"ttsgate windows L={lc} R={la}, 20 ms crossfade"
            out.append({"method": name, **cs.join_metrics(b, reference, bj), "decoded": bd})
        p = cs.StreamPlan(plan.samples_per_token, 12, 24, 32, 16, 0)
        b, bj, bd = ours_stream_sim(ours_decode, h, p, 8)
        name = "ttsgate windows L=32 R=16, no crossfade (hard cut)"
        out.append({"method": name, **cs.join_metrics(b, reference, bj), "decoded": bd})
    return out


def print_batches(
    size: str, desc: str, threads: list[int], tokens: int, times: dict[tuple[str, int, int], list[float]]
) -> None:
    print(f"### Batching, {size}: {desc}\n")
    audio = tokens * 512 / 24000
    print(f"{tokens} tokens = {audio:.2f} s of audio per sentence; s per call: median [min–max]\n")
    head = " | ".join(f"{t} thread{'s' * (t > 1)}: s per call | sentences/s | vs batch 1" for t in threads)
    print(f"| batch | {head} |\n|---|{'---|---|---|' * len(threads)}")
    for b in BATCHES:
        cells = []
        for t in threads:
            ts = times[(size, t, b)]
            med, base = statistics.median(ts), statistics.median(times[(size, t, 1)])
            cells.append(f"{med:.3f} [{min(ts):.3f}–{max(ts):.3f}] | {b / med:.2f} | {base * b / med:.2f}×")
        print(f"| {b} | {' | '.join(cells)} |")
    print()


def print_stream(size: str, n: int, lat: dict[str, float], joins: list[dict[str, Any]]) -> None:
    print(f"### Streaming, {size}, one sentence of {n} tokens ({n * 512 / 24000:.1f} s of audio)\n")
    print("| | first audio (s) | whole stream (s) |\n|---|---|---|")
    print(f"| ttsgate `synthesize_stream` | {lat['ours_first']:.3f} | {lat['ours_total']:.3f} |")
    print(f"| ChatTTS `infer(stream=True)` | {lat['theirs_first']:.3f} | {lat['theirs_total']:.3f} |")
    print(f"| offline `synthesize` (no stream) | — | {lat['offline']:.3f} |")
    print(f"\n### Joins, {size} (same token sequence; error vs the offline decode of the whole sequence)\n")
    print(
        "| method | joins | error within ±512 samples of joins (dB) | jump² at join / mean diff² "
        "| error over whole signal (dB) | tokens decoded |"
    )
    print("|---|---|---|---|---|---|")
    for j in joins:
        be = "n/a" if j["boundary_error_db"] is None else f"{j['boundary_error_db']:.1f}"
        jr = "n/a" if j["jump_ratio"] is None else f"{j['jump_ratio']:.2f}"
        print(
            f"| {j['method']} | {j['joins']} | {be} | {jr} | {j['overall_error_db']:.1f} | {j['decoded']} |"
        )
    print()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["tiny"], help="tiny, small or HIDDENxLAYERS")
    ap.add_argument("--threads", type=int, nargs="+", default=[1])
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--stream-tokens", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-stream", action="store_true", help="batching only")
    args = ap.parse_args()
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        assets = {s: build_tiny_chattts(Path(tmp) / s, **gpt_size(s)) for s in args.sizes}
        engines = {s: engine(a, args.tokens, args.threads[0]) for s, a in assets.items()}
        descs = {s: describe(e) for s, e in engines.items()}
        times = bench_batches(engines, args.threads, args.repeats)
        for e in engines.values():
            e.close()
        load1 = os.getloadavg()
        streams = {}
        if not args.no_stream:
            for s, a in assets.items():
                eng = engine(a, args.stream_tokens, args.threads[0])
                streams[s] = (bench_first_audio(eng, args.repeats), bench_joins(eng, args.stream_tokens))
                eng.close()
    load2 = os.getloadavg()
    loads = " → ".join(f"{la[0]:.2f}/{la[1]:.2f}/{la[2]:.2f}" for la in (load0, load1, load2))
    print(
        f"host: {platform.machine()}, {os.cpu_count()} cores, torch threads {args.threads}, "
        f"{args.repeats} repeats; load average (1/5/15 min) start → after batching → end: {loads}\n"
    )
    for s in args.sizes:
        print_batches(s, descs[s], args.threads, args.tokens, times)
    if streams:
        print(f"Streaming and joins: torch threads {args.threads[0]}.\n")
    for s, (lat, joins) in streams.items():
        print_stream(s, args.stream_tokens, lat, joins)


if __name__ == "__main__":
    main()
