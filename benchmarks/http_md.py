"""Write benchmarks/vs_piper_http.md and benchmarks/overload.md from the `ttsgate bench` runs of
benchmarks/run_http.sh (their results.json, report.md and PNGs stay in the sub-folders).

    benchmarks/run_http.sh all
    .venv/bin/python benchmarks/http_md.py benchmarks/vs_piper_http/notes.md benchmarks/overload/notes.md
"""

from __future__ import annotations

import sys
from pathlib import Path

from ttsgate.bench.report import ratio_table, summary_table
from ttsgate.bench.stats import BenchRun, load_run

B = Path(__file__).resolve().parent


def env(run: BenchRun) -> str:
    h = run.meta["host"]
    return (
        f"Host: {h['cpu']}, {h['cores']} cores (client and servers on the same cores); load average "
        f"{h['loadavg']} before, {run.meta['loadavg_after']} after; {h['time']}."
    )


def section(run: BenchRun, folder: str, baseline: str | None) -> str:
    sums = run.summaries()
    text = f"Command: `{run.meta['command']}`\n\n{env(run)}\n\n{summary_table(sums)}\n"
    if baseline:
        text += f"Ratios against `{baseline}`:\n\n{ratio_table(sums, baseline)}\n"
    if run.meta.get("checks"):
        text += "".join(f"- {c}\n" for c in run.meta["checks"]) + "\n"
    for png in ("latency", "throughput", "ttfa_cdf"):
        if (B / folder / f"{png}.png").exists():
            text += f"![{png}]({folder}/{png}.png) "
    return text + "\n"


def main(notes_vs: str, notes_over: str) -> None:
    off = load_run(B / "vs_piper_http/cache_off/results.json")
    on = load_run(B / "vs_piper_http/cache_on/results.json")
    (B / "vs_piper_http.md").write_text(
        "# ttsgate vs piper's own http server, same joe voice\n\n"
        "The servers run side by side (started by `ttsgate bench --start`): ttsgate with 1 worker "
        "(the default) and with `TTSGATE_WORKERS=2`, and piper's own http server; at each concurrency "
        "level each target is measured in turn, so all see the same machine load. Texts: English "
        "sentences (cache off: the 48 distinct ones of texts_en.txt; cache on: 4 repeated), cycled; "
        "ttsgate returns streamed WAV at 24 kHz, piper a WAV at 22.05 kHz; every "
        "response decoded with PyAV and checked against the reference length of its text.\n\n"
        "## Cache off (fair comparison)\n\n"
        + section(off, "vs_piper_http/cache_off", "piper")
        + "## Cache on (`TTSGATE_CACHE=memory`, labelled separately: repeated texts come from memory)\n\n"
        + section(on, "vs_piper_http/cache_on", "piper")
        + notes_vs,
        encoding="utf-8",
    )
    parts = [
        "# Overload: 10× capacity for 60 s\n\n",
        "![accepted P99 ÷ unloaded P99](overload/summary.png)\n\n",
    ]
    ratios: dict[str, tuple[float, float]] = {}
    for d in sorted((B / "overload").glob("max_queue_*")):
        run = load_run(d / "results.json")
        parts.append(f"## {d.name}\n\n" + section(run, f"overload/{d.name}", None))
        sums = run.summaries()
        unloaded, over = sums[0], sums[-1]
        ratios[d.name] = (
            over.latency["p99"] / unloaded.latency["p99"],
            over.latency["p50"] / unloaded.latency["p50"],
        )
    summary_plot(ratios, B / "overload" / "summary.png")
    (B / "overload.md").write_text("".join(parts) + notes_over, encoding="utf-8")


def summary_plot(ratios: dict[str, tuple[float, float]], out: Path) -> None:
    """Accepted requests' P99 and P50 under overload ÷ the unloaded ones, per configuration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(ratios)
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(names) + 1.2))
    ys = range(len(names))
    ax.barh([y + 0.2 for y in ys], [ratios[n][0] for n in names], height=0.4, label="P99", color="#c64")
    ax.barh([y - 0.2 for y in ys], [ratios[n][1] for n in names], height=0.4, label="P50", color="#48a")
    ax.set_yticks(list(ys), names)
    ax.axvline(2.0, color="k", ls="--", lw=1, label="goal: P99 ≤ 2×")
    ax.set_xscale("log")
    ax.set_xlabel("accepted latency under 10× overload ÷ unloaded (log scale)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    notes = [Path(p).read_text(encoding="utf-8") if Path(p).exists() else "" for p in sys.argv[1:3]]
    main(*[*notes, "", ""][:2])
