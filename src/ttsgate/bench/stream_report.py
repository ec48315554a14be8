"""``ttsgate bench stream``'s report: ``report.md`` (a table per mode), ``results.json`` (every stream,
with its audio arrivals) and PNGs: TTFA P95 and the worst stall against concurrency per target, and
the CDF of TTFA."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ttsgate.bench.capacity import LevelSummary, StreamBench
from ttsgate.bench.report import _ms, _num, cdf, header, pyplot, save


def _errors(lv: LevelSummary) -> str:
    return ", ".join(f"{k} {v}" for k, v in lv.errors.items()) or "0"


def _retry_after(lv: LevelSummary) -> str:
    return "–" if lv.retry_after_all is None else ("all" if lv.retry_after_all else "not all")


def level_table(
    levels: Sequence[LevelSummary],
    stall_limit_s: float,
    *,
    passed: bool = False,
    versus: Callable[[LevelSummary], float] | None = None,
) -> str:
    """One row per level; ``passed``: a pass/fail column; ``versus``: a column of ``versus(level)``
    (speech/s ÷ the capacity level's)."""
    cols = [
        "target",
        "level",
        "streams",
        "accepted",
        "refused",
        "errors",
        "TTFA P50 ms",
        "TTFA P95 ms",
        "TTFA max ms",
        f"stalled > {stall_limit_s * 1000:.0f} ms",
        "worst stall ms",
        "refusal P50 / max ms",
        "Retry-After",
        "speech s/s",
        "server CPU %",
    ]
    cols += ["pass"] if passed else []
    cols += ["speech ÷ capacity's"] if versus is not None else []
    rows = [
        "| " + " | ".join(cols) + " |",
        "|" + "|".join("---" if c in ("target", "level", "errors") else "--:" for c in cols) + "|",
    ]
    for lv in levels:
        cells = [
            lv.target,
            lv.phase,
            str(lv.started),
            str(lv.accepted),
            str(lv.refused),
            _errors(lv),
            _ms(lv.ttfa["p50"]),
            _ms(lv.ttfa["p95"]),
            _ms(lv.ttfa["max"]),
            str(lv.stalled),
            _ms(lv.worst_stall_s),
            f"{_ms(lv.refusal['p50'])} / {_ms(lv.refusal['max'])}" if lv.refused else "–",
            _retry_after(lv),
            f"{lv.speech_per_s:.1f}",
            _num(lv.cpu_mean, "{:.0f}"),
        ]
        cells += ["pass" if lv.passed else "fail"] if passed else []
        cells += [_num(versus(lv), "{:.2f}")] if versus is not None else []
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def _reference_table(bench: StreamBench) -> str:
    rows = [
        "| target | text | chars | outcome | audio s | TTFA ms | worst stall ms |",
        "|---|--:|--:|---|--:|--:|--:|",
    ]
    for r in bench.records:
        if r.phase == "reference":
            rows.append(
                f"| {r.target} | {r.text_id} | {r.chars} | {r.outcome} | {r.audio_s:.1f} "
                f"| {_ms(r.ttfa_s if r.ttfa_s is not None else math.nan)} | {_ms(r.worst_stall_s)} |"
            )
    return "\n".join(rows) + "\n"


def _capacity_table(bench: StreamBench) -> str:
    cores = os.cpu_count() or 1
    rows = [
        "| target | capacity | levels tried (✓ pass, ✗ fail) | TTFA P95 ms at capacity "
        "| worst stall ms at capacity | speech s/s at capacity | server CPU s per speech s "
        f"| physical limit ({cores} cores ÷ that) | capacity ÷ physical limit |",
        "|---|--:|---|--:|--:|--:|--:|--:|--:|",
    ]
    for name, cap in bench.capacity.items():
        s = bench.searches.get(name)
        tried = " ".join(f"{n}{'✓' if ok else '✗'}" for n, ok in s.tried) if s else f"given: {cap}"
        lv = bench.capacity_level(name)
        figures = "– | – | – | – | – | –"
        if lv:
            figures = f"{_ms(lv.ttfa['p95'])} | {_ms(lv.worst_stall_s)} | {lv.speech_per_s:.1f} | "
            per_s = lv.cpu_mean / 100 / lv.speech_per_s if lv.cpu_mean and lv.speech_per_s else None
            # A stream plays one second of speech a second: cores ÷ CPU per speech-second streams.
            figures += (
                f"{per_s:.3f} | {cores / per_s:.1f} | {cap * per_s / cores:.2f}" if per_s else "– | – | –"
            )
        rows.append(f"| {name} | {cap} | {tried} | {figures} |")
    return "\n".join(rows) + "\n"


def _versus(bench: StreamBench) -> Callable[[LevelSummary], float]:
    """A level's accepted speech/s ÷ that of its target's capacity level."""

    def ratio(lv: LevelSummary) -> float:
        base = bench.capacity_level(lv.target)
        return lv.speech_per_s / base.speech_per_s if base and base.speech_per_s else math.nan

    return ratio


def _findings(bench: StreamBench) -> list[str]:
    out = []
    versus = _versus(bench)
    for name, cap in bench.capacity.items():
        s = bench.searches.get(name)
        how = f"searched over {len(s.tried)} level run{'s' * (len(s.tried) != 1)}" if s else "given"
        out.append(f"{name}: capacity {cap} concurrent stream{'s' * (cap != 1)} ({how})")
    out += bench.checks
    for lv in bench.levels:
        if lv.mode != "overload":
            continue
        ratio = versus(lv)
        refused = (
            f"{lv.refused} refused in {_ms(lv.refusal['p50'])} ms (P50), Retry-After on {_retry_after(lv)}"
            if lv.refused
            else "none refused"
        )
        out.append(
            f"{lv.target} {lv.phase}: {lv.accepted}/{lv.started} accepted ({refused}); accepted streams' "
            f"TTFA P95 {_ms(lv.ttfa['p95'])} ms, {lv.stalled} stalled, worst stall "
            f"{_ms(lv.worst_stall_s)} ms; speech {lv.speech_per_s:.1f} s/s = {_num(ratio, '{:.2f}')} × "
            "capacity's"
        )
    return out


def plots(bench: StreamBench, out: Path) -> list[Path]:
    plt = pyplot()
    if plt is None or not bench.levels:
        return []
    from matplotlib import ticker

    args = bench.args
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for tgt in dict.fromkeys(lv.target for lv in bench.levels):
        by_n = {lv.n: lv for lv in bench.levels if lv.target == tgt}  # the last run of each level
        ns = sorted(by_n)
        a1.plot(ns, [by_n[n].ttfa["p95"] * 1000 for n in ns], marker="o", label=tgt)
        a2.plot(ns, [by_n[n].worst_stall_s * 1000 for n in ns], marker="o", label=tgt)
    a1.axhline(args.ttfa_target * 1000, color="grey", linestyle=":", label="TTFA target")
    a2.axhline(args.stall_limit * 1000, color="grey", linestyle=":", label="stall limit")
    a1.set(xlabel="concurrent streams", ylabel="TTFA P95 (ms)", title="TTFA P95 of accepted streams")
    a2.set(xlabel="concurrent streams", ylabel="worst stall (ms)", title="Worst stall of accepted streams")
    for ax in (a1, a2):
        if max(lv.n for lv in bench.levels) >= 8:
            ax.set_xscale("log", base=2)
            ax.xaxis.set_major_formatter(ticker.ScalarFormatter())
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    written = [save(fig, out / "levels.png")]

    shown = [lv for lv in bench.levels if lv.mode != "search" or lv is bench.capacity_level(lv.target)]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for lv in shown[:16]:
        recs = [r for r in bench.records if r.target == lv.target and r.phase == lv.phase and r.accepted]
        cdf(ax, [r.ttfa_s * 1000 for r in recs if r.ttfa_s is not None], f"{lv.target} {lv.phase}")
    ax.set(xlabel="time to first audio byte (ms)", ylabel="fraction of accepted streams", title="TTFA CDF")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    written.append(save(fig, out / "ttfa_cdf.png"))
    return written


def write_stream_report(bench: StreamBench, meta: dict[str, Any], out: Path) -> str:
    out.mkdir(parents=True, exist_ok=True)
    args = bench.args
    data = {
        "meta": meta,
        "levels": [asdict(lv) for lv in bench.levels],
        "capacity": {
            k: {"capacity": v, "tried": bench.searches[k].tried if k in bench.searches else []}
            for k, v in bench.capacity.items()
        },
        "streams": [asdict(r) for r in bench.records],
    }
    (out / "results.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    findings = _findings(bench)
    same = meta.get("same_start")
    lines = [
        *header(meta),
        f"Each stream speaks one paragraph, distinct per stream"
        f"{f' after the same first sentence ({same!r})' if same else ''}; a "
        f"level's streams start evenly spread over {args.spread:g} s. A stall: the simulated real-time "
        "player (playback from the first audio byte) has played all it received and waits for more. "
        f"A level passes when every stream is accepted and whole, the TTFA P95 is at most "
        f"{args.ttfa_target:g} s and no stream stalls longer than {args.stall_limit:g} s.",
        "",
        "Unloaded reference streams (one per text; a later stream shorter than "
        f"{1 - args.tolerance:.0%} of its text's reference is `truncated`):",
        "",
        _reference_table(bench),
    ]
    sections = [
        ("concurrency", "Concurrency levels", False, None),
        ("search", "Capacity search, every level run", True, None),
        ("capacity", "At the given capacity", True, None),
        ("overload", "Overload (N × capacity)", False, _versus(bench)),
    ]
    for mode, title, passed, versus in sections:
        levels = [lv for lv in bench.levels if lv.mode == mode]
        if levels:
            lines += [f"## {title}", "", level_table(levels, args.stall_limit, passed=passed, versus=versus)]
        if mode == "search" and bench.capacity:
            lines += ["## Capacity", "", _capacity_table(bench)]
    if findings:
        lines += ["Findings:", "", *(f"- {c}" for c in findings), ""]
    lines += [
        "TTFA, stalls and speech count the accepted streams; speech s/s is their audio seconds over the "
        "level's wall time (first start to last end); refusal: time from the request to the 503.",
        "",
    ]
    text = "\n".join(lines)
    pngs = plots(bench, out)
    if pngs:
        text += "\n" + "\n".join(f"![{p.stem}]({p.name})" for p in pngs) + "\n"
    (out / "report.md").write_text(text, encoding="utf-8")
    return text
