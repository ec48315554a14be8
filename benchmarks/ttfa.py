"""Time to first audio byte of a 10-sentence Chinese paragraph through /v1/audio/speech (zh voice,
cache off), against the synthesis time of its first segment alone: in-process through the engine, and
as an HTTP request of just that segment. Rounds interleave the three measurements.

    .venv/bin/python benchmarks/ttfa.py [ROUNDS]      # writes benchmarks/ttfa.md and ttfa.png
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

from ttsgate.bench.inproc import load_engine, plan_inputs, timed
from ttsgate.bench.load import Measurer, Target
from ttsgate.text import TextNormalizer, prepare
from ttsgate.voices import VoiceTable

PARAGRAPH = (
    "今天是二零二六年十一月二十三日，北京的气温是零下三度。早上出门的时候，街上已经有很多人在排队买早餐。"
    "地铁站里比平时更加拥挤，大家都穿着厚厚的羽绒服。公司今天要开一个很重要的会议，讨论明年的工作计划。"
    "会议从上午九点开始，一直持续到中午十二点。午饭以后，我和同事一起去附近的公园散步。"
    "公园里的湖面已经结了一层薄薄的冰。几个孩子在湖边堆雪人，笑得非常开心。"
    "傍晚的时候，天空又开始下起了小雪。回到家里，我给自己煮了一碗热腾腾的面条。"
)
VOICE, FMTS = "zh_female_baker", ("wav", "mp3")


async def run(rounds: int) -> str:
    load = [round(x, 2) for x in os.getloadavg()]
    norm = TextNormalizer()
    segs = prepare(PARAGRAPH, "zh", normalizer=norm)
    first_text = segs[0].text
    table_ = VoiceTable.load()
    inputs = plan_inputs(table_, VOICE, first_text, norm)
    engine = load_engine(table_, "zh-baker")
    engine.synthesize([inputs[0][1]])
    inproc: list[float] = []
    ttfa: dict[str, list[float]] = {f: [] for f in FMTS}
    seg_req: list[float] = []
    with ttsgate_server(engines="zh-baker", cache="off") as (url, _pid):
        targets = {f: Target(f, "openai", url, VOICE, f) for f in FMTS}
        m = Measurer([PARAGRAPH, first_text], t0=time.perf_counter())
        async with httpx.AsyncClient(timeout=120) as client:
            for t in targets.values():
                await m.reference(client, t)  # warm-up + reference durations
            for _ in range(rounds):
                inproc.append(sum(timed(engine, [inp])[0] for _, inp in inputs))
                for f, t in targets.items():
                    r = await m.one(client, t, "para", 0)
                    assert r.ok, r
                    assert r.ttfa_s is not None
                    ttfa[f].append(r.ttfa_s)
                r = await m.one(client, targets["wav"], "seg", 1)
                assert r.ok, r
                seg_req.append(r.latency_s)
    engine.close()
    med = statistics.median
    base = med(inproc)
    rows = [
        ["first segment, in-process `engine.synthesize`", f"{base * 1000:.0f}", "1.00 (baseline)"],
        [
            "first segment alone, HTTP request (wav), total latency",
            f"{med(seg_req) * 1000:.0f}",
            f"{med(seg_req) / base:.2f}",
        ],
    ]
    for f in FMTS:
        rows.append(
            [
                f"paragraph TTFA, /v1/audio/speech {f}",
                f"{med(ttfa[f]) * 1000:.0f}",
                f"{med(ttfa[f]) / base:.2f}",
            ]
        )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    series = {
        "in-process first segment": inproc,
        "HTTP first segment alone": seg_req,
        **{f"paragraph TTFA ({f})": v for f, v in ttfa.items()},
    }
    ax.boxplot(
        [[x * 1000 for x in v] for v in series.values()], tick_labels=list(series), orientation="horizontal"
    )
    ax.set(xlabel="ms", title=f"TTFA vs first-segment synthesis ({rounds} rounds)")
    ax.grid(alpha=0.3)
    fig.savefig(ROOT / "benchmarks" / "ttfa.png", dpi=110, bbox_inches="tight")
    per_round = [t / b for t, b in zip(ttfa["wav"], inproc, strict=True)]
    return f"""# Time to first audio byte: 10-sentence Chinese paragraph

Command: `.venv/bin/python benchmarks/ttfa.py {rounds}` — a `ttsgate serve` subprocess with
`TTSGATE_ENGINES=zh-baker TTSGATE_CACHE=off` (defaults otherwise), the zh-baker engine also loaded in the
script's own process; {rounds} interleaved rounds of: the first segment's inputs synthesized in-process,
the paragraph via `/v1/audio/speech` (voice `{VOICE}`) as wav and as mp3 (TTFA = first body byte), the first
segment alone via HTTP. Medians.

{environment(load)}

Paragraph: {len(PARAGRAPH)} characters, {len(segs)} segments; first segment (≤ 20 characters by design):
`{first_text}`.

{table(["measurement", "median ms", "ratio to in-process first segment"], rows)}
Per-round ratio (wav TTFA / the same round's in-process first segment): min {min(per_round):.2f},
median {med(per_round):.2f}, max {max(per_round):.2f}. **Goal ≤ 1.3.**

![ttfa](ttfa.png)
"""


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    (ROOT / "benchmarks" / "ttfa.md").write_text(asyncio.run(run(n)), encoding="utf-8")
