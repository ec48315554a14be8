"""Edge server RSS under concurrent use: peak, end of the load, and after the server goes idle.

    cd benchmarks && ../.venv/bin/python edge_load.py                   # 3 clients, 300 requests
    cd benchmarks && ../.venv/bin/python edge_load.py --long-share 0.2  # a fifth long inputs

``ttsgate serve`` with ``TTSGATE_PROFILE=edge`` (and whatever else is in the environment) and a fresh
cache dir; once ``/ready`` answers 200, ``--clients`` threads send ``--requests`` requests between
them, one at a time each: short Mandarin, English and mixed inputs (two sentences of
``texts_*.txt`` picked at random, so few are cache hits) and ~5 % long inputs (one sentence of 7
Mandarin or 5 English clauses picked at random, ~20-30 s of speech, as one engine run where the
engine takes it whole). A 503 is retried after its Retry-After. A
sampler reads the server's RSS (psutil) every 0.5 s throughout. Prints one JSON line: RSS after
warm-up, the peak and the end of the load, then after ``--idle-s`` seconds idle (the server trims
the C heap once it has been idle ~1 s: ``MemoryGuard``'s idle reclaim), status counts (a 503 with
its code: ``realtime``, ``memory`` ...), and /ready's status and memory figures. RSS in MiB
(2**20 bytes), as /ready's ``rss_mb``. The clients stop taking requests after ``--max-s`` (300 s).
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil
from _common import ttsgate_server

HERE = Path(__file__).resolve().parent
MIXED = [
    "我明天要去 Starbucks 买一杯 latte，然后去 office 开会。",
    "这个 project 的 deadline 是下周五，请大家 check 一下 email。",
    "He said 你好 and then ordered 饺子 for the whole table.",
    "我们用 Python 和 ONNX 做了一个 TTS demo，效果还不错。",
]


def mib(pid: int) -> float:
    return round(psutil.Process(pid).memory_info().rss / 2**20, 1)


def requests_plan(n: int, rng: random.Random, long_share: float) -> list[dict[str, str]]:
    zh = (HERE / "texts_zh.txt").read_text(encoding="utf-8").split()
    en = [line for line in (HERE / "texts_en.txt").read_text(encoding="utf-8").splitlines() if line]
    plan = []
    for _ in range(n):
        kind = rng.random()
        if kind < long_share:  # one long sentence of random clauses: ~20-30 s of speech, not cached
            if rng.random() < 0.5:
                text = "，".join(t.rstrip("。！？") for t in rng.sample(zh, 7)) + "。"
                plan.append({"voice": "zh_female_baker", "input": text, "kind": "long"})
            else:
                text = ", and ".join(t.rstrip(".!?") for t in rng.sample(en, 5)) + "."
                plan.append({"voice": "en_male_joe", "input": text, "kind": "long"})
        elif kind < long_share + 0.35:
            plan.append({"voice": "zh_female_baker", "input": "".join(rng.sample(zh, 2)), "kind": "zh"})
        elif kind < long_share + 0.70:
            plan.append({"voice": "en_male_joe", "input": " ".join(rng.sample(en, 2)), "kind": "en"})
        else:
            text = rng.choice(MIXED) + rng.choice(zh)
            plan.append({"voice": "zh_female_baker", "input": text, "kind": "mixed"})
    return plan


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=3)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--idle-s", type=float, default=12.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-s", type=float, default=300.0, help="stop sending after this long")
    ap.add_argument("--long-share", type=float, default=0.05, help="share of long inputs (0.05)")
    args = ap.parse_args()
    plan = requests_plan(args.requests, random.Random(args.seed), args.long_share)
    todo = collections.deque(plan)
    statuses: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    with (
        tempfile.TemporaryDirectory() as cache,
        ttsgate_server(profile="edge", cache_dir=cache) as (url, pid),
    ):
        out: dict[str, object] = {"clients": args.clients, "requests": args.requests}
        out["long_share"] = args.long_share
        out["rss_mb_ready"] = mib(pid)
        samples: list[tuple[float, float]] = []
        stop = threading.Event()
        t0 = time.monotonic()

        def sample() -> None:
            while not stop.is_set():
                samples.append((time.monotonic() - t0, mib(pid)))
                stop.wait(0.5)

        def client() -> None:
            with httpx.Client(timeout=300) as http:
                while True:
                    with lock:
                        if not todo or time.monotonic() - t0 > args.max_s:
                            return
                        req = todo.popleft()
                    body = {"input": req["input"], "voice": req["voice"], "response_format": "pcm"}
                    for _ in range(20):
                        r = http.post(f"{url}/v1/audio/speech", json=body)
                        code = r.json()["error"].get("code") if r.status_code == 503 else None
                        with lock:
                            statuses[f"{req['kind']}:{r.status_code}" + (f":{code}" if code else "")] += 1
                        if r.status_code != 503:
                            break
                        time.sleep(float(r.headers.get("retry-after", "1")))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        load_s = time.monotonic() - t0
        out["load_s"] = round(load_s, 1)
        out["not_sent"] = len(todo)
        out["rss_mb_peak"] = max(rss for _, rss in samples)
        out["rss_mb_end"] = mib(pid)
        time.sleep(args.idle_s)
        stop.set()
        sampler.join()
        out[f"rss_mb_after_{args.idle_s:g}s_idle"] = mib(pid)
        out["statuses"] = dict(sorted(statuses.items()))
        ready = httpx.get(f"{url}/ready")
        out["ready_status"] = ready.status_code  # 503 while memory refuses new work
        out["ready"] = ready.json()["memory"]
        idle = [rss for t, rss in samples if t > load_s]
        out["rss_mb_idle_samples"] = idle[:: max(1, len(idle) // 8)]
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
