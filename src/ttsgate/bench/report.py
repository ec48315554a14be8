"""A run's report: ``report.md`` (environment, one row per target × level, ratios to the baseline
target), ``results.json`` (everything, raw), and PNG plots (matplotlib, Agg backend): latency and
throughput against concurrency (or arrival rate), and the CDF of time to first audio byte."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ttsgate.bench.stats import BenchRun, RequestResult, Summary, ratio


def _ms(x: float) -> str:
    return "–" if math.isnan(x) else f"{x * 1000:.0f}"


def _num(x: float | None, fmt: str = "{:.1f}") -> str:
    return "–" if x is None or math.isnan(x) else fmt.format(x)


def _errors(s: Summary) -> str:
    other = {k: v for k, v in s.errors.items() if k not in ("http_503", "truncated", "corrupt")}
    return ", ".join(f"{k} {v}" for k, v in other.items()) or "0"


def summary_table(summaries: Sequence[Summary]) -> str:
    head = (
        "| target | phase | requests | ok | 503 | other errors | truncated | corrupt | req/s | audio s/s "
        "| P50 ms | P95 ms | P99 ms | TTFA P50 ms | TTFA P99 ms | min audio ratio | server CPU % | RSS MB |\n"
        "|---|---|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n"
    )
    rows = []
    for s in summaries:
        rss = f"{_num(s.rss_start_mb, '{:.0f}')}→{_num(s.rss_end_mb, '{:.0f}')}" if s.rss_start_mb else "–"
        rows.append(
            f"| {s.target} | {s.phase} | {s.requests} | {s.ok} | {s.n503} | {_errors(s)} "
            f"| {s.errors.get('truncated', 0)} | {s.errors.get('corrupt', 0)} "
            f"| {s.rps:.2f} | {s.audio_rps:.1f} "
            f"| {_ms(s.latency['p50'])} | {_ms(s.latency['p95'])} | {_ms(s.latency['p99'])} "
            f"| {_ms(s.ttfa['p50'])} | {_ms(s.ttfa['p99'])} | {_num(s.audio_ratio_min, '{:.3f}')} "
            f"| {_num(s.cpu_mean, '{:.0f}')} | {rss} |"
        )
    return head + "\n".join(rows) + "\n"


def ratio_table(summaries: Sequence[Summary], baseline: str) -> str:
    """Each non-baseline target against the baseline at the same level: throughput and P99 ratios."""
    base = {s.level: s for s in summaries if s.target == baseline}
    rows = []
    for s in summaries:
        b = base.get(s.level)
        if s.target == baseline or b is None:
            continue
        rows.append(
            f"| {s.target} / {baseline} | {s.phase} | {ratio(s.rps, b.rps):.2f} "
            f"| {ratio(s.audio_rps, b.audio_rps):.2f} | {ratio(s.latency['p99'], b.latency['p99']):.2f} "
            f"| {ratio(s.ttfa['p99'], b.ttfa['p99']):.2f} |"
        )
    if not rows:
        return ""
    return (
        "| ratio | phase | req/s | audio s/s | P99 latency | P99 TTFA |\n|---|---|--:|--:|--:|--:|\n"
        + "\n".join(rows)
        + "\n"
    )


def _target_line(t: dict[str, Any]) -> str:
    what = {"piper": "its WAV", "wyoming": f"voice {t['voice'] or 'default'}"}.get(
        t["kind"], f"voice {t['voice']}, {t['fmt']}"
    )
    return f"`{t['name']}` = {t['kind']} {t['url']} ({what})"


def header(meta: dict[str, Any]) -> list[str]:
    """A report's first lines: title, command, host facts and load, targets."""
    host = meta.get("host", {})
    return [
        f"# ttsgate bench: {meta.get('mode', '?')}",
        "",
        f"Command: `{meta.get('command', '?')}`",
        "",
        f"Host: {host.get('cpu', '?')}, {host.get('cores', '?')} cores; load average before "
        f"{host.get('loadavg', '?')}, after {meta.get('loadavg_after', '?')}; {host.get('time', '')}",
        "",
        "Targets: " + ", ".join(_target_line(t) for t in meta.get("targets", [])),
        "",
    ]


def markdown(run: BenchRun, summaries: Sequence[Summary], baseline: str | None = None) -> str:
    m = run.meta
    lines = [*header(m), summary_table(summaries)]
    if m.get("checks"):
        lines += ["Findings:", "", *(f"- {c}" for c in m["checks"]), ""]
    if baseline:
        table = ratio_table(summaries, baseline)
        if table:
            lines += [f"Ratios against `{baseline}` at the same level:", "", table]
    lines += [
        "Latencies and TTFA are over successful requests; req/s and audio s/s count successful ones "
        "over the phase's wall time. `min audio ratio`: shortest decoded duration / the reference "
        "response's duration of the same text.",
        "",
    ]
    return "\n".join(lines)


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend, None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def save(fig: Any, path: Path) -> Path:
    """Write ``fig`` as a PNG and close it."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def cdf(ax: Any, values: Sequence[float], label: str) -> None:
    """The empirical CDF of ``values`` as a step line (nothing when empty)."""
    xs = sorted(values)
    if xs:
        ax.step(xs, [(i + 1) / len(xs) for i in range(len(xs))], where="post", label=label)


def plots(summaries: Sequence[Summary], results: Sequence[RequestResult], out: Path) -> list[Path]:
    """Write the PNGs; returns their paths (none without matplotlib)."""
    plt = pyplot()
    if plt is None:
        return []
    targets = list(dict.fromkeys(s.target for s in summaries))
    xlabel = "arrival rate (req/s)" if any(s.mode == "open" for s in summaries) else "concurrency"
    written = []

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for t in targets:
        mine = sorted((s for s in summaries if s.target == t), key=lambda s: s.level)
        xs = [s.level for s in mine]
        ax.plot(xs, [s.latency["p50"] * 1000 for s in mine], marker="o", label=f"{t} P50")
        ax.plot(xs, [s.latency["p99"] * 1000 for s in mine], marker="x", linestyle="--", label=f"{t} P99")
    ax.set(xlabel=xlabel, ylabel="latency (ms)", title="Latency")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    written.append(save(fig, out / "latency.png"))

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for t in targets:
        mine = sorted((s for s in summaries if s.target == t), key=lambda s: s.level)
        ax.plot([s.level for s in mine], [s.rps for s in mine], marker="o", label=t)
    ax.set(xlabel=xlabel, ylabel="successful requests / s", title="Throughput")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    written.append(save(fig, out / "throughput.png"))

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for s in summaries:
        ttfa = sorted(
            r.ttfa_s * 1000
            for r in results
            if r.target == s.target and r.phase == s.phase and r.ok and r.ttfa_s is not None
        )
        cdf(ax, ttfa, f"{s.target} {s.phase}")
    ax.set(xlabel="time to first audio byte (ms)", ylabel="fraction of requests", title="TTFA CDF")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    written.append(save(fig, out / "ttfa_cdf.png"))
    return written


def write_report(run: BenchRun, out: Path, baseline: str | None = None) -> str:
    out.mkdir(parents=True, exist_ok=True)
    summaries = run.summaries()
    run.save(out / "results.json")
    text = markdown(run, summaries, baseline)
    pngs = plots(summaries, run.results, out)
    if pngs:
        text += "\n" + "\n".join(f"![{p.stem}]({p.name})" for p in pngs) + "\n"
    (out / "report.md").write_text(text, encoding="utf-8")
    return text
