"""Gateway efficiency: throughput at saturation through HTTP (/v1/audio/speech, closed loop at
concurrency 4, cache off) vs the raw engine called in-process with the same worker count (1), on the
same texts (the gateway's own text pipeline plans the raw engine's inputs). Rounds alternate raw and
gateway so both see the same machine load.

    .venv/bin/python benchmarks/gateway_efficiency.py [SECONDS] [ROUNDS]   # writes gateway_efficiency.md
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _common import ROOT, environment, table, ttsgate_server

from ttsgate.bench.inproc import load_engine, plan_inputs, raw_throughput
from ttsgate.bench.load import Measurer, Target, closed_loop
from ttsgate.config import Settings
from ttsgate.text import TextNormalizer
from ttsgate.voices import VoiceTable

ZH = [
    "今天天气很好，我们去公园散步吧。",
    "这家餐厅的菜很好吃，价格也不贵。",
    "火车将在十分钟后到达北京南站。",
    "会议改到了星期四下午三点。",
]
EN = [
    "The quick brown fox jumps over the lazy dog.",
    "Please remember to bring your umbrella today.",
    "The train to Boston leaves in ten minutes.",
    "Our meeting has been moved to Thursday afternoon.",
]
CASES = (("piper-joe", "en_male_joe", EN), ("zh-baker", "zh_female_baker", ZH))
CONCURRENCY = 4
WORKERS = Settings().worker_count()  # the server's default: one per core


async def gateway_rate(url: str, voice: str, texts: list[str], seconds: float) -> tuple[float, int, int]:
    m = Measurer(texts, t0=time.perf_counter())
    t = Target("gw", "openai", url, voice, "wav")
    async with httpx.AsyncClient(timeout=120) as client:
        if not m.expected:
            await m.reference(client, t)
        start = time.perf_counter()
        res = await closed_loop(m, client, t, "sat", concurrency=CONCURRENCY, duration_s=seconds)
        wall = max(r.end_s for r in res) - (start - m.t0)
    ok = [r for r in res if r.ok]
    return len(ok) / wall, len(ok), len(res) - len(ok)


def main(seconds: float, rounds: int) -> str:
    load = [round(x, 2) for x in os.getloadavg()]
    norm = TextNormalizer()
    tbl = VoiceTable.load()
    rows, detail = [], []
    for engine_name, voice, texts in CASES:
        work = [[inp for _, inp in plan_inputs(tbl, voice, t, norm)] for t in texts]
        engine = load_engine(tbl, engine_name, workers=WORKERS)
        engine.synthesize(work[0])
        raws, gws, errs = [], [], 0
        with ttsgate_server(engines=engine_name, cache="off") as (url, _pid):  # default settings
            asyncio.run(gateway_rate(url, voice, texts, 2.0))  # warm the HTTP path
            for _ in range(rounds):
                raws.append(raw_throughput(engine, work, workers=WORKERS, duration_s=seconds)[0])
                rate, _n, e = asyncio.run(gateway_rate(url, voice, texts, seconds))
                gws.append(rate)
                errs += e
        engine.close()
        ratios = [g / r for g, r in zip(gws, raws, strict=True)]
        med = statistics.median
        rows.append(
            [
                engine_name,
                f"{med(raws):.2f}",
                f"{med(gws):.2f}",
                f"**{med(ratios):.2f}**",
                f"{min(ratios):.2f}–{max(ratios):.2f}",
                str(errs),
            ]
        )
        detail.append(
            f"- {engine_name}: raw {', '.join(f'{x:.2f}' for x in raws)}; gateway "
            f"{', '.join(f'{x:.2f}' for x in gws)} texts/s"
        )
        print(rows[-1], file=sys.stderr)
    head = [
        "engine",
        "raw in-process texts/s",
        "gateway texts/s",
        "gateway / raw (median)",
        "per-round range",
        "gateway errors",
    ]
    return f"""# Gateway efficiency: HTTP gateway vs the raw engine, same worker count

Command: `.venv/bin/python benchmarks/gateway_efficiency.py {seconds:g} {rounds}` — per engine, a
`ttsgate serve` subprocess with only that engine (`TTSGATE_ENGINES=<engine> TTSGATE_CACHE=off`,
otherwise default settings: {WORKERS} workers), and the same engine loaded in the script's process.
{rounds} rounds of {seconds:g} s each alternate: raw (`{WORKERS}` threads calling `engine.synthesize` on
the inputs the gateway's text pipeline makes of each text, one call per input) and gateway
(`ttsgate.bench` closed loop,
concurrency {CONCURRENCY}, `/v1/audio/speech` wav, every response decoded and length-checked). 4 one-sentence
texts per language, cycled.

{environment(load)}

{table(head, rows)}
Per round:

{chr(10).join(detail)}

**Goal ≥ 0.90.** The gateway's extra work per request, on the same 2 cores as the engine: HTTP + JSON,
text normalization, resampling to 24 kHz (piper is 22.05 kHz), WAV framing, and — because the load
generator runs on the same machine — the client's own HTTP handling and PyAV decode of every response.
The raw baseline does none of that. With one worker the engine is idle between a batch's end and the
next batch's start only for the scheduler hop (queue → executor), since 4 requests keep the queue full.
"""


if __name__ == "__main__":
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 15.0
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    (ROOT / "benchmarks" / "gateway_efficiency.md").write_text(main(secs, n), encoding="utf-8")
