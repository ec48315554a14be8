"""``ttsgate bench stream``'s levels: a level's figures, the capacity search, and the run itself.

A *level* is N streams of one target whose starts are spread over ``--spread`` seconds. It
*passes* when every stream was accepted and came out whole, the TTFA P95 of the streams is at most
``--ttfa-target`` and no stream stalled longer than ``--stall-limit``. A target's *capacity* is the
largest N that passes (``CapacitySearch``). The run (``StreamBench``): one unloaded reference stream
per text and target, then ``--concurrency`` levels, the capacity search, and ``--overload`` levels
(N × factor streams after a capacity N); at each step every target is measured in turn, so the
targets share the machine's conditions.
"""

from __future__ import annotations

import argparse
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ttsgate.bench.load import Target
from ttsgate.bench.stats import Sample, percentile
from ttsgate.bench.stream import StreamContext, StreamRecord


@dataclass(slots=True)
class LevelSummary:
    target: str
    phase: str
    mode: str  # concurrency | search | capacity | overload
    n: int
    started: int
    accepted: int  # got audio (ok or truncated)
    ok: int
    refused: int  # HTTP 503
    errors: dict[str, int]  # kind -> streams: errors before audio, truncated streams
    ttfa: dict[str, float]  # p50, p95, max of the accepted streams (s)
    stalled: int  # accepted streams with a stall longer than the stall limit
    worst_stall_s: float
    refusal: dict[str, float]  # p50, max of the time to the 503 (s)
    retry_after_all: bool | None  # every refusal carried Retry-After (None: no refusal)
    audio_s: float  # the accepted streams' audio
    wall_s: float  # first start to last end
    speech_per_s: float  # audio_s / wall_s
    passed: bool
    t0: float = 0.0
    t1: float = 0.0
    cpu_mean: float | None = None  # the server's CPU % over the level (when sampled)


def summarize_level(
    records: Sequence[StreamRecord],
    *,
    mode: str,
    n: int,
    stall_limit_s: float,
    ttfa_target_s: float,
    samples: Sequence[Sample] = (),
) -> LevelSummary:
    accepted = [r for r in records if r.accepted]
    refused = [r for r in records if r.outcome == "refused"]
    ttfa = [r.ttfa_s for r in accepted if r.ttfa_s is not None]
    refusal = [r.refusal_s for r in refused if r.refusal_s is not None]
    t0 = min((r.start_s for r in records), default=0.0)
    t1 = max((r.end_s for r in records), default=0.0)
    wall = max(t1 - t0, 1e-9)
    audio = sum(r.audio_s for r in accepted)
    worst = max((r.worst_stall_s for r in accepted), default=0.0)
    ok = sum(r.outcome == "ok" for r in records)
    p95 = percentile(ttfa, 95)
    cpu = [s.cpu_pct for s in samples if t0 <= s.t <= t1]
    return LevelSummary(
        target=records[0].target if records else "?",
        phase=records[0].phase if records else "?",
        mode=mode,
        n=n,
        started=len(records),
        accepted=len(accepted),
        ok=ok,
        refused=len(refused),
        errors=dict(
            sorted(Counter(r.error or "?" for r in records if r.outcome in ("error", "truncated")).items())
        ),
        ttfa={"p50": percentile(ttfa, 50), "p95": p95, "max": max(ttfa, default=math.nan)},
        stalled=sum(r.worst_stall_s > stall_limit_s for r in accepted),
        worst_stall_s=worst,
        refusal={"p50": percentile(refusal, 50), "max": max(refusal, default=math.nan)},
        retry_after_all=all(r.retry_after for r in refused) if refused else None,
        audio_s=audio,
        wall_s=wall,
        speech_per_s=audio / wall,
        passed=bool(records) and ok == n and p95 <= ttfa_target_s and worst <= stall_limit_s,
        t0=t0,
        t1=t1,
        cpu_mean=sum(cpu) / len(cpu) if cpu else None,
    )


class CapacitySearch:
    """The largest passing concurrency in [0, ``max_n``]: 1, 2, 4, … (doubling, the last step capped at
    ``max_n``) until a level fails, then bisection between the last pass and the first fail. A level
    passes only when its run passes and ``confirm`` more runs of it pass too (against noise).
    Drive it with ``next_level`` (None: done) and ``record``."""

    def __init__(self, *, max_n: int = 256, confirm: int = 0) -> None:
        if max_n < 1 or confirm < 0:
            raise ValueError("max_n must be >= 1 and confirm >= 0")
        self.max_n = max_n
        self.confirm = confirm
        self.lo = 0  # the largest level that passed
        self.hi: int | None = None  # the smallest level that failed
        self.tried: list[tuple[int, bool]] = []  # every run, in order
        self._again: int | None = None  # a level that passed and is being confirmed
        self._passes = 0

    @property
    def capacity(self) -> int:
        return self.lo

    def next_level(self) -> int | None:
        if self._again is not None:
            return self._again
        if self.hi is None:
            return None if self.lo >= self.max_n else min(max(1, 2 * self.lo), self.max_n)
        return None if self.hi - self.lo <= 1 else (self.lo + self.hi) // 2

    def record(self, n: int, passed: bool) -> None:
        self.tried.append((n, passed))
        if not passed:
            self._again, self._passes = None, 0
            self.hi = n if self.hi is None else min(self.hi, n)
            return
        self._passes += 1
        if self._passes <= self.confirm:
            self._again = n
            return
        self._again, self._passes = None, 0
        self.lo = max(self.lo, n)


