"""Cache-hit throughput and latency (wrk), single-flight, and metrics on/off: writes benchmarks/cache.md.

    .venv/bin/python benchmarks/cache.py            # needs wrk and redis-server (Debian packages)

The server is a separate process (uvicorn, one worker, sine voices so nothing but the gateway is
measured); wrk (C, one thread) is the load generator on the same two cores. Every configuration is
run ``ROUNDS`` times, interleaved, and the median reported, because the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.metrics import total  # noqa: E402

TEXT = "Hello from ttsgate."
BODY = f'{{"input":"{TEXT}","voice":"alloy","response_format":"mp3"}}'
ROUNDS, SECONDS = 3, 10
# name, cache, request cache (the whole-request short-circuit), metrics, extra env, wrk connections
CONFIGS: list[tuple[str, str, bool, bool, dict[str, str], int]] = [
    ("disk", "disk", True, True, {}, 16),
    ("disk, 8 connections", "disk", True, True, {}, 8),
    ("disk, segment hits only (before)", "disk", False, True, {}, 16),
    ("redis", "redis", True, True, {}, 16),
    ("redis, 8 connections", "redis", True, True, {}, 8),
    ("redis, no near tier (before)", "redis", True, True, {"TTSGATE_CACHE_MEMORY_MB": "0"}, 16),
    ("redis, segment hits only (before)", "redis", False, True, {}, 16),
    ("disk, TTSGATE_METRICS=false", "disk", True, False, {}, 16),
]


def serve(port: int, whole_request: bool) -> None:
    import uvicorn
    from tests.support.tables import sine_table

    from ttsgate.config import Settings
    from ttsgate.logging_setup import configure_logging
    from ttsgate.server import create_app

    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)  # INFO: the access log is on
    app = create_app(settings, table=sine_table(delay_s=0.2))
    app.state.request_cache.enabled = whole_request
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


def start(
    cache: str, whole: bool, metrics: bool, extra: dict[str, str], tmp: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = int(
        subprocess.check_output(
            [
                sys.executable,
                "-c",
                "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])",
            ]
        )
    )
    env = {
        **os.environ,
        "TTSGATE_CACHE": cache,
        "TTSGATE_METRICS": str(metrics).lower(),
        "TTSGATE_CACHE_DIR": str(tmp / "cache"),
        "PYTHONPATH": str(ROOT),
        **extra,
    }
    args = [sys.executable, __file__, "--serve", str(port)] + ([] if whole else ["--segment-only"])
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.1)


def wrk(url: str, script: Path, connections: int) -> tuple[float, float, float, int]:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{SECONDS}s",
            "--latency",
            "-s",
            str(script),
            f"{url}/v1/audio/speech",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        v, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, pct("50"), pct("99"), int(bad.group(1)) if bad else 0


async def _burst(url: str, n: int) -> set[int]:
    body = {"input": "今天天气很好。我们去公园散步吧！", "voice": "zh_test", "response_format": "pcm"}
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=n)) as c:
        rs = await asyncio.gather(*(c.post("/v1/audio/speech", json=body) for _ in range(n)))
    return {r.status_code for r in rs}


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ttsgate-bench-"))
    script = tmp / "post.lua"
    script.write_text(
        f"wrk.method = 'POST'\nwrk.body = '{BODY}'\nwrk.headers['Content-Type'] = 'application/json'\n"
    )
    redis = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            "6399",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp),
        ],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    load_before = os.getloadavg()
    results: dict[str, list[tuple[float, float, float, int]]] = {c[0]: [] for c in CONFIGS}
    flights: dict[str, tuple[float, set[int]]] = {}
    try:
        for rnd in range(ROUNDS):
            for name, cache, whole, metrics, extra, conns in CONFIGS:
                backend = "redis://127.0.0.1:6399/0" if cache == "redis" else cache
                if cache == "redis":
                    subprocess.run(["redis-cli", "-p", "6399", "flushall"], capture_output=True, check=True)
                proc, url = start(backend, whole, metrics, extra, tmp / f"{rnd}-{len(results[name])}-{cache}")
                try:
                    if rnd == 0 and name in ("disk", "redis"):
                        codes = asyncio.run(_burst(url, 50))
                        flights[name] = (total(url, "ttsgate_segments_synthesized_total"), codes)
                    httpx.post(
                        f"{url}/v1/audio/speech",
                        content=BODY,
                        headers={"content-type": "application/json"},
                        timeout=30,
                    ).raise_for_status()
                    httpx.post(
                        f"{url}/v1/audio/speech",
                        content=BODY,
                        headers={"content-type": "application/json"},
                        timeout=30,
                    ).raise_for_status()
                    results[name].append(wrk(url, script, conns))
                    print(name, results[name][-1], flush=True)
                finally:
                    proc.terminate()
                    proc.wait(timeout=20)
    finally:
        redis.terminate()
        redis.wait()
    report(results, flights, load_before)


def report(
    results: dict[str, list[tuple[float, float, float, int]]],
    flights: dict[str, tuple[float, set[int]]],
    load_before: tuple[float, ...],
) -> None:
    import platform

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    med = {k: tuple(statistics.median(r[i] for r in v) for i in range(3)) for k, v in results.items()}
    base = med["disk"][0]
    rows = []
    for name, runs in results.items():
        rps, p50, p99 = med[name]
        allr = ", ".join(f"{r[0]:.0f}" for r in runs)
        bad = sum(r[3] for r in runs)
        rows.append(f"| {name} | {rps:.0f} | {p50:.2f} | {p99:.2f} | {rps / base:.2f} | {allr} | {bad} |")
    fig, ax = plt.subplots(figsize=(8, 3.2))
    names = list(results)
    ax.barh(names, [med[n][0] for n in names], color="#4a7")
    ax.axvline(1500, color="r", ls="--", lw=1, label="goal 1500 req/s")
    ax.set_xlabel("requests/s (median of rounds), cache hits, short sentence, mp3")
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(ROOT / "benchmarks" / "cache.png", dpi=110)
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    env = (
        f"{cpu}, {os.cpu_count()} cores shared with other jobs; load average {load_before} before, "
        f"{os.getloadavg()} after; Python {platform.python_version()}; {time.strftime('%Y-%m-%d %H:%M')}"
    )
    flight_rows = "\n".join(
        f"| {k} | 50 | {sorted(c)} | {n:.0f} (2 segments) |" for k, (n, c) in flights.items()
    )
    (ROOT / "benchmarks" / "cache.results.md").write_text(
        f"Environment: {env}\n\n"
        f"| configuration | req/s | P50 ms | P99 ms | req/s vs disk | req/s per round | non-2xx |\n"
        f"|---|---:|---:|---:|---:|---|---:|\n" + "\n".join(rows) + "\n\n"
        "| single-flight | concurrent identical requests | statuses | segments synthesized |\n"
        "|---|---:|---|---:|\n" + flight_rows + "\n"
    )
    print((ROOT / "benchmarks" / "cache.results.md").read_text())


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--serve", type=int)
    p.add_argument("--segment-only", action="store_true")
    a = p.parse_args()
    if a.serve:
        serve(a.serve, not a.segment_only)
    else:
        main()
