"""``ttsgate bench MODE``: load one or more speech endpoints side by side and write a report.

Modes (every target is measured at each level before the next level, so the targets share the
machine's conditions):

* ``seed``: the seed article's comparison, a sequential synchronous client (``--requests``) vs an
  asynchronous client at ``--concurrency`` (first value, default 4), in sentences/s;
* ``sweep``: closed loop at each ``--concurrency`` level, ``--requests`` or ``--duration`` per level;
* ``overload``: an unloaded phase (concurrency 1, ``--requests``), a capacity probe (closed loop at
  ``--probe-concurrency``; also the RSS baseline), then an open loop at ``--rate`` or
  ``--rate-factor`` × capacity for ``--duration`` seconds (Poisson or fixed arrivals);
* ``stream``: streaming quality as a listener hears it (``stream``, ``capacity``): N streams of one
  paragraph each, started over ``--spread`` seconds; time to first audio and the stalls of a
  simulated real-time player. ``--concurrency`` levels, ``--capacity`` (the largest N that passes),
  ``--overload`` (N × factor after the capacity); targets also ``piper`` and ``wyoming``.

Before measuring, each text is sent once per target: its decoded duration is the reference that
marks later responses ``truncated``. ``--unique`` makes every request's text distinct
(``load.unique_text``), so that single-flight or a cache cannot merge repeated texts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from ttsgate.bench.load import OnDone, Target
    from ttsgate.bench.probe import ResourceSampler
    from ttsgate.bench.stats import Phase, RequestResult, Sample, Summary

DEFAULT_TEXTS = (
    "The quick brown fox jumps over the lazy dog.",
    "Speech synthesis turns written text into natural sounding audio.",
    "Please remember to bring your umbrella, it may rain this afternoon.",
    "Our meeting has been moved to Thursday at three o'clock.",
)


def _levels(value: str) -> list[int]:
    return [int(x) for x in value.split(",") if x.strip()]


def _factors(value: str) -> list[float]:
    return [float(x) for x in value.split(",") if x.strip()]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("mode", choices=("seed", "sweep", "overload", "stream"))
    p.add_argument(
        "--target",
        action="append",
        required=True,
        metavar="[LABEL=]KIND:URL",
        help="endpoint to load, repeatable; KIND: openai (/v1/audio/speech), tts (GET /tts), "
        "piper (piper.http_server POST /synthesize), wyoming (tcp://HOST:PORT, stream mode only)",
    )
    p.add_argument("--baseline", help="label the other targets are compared with (default: the last)")
    p.add_argument("--voice", default="alloy", help="voice for openai/tts targets")
    p.add_argument("--format", default="wav", choices=("mp3", "opus", "aac", "flac", "wav", "pcm"))
    p.add_argument("--text", action="append", help="a text to send (repeatable; cycled through)")
    p.add_argument("--texts-file", type=Path, help="texts, one per line")
    p.add_argument(
        "--unique",
        action="store_true",
        help="make every request's text distinct (a counter read digit by digit, appended as a clause "
        "of constant length), so that no two requests share a synthesis through single-flight or a cache",
    )
    p.add_argument(
        "--concurrency",
        type=_levels,
        help="levels, e.g. 1,4,8,16 (default: 1,4,8; stream: none if "
        "--capacity, --overload or --capacity-of is given)",
    )
    p.add_argument("--requests", type=int, default=20, help="requests per level (closed loop)")
    p.add_argument("--duration", type=float, help="seconds per level (sweep) or of the open loop")
    p.add_argument("--rate", type=float, help="overload: arrival rate, requests/s")
    p.add_argument("--rate-factor", type=float, default=10.0, help="overload: rate = factor × capacity")
    p.add_argument("--probe-concurrency", type=int, default=4)
    p.add_argument("--arrivals", choices=("poisson", "fixed"), default="poisson")
    p.add_argument(
        "--server-pid",
        action="append",
        default=[],
        metavar="[LABEL=]PID",
        help="sample this server process (CPU, RSS); default label: the first target",
    )
    p.add_argument(
        "--start",
        action="append",
        default=[],
        metavar="LABEL=COMMAND",
        help="start this target's server, wait for it to be ready, sample it, stop it",
    )
    p.add_argument("--timeout", type=float, default=120.0, help="per-request timeout, seconds")
    p.add_argument(
        "--tolerance",
        type=float,
        default=0.2,
        help="a response shorter than (1 - tolerance) × the reference is truncated",
    )
    p.add_argument("--out", type=Path, default=Path("bench-out"), help="output directory")
    p.add_argument("--no-progress", action="store_true")
    s = p.add_argument_group("stream mode (ttsgate bench stream)")
    s.add_argument("--spread", type=float, default=2.0, help="a level's stream starts spread over S seconds")
    s.add_argument(
        "--stall-limit", type=float, default=0.1, help="a stall longer than S seconds fails a level"
    )
    s.add_argument("--ttfa-target", type=float, default=1.5, help="a level passes with TTFA P95 <= S seconds")
    s.add_argument("--capacity", action="store_true", help="search each target's capacity")
    s.add_argument("--confirm", type=int, default=0, help="a passing search level must pass N more times")
    s.add_argument("--max-concurrency", type=int, default=256, help="the capacity search's cap")
    s.add_argument(
        "--overload",
        type=_factors,
        help="after the capacity N (searched, or --capacity-of), levels of N × each factor, e.g. 3,6",
    )
    s.add_argument(
        "--capacity-of",
        action="append",
        default=[],
        metavar="LABEL=N",
        help="a target's capacity, known: no search for it (its level N is run once, for comparison)",
    )
    s.add_argument(
        "--same-start",
        nargs="?",
        const="",
        metavar="SENTENCE",
        help="every stream begins with the same sentence (default: 'Sure, here is the short version.' "
        "or '好的，我来简单说一下。'), then a distinct rest",
    )
    s.add_argument(
        "--wyoming-voice", default="", help="voice name sent to wyoming targets (default: the server's)"
    )


def _labelled(values: list[str], default: str) -> dict[str, str]:
    out = {}
    for v in values:
        label, sep, rest = v.partition("=")
        if sep and label and " " not in label and not label.isdigit():
            out[label] = rest
        else:
            out[default] = v
    return out


def _given_texts(args: argparse.Namespace) -> list[str]:
    texts = list(args.text or [])
    if args.texts_file is not None:
        texts += [ln.strip() for ln in args.texts_file.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return texts


def _texts(args: argparse.Namespace) -> list[str]:
    return _given_texts(args) or list(DEFAULT_TEXTS)


def _targets(args: argparse.Namespace) -> list[Target]:
    """The parsed ``--target``s; in stream mode openai answers pcm, tts WAV, wyoming gets its voice."""
    from dataclasses import replace

    from ttsgate.bench.load import parse_target

    targets = [parse_target(t, voice=args.voice, fmt=args.format) for t in args.target]
    if args.mode != "stream":
        if any(t.kind == "wyoming" for t in targets):
            raise ValueError("wyoming targets are for the stream mode only")
        return targets
    stream_fmt = {"openai": "pcm", "tts": "wav", "piper": "wav", "wyoming": "pcm"}
    return [
        replace(t, fmt=stream_fmt[t.kind], voice=args.wyoming_voice if t.kind == "wyoming" else t.voice)
        for t in targets
    ]


def run(args: argparse.Namespace) -> int:
    try:
        targets = _targets(args)
    except ValueError as exc:
        print(f"ttsgate bench: {exc}", file=sys.stderr)
        return 2
    if len({t.name for t in targets}) != len(targets):
        print("ttsgate bench: target labels must differ (use LABEL=KIND:URL)", file=sys.stderr)
        return 2
    known = {t.name for t in targets}
    for spec in args.capacity_of:
        label, sep, n = spec.partition("=")
        if not sep or label not in known or not n.isdigit():
            print(
                f"ttsgate bench: bad --capacity-of {spec!r}: expected LABEL=N for a target", file=sys.stderr
            )
            return 2
    if args.mode == "stream" and not (args.concurrency or args.capacity or args.overload or args.capacity_of):
        args.concurrency = [1, 4, 8]
    print(asyncio.run(_Session(args, targets).run()))
    return 0


class _Session:
    """One ``bench`` run: its targets, the measurer, phases and results so far."""

    def __init__(self, args: argparse.Namespace, targets: list[Target]) -> None:
        from ttsgate.bench.load import Measurer
        from ttsgate.bench.probe import host_facts

        self.args = args
        self.targets = targets
        self.t0 = time.perf_counter()
        self.measurer = Measurer(_texts(args), t0=self.t0, tolerance=args.tolerance, unique=args.unique)
        self.phases: list[Phase] = []
        self.results: list[RequestResult] = []
        self.checks: list[str] = []
        self.samplers: dict[str, ResourceSampler] = {}
        self.meta: dict[str, Any] = {
            "mode": args.mode,
            "command": "ttsgate " + shlex.join(sys.argv[1:]),
            "host": host_facts(),
            "targets": [asdict(t) for t in targets],
        }

    def _samples(self, name: str) -> list[Sample]:
        s = self.samplers.get(name)
        return s.samples if s is not None else []

    async def _phase(
        self,
        tgt: Target,
        name: str,
        mode: str,
        level: float,
        total: int | None,
        factory: Callable[[OnDone], Awaitable[list[RequestResult]]],
    ) -> Summary:
        from ttsgate.bench.probe import Progress
        from ttsgate.bench.stats import Phase, summarize

        ph = Phase(tgt.name, name, mode, level, t0=time.perf_counter() - self.t0)
        bar = Progress(f"{tgt.name} {name}", total, enabled=not self.args.no_progress)
        got = await factory(lambda r: bar.update(r.error is not None))
        bar.close()
        ph.t1 = time.perf_counter() - self.t0
        self.phases.append(ph)
        self.results.extend(got)
        return summarize(ph, self.results, self._samples(tgt.name))

    async def run(self) -> str:
        import httpx

        from ttsgate.bench.probe import ResourceSampler, started_server, wait_ready
        from ttsgate.bench.report import write_report
        from ttsgate.bench.stats import BenchRun

        args = self.args
        by_name = {t.name: t for t in self.targets}
        pids = {k: int(v) for k, v in _labelled(args.server_pid, self.targets[0].name).items()}
        with contextlib.ExitStack() as stack:
            for label, cmd in _labelled(args.start, self.targets[0].name).items():
                pids[label] = stack.enter_context(started_server(cmd, by_name[label].ready_url))
            for tgt in self.targets:
                await asyncio.to_thread(wait_ready, tgt.ready_url, timeout_s=180.0)
            for label, pid in pids.items():
                self.samplers[label] = stack.enter_context(ResourceSampler(pid, t0=self.t0))
            limits = httpx.Limits(max_connections=4000, max_keepalive_connections=64)
            async with httpx.AsyncClient(timeout=args.timeout, limits=limits) as client:
                if args.mode == "stream":
                    return await self._stream(client)
                for tgt in self.targets:
                    bad = [r for r in await self.measurer.reference(client, tgt) if r.error]
                    if bad:
                        self.checks.append(
                            f"{tgt.name}: {len(bad)} reference request(s) failed ({bad[0].error})"
                        )
                await {"sweep": self._sweep, "seed": self._seed, "overload": self._overload}[args.mode](
                    client
                )
        self.meta["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        self.meta["checks"] = self.checks
        self.meta["reference_s"] = {f"{k[0]}#{k[1]}": v for k, v in self.measurer.expected.items()}
        samples = {k: v.samples for k, v in self.samplers.items()}
        bench_run = BenchRun(meta=self.meta, phases=self.phases, results=self.results, samples=samples)
        baseline = args.baseline or (self.targets[-1].name if len(self.targets) > 1 else None)
        return write_report(bench_run, args.out, baseline)

    def _closed(
        self, client: httpx.AsyncClient, tgt: Target, c: int, n: int | None, d: float | None
    ) -> Callable[[OnDone], Awaitable[list[RequestResult]]]:
        from ttsgate.bench.load import closed_loop

        def start(done: OnDone) -> Awaitable[list[RequestResult]]:
            return closed_loop(
                self.measurer, client, tgt, f"c={c}", concurrency=c, requests=n, duration_s=d, on_done=done
            )

        return start

    async def _sweep(self, client: httpx.AsyncClient) -> None:
        n = None if self.args.duration else self.args.requests
        for c in self.args.concurrency or [1, 4, 8]:
            for tgt in self.targets:
                await self._phase(
                    tgt, f"c={c}", "closed", c, n, self._closed(client, tgt, c, n, self.args.duration)
                )

    async def _seed(self, client: httpx.AsyncClient) -> None:
        from ttsgate.bench.load import sequential

        args = self.args
        c = args.concurrency[0] if args.concurrency else 4
        for tgt in self.targets:

            def seq(done: OnDone, tgt: Target = tgt) -> Awaitable[list[RequestResult]]:
                return asyncio.to_thread(
                    sequential,
                    self.measurer,
                    tgt,
                    "sequential",
                    requests=args.requests,
                    timeout_s=args.timeout,
                    on_done=done,
                )

            s1 = await self._phase(tgt, "sequential", "sequential", 1, args.requests, seq)
            s2 = await self._phase(
                tgt, f"c={c}", "closed", c, args.requests, self._closed(client, tgt, c, args.requests, None)
            )
            self.checks.append(
                f"{tgt.name}: sequential sync client {s1.rps:.2f} sentences/s, async client at "
                f"concurrency {c} {s2.rps:.2f} sentences/s ({s2.rps / max(s1.rps, 1e-9):.2f}×); "
                "the seed article claimed 0.9 vs 3.8"
            )

    async def _overload(self, client: httpx.AsyncClient) -> None:
        from ttsgate.bench.load import open_loop

        args = self.args
        duration = args.duration or 60.0
        for tgt in self.targets:
            unloaded = await self._phase(
                tgt, "c=1", "closed", 1, args.requests, self._closed(client, tgt, 1, args.requests, None)
            )
            # The capacity probe always runs: it also brings the server to its working set at
            # full load, the baseline of the RSS-growth check.
            pc, n = args.probe_concurrency, args.requests * 2
            cap = await self._phase(tgt, f"c={pc}", "closed", pc, n, self._closed(client, tgt, pc, n, None))
            rate = args.rate if args.rate is not None else args.rate_factor * cap.rps
            self.checks.append(
                f"{tgt.name}: capacity {cap.rps:.2f} req/s (closed loop, concurrency {pc}); "
                f"open loop at {rate:.1f} req/s = {rate / max(cap.rps, 1e-9):.1f} × capacity"
            )

            def opn(done: OnDone, tgt: Target = tgt, rate: float = rate) -> Awaitable[list[RequestResult]]:
                return open_loop(
                    self.measurer,
                    client,
                    tgt,
                    f"rate={rate:.1f}",
                    rate=rate,
                    duration_s=duration,
                    poisson=args.arrivals == "poisson",
                    on_done=done,
                )

            s = await self._phase(tgt, f"rate={rate:.1f}", "open", rate, None, opn)
            other = {k: v for k, v in s.errors.items() if k != "http_503"}
            self.checks.append(
                f"{tgt.name}: {s.requests} requests in {duration:g} s: {s.ok} ok, {s.n503} × 503, "
                f"other errors {other or 0}; accepted P99 {s.latency['p99'] * 1000:.0f} ms = "
                f"{s.latency['p99'] / unloaded.latency['p99']:.2f} × unloaded P99 "
                f"{unloaded.latency['p99'] * 1000:.0f} ms"
            )
            over = self.phases[-1]
            before = [x.rss_mb for x in self._samples(tgt.name) if x.t <= over.t0]  # after the probe
            during = [x.rss_mb for x in self._samples(tgt.name) if over.t0 <= x.t <= over.t1 + 1.0]
            if before and during:
                self.checks.append(
                    f"{tgt.name}: server RSS {before[-1]:.0f} MB before the overload, max "
                    f"{max(during):.0f} MB during it: {(max(during) / before[-1] - 1) * 100:+.1f} %"
                )

    async def _stream(self, client: httpx.AsyncClient) -> str:
        """The stream mode, inside ``run``'s servers and samplers: measure, then write its report."""
        from ttsgate.bench.capacity import StreamBench
        from ttsgate.bench.stream import PARAGRAPH_EN, PARAGRAPH_ZH, SAME_START, Paragraphs, StreamContext
        from ttsgate.bench.stream import is_chinese_voice as chinese
        from ttsgate.bench.stream_report import write_stream_report

        args = self.args
        texts = _given_texts(args) or [PARAGRAPH_ZH if chinese(args.voice) else PARAGRAPH_EN]
        same = args.same_start
        if same == "":
            same = SAME_START["zh" if any("\u3400" <= ch <= "\u9fff" for ch in texts[0]) else "en"]
        paragraphs = Paragraphs(texts, same_start=same)
        ctx = StreamContext(
            client,
            paragraphs,
            t0=self.t0,
            timeout_s=args.timeout,
            tolerance=args.tolerance,
            spread_s=args.spread,
            progress=not args.no_progress,
        )
        bench = StreamBench(args, self.targets, ctx, self._samples)
        await bench.run()
        self.meta["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        self.meta["texts"] = texts
        self.meta["same_start"] = same
        return write_stream_report(bench, self.meta, args.out)