def search(passes: Callable[[int], bool], *, max_n: int = 256, confirm: int = 0) -> CapacitySearch:
    """Run a whole search with ``passes(n)`` standing for a level's run (tests, what-ifs)."""
    s = CapacitySearch(max_n=max_n, confirm=confirm)
    while (n := s.next_level()) is not None:
        s.record(n, passes(n))
    return s


class StreamBench:
    """One ``bench stream`` run over its targets; fills ``records``, ``levels`` and ``searches``."""

    def __init__(
        self,
        args: argparse.Namespace,
        targets: list[Target],
        ctx: StreamContext,
        samples: Callable[[str], list[Sample]],
    ) -> None:
        self.args = args
        self.targets = targets
        self.ctx = ctx
        self.samples = samples
        self.records: list[StreamRecord] = []
        self.levels: list[LevelSummary] = []
        self.searches: dict[str, CapacitySearch] = {}
        self.capacity: dict[str, int] = {}
        self.checks: list[str] = []

    async def level(self, tgt: Target, mode: str, n: int, label: str) -> LevelSummary:
        taken = sum(
            lv.target == tgt.name and (lv.phase == label or lv.phase.startswith(f"{label} #"))
            for lv in self.levels
        )
        phase = label if not taken else f"{label} #{taken + 1}"
        records = await self.ctx.level(tgt, phase, n)
        self.records.extend(records)
        s = summarize_level(
            records,
            mode=mode,
            n=n,
            stall_limit_s=self.args.stall_limit,
            ttfa_target_s=self.args.ttfa_target,
            samples=self.samples(tgt.name),
        )
        self.levels.append(s)
        return s

    async def run(self) -> None:
        args = self.args
        for tgt in self.targets:
            refs = await self.ctx.references(tgt)
            self.records.extend(refs)
            bad = [r for r in refs if r.outcome != "ok"]
            if bad:
                self.checks.append(f"{tgt.name}: {len(bad)} reference stream(s) failed ({bad[0].error})")
        for n in args.concurrency or []:
            for tgt in self.targets:
                await self.level(tgt, "concurrency", n, f"c={n}")
        given = {k: int(v) for k, v in (x.split("=", 1) for x in args.capacity_of)}
        if args.capacity or args.overload:
            await self._search([t for t in self.targets if t.name not in given])
        for tgt in self.targets:
            if tgt.name in given:
                self.capacity[tgt.name] = given[tgt.name]
                await self.level(tgt, "capacity", given[tgt.name], f"capacity c={given[tgt.name]}")
        for factor in args.overload or []:
            for tgt in self.targets:
                n = round(self.capacity.get(tgt.name, 0) * factor)
                if n < 1:
                    self.checks.append(f"{tgt.name}: capacity 0, no {factor:g}× overload level")
                    continue
                await self.level(tgt, "overload", n, f"{factor:g}× capacity c={n}")

    async def _search(self, targets: list[Target]) -> None:
        """Every target's search, one level of each in turn."""
        args = self.args
        for tgt in targets:
            self.searches[tgt.name] = CapacitySearch(max_n=args.max_concurrency, confirm=args.confirm)
        stepped = True
        while stepped:
            stepped = False
            for tgt in targets:
                s = self.searches[tgt.name]
                if (n := s.next_level()) is None:
                    continue
                summary = await self.level(tgt, "search", n, f"search c={n}")
                s.record(n, summary.passed)
                stepped = True
        for tgt in targets:
            self.capacity[tgt.name] = self.searches[tgt.name].capacity

    def capacity_level(self, target: str) -> LevelSummary | None:
        """The last passing run at the target's capacity (its speech/s is what overload compares with)."""
        cap = self.capacity.get(target)
        runs = [
            lv
            for lv in self.levels
            if lv.target == target and lv.n == cap and lv.mode in ("search", "capacity") and lv.passed
        ]
        given = [lv for lv in self.levels if lv.target == target and lv.mode == "capacity" and lv.n == cap]
        found = runs or given
        return found[-1] if found else None
