"""Engine-level measurements, in-process (no HTTP, no scheduler): the baselines the gateway is
compared with in ``benchmarks/``.

* ``plan_inputs``: the ``SynthesisInput``s the gateway would synthesize for a text and voice (the
  same text pipeline and routing), so the raw engine does exactly the gateway's work;
* ``raw_throughput``: texts/s with ``workers`` threads each calling ``engine.synthesize`` item by item;
* ``batch_rate``: items/s when ``synthesize`` is called with batches of a given size.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from ttsgate.engines import Engine, SynthesisInput, create_engine
from ttsgate.text import TextNormalizer, prepare
from ttsgate.voices import VoiceTable


def load_engine(table: VoiceTable, name: str, workers: int | None = None) -> Engine:
    """Load engine ``name`` sized for ``workers`` concurrent callers (None: the table's value)."""
    spec = table.engines[name]
    engine = create_engine(spec if workers is None else replace(spec, workers=workers))
    engine.load()
    return engine


def plan_inputs(
    table: VoiceTable, voice_id: str, text: str, normalizer: TextNormalizer
) -> list[tuple[str, SynthesisInput]]:
    """(engine name, input) per language run of every segment, as ``SpeechPipeline`` routes them."""
    voice = table.resolve(voice_id)
    out = []
    for seg in prepare(text, voice.language, normalizer=normalizer):
        for language, run in seg.runs:
            routed = table.route(voice, language)
            out.append((routed.engine, SynthesisInput(run, routed.language, routed.speaker)))
    return out


def timed(engine: Engine, batch: Sequence[SynthesisInput]) -> tuple[float, float]:
    """(seconds, audio seconds) of one ``synthesize`` call."""
    start = time.perf_counter()
    chunks = engine.synthesize(batch)
    return time.perf_counter() - start, sum(len(c.samples) / c.sample_rate for c in chunks)


def median_time(engine: Engine, batch: Sequence[SynthesisInput], repeats: int) -> float:
    return statistics.median(timed(engine, batch)[0] for _ in range(repeats))


def raw_throughput(
    engine: Engine, work: Sequence[Sequence[SynthesisInput]], *, workers: int, duration_s: float
) -> tuple[float, int]:
    """(texts/s, texts done): ``workers`` threads take the next text (cycling through ``work``) and
    synthesize its inputs one call each, until ``duration_s`` has passed."""
    lock = threading.Lock()
    counter = {"next": 0, "done": 0}
    deadline = time.perf_counter() + duration_s

    def worker() -> None:
        while time.perf_counter() < deadline:
            with lock:
                i = counter["next"]
                counter["next"] += 1
            for item in work[i % len(work)]:
                engine.synthesize([item])
            with lock:
                counter["done"] += 1

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for f in [pool.submit(worker) for _ in range(workers)]:
            f.result()
    wall = time.perf_counter() - start
    return counter["done"] / wall, counter["done"]


def batch_rate(engine: Engine, items: Sequence[SynthesisInput], batch: int, *, calls: int) -> float:
    """Items/s over ``calls`` calls of ``batch`` items each (items taken in turn from ``items``)."""
    n = 0
    start = time.perf_counter()
    for c in range(calls):
        chosen = [items[(c * batch + k) % len(items)] for k in range(batch)]
        engine.synthesize(chosen)
        n += batch
    return n / (time.perf_counter() - start)
