"""Everything a running gateway holds, built from ``Settings`` and torn down in order.

``Runtime`` is created by the app's lifespan (and by the in-process benchmark), never at import
time. Engines load and warm up in the background so the server answers ``/health`` at once and
``/ready`` turns true when every configured engine has spoken its warm-up sentence.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace

import httpx

from ttsgate import __version__
from ttsgate.cache import AudioCache, create_cache
from ttsgate.config import Settings
from ttsgate.engines import Engine, SynthesisInput, create_engine
from ttsgate.exceptions import NotReadyError
from ttsgate.metrics import Metrics
from ttsgate.pipeline import SpeechPipeline
from ttsgate.scheduler import EngineLimits, MemoryGuard, Scheduler
from ttsgate.text import TextNormalizer, expected_speech_s
from ttsgate.voices import VoiceTable

log = logging.getLogger("ttsgate.runtime")

_WARMUP_TEXT = {"zh": "你好。", "yue": "你好。", "en": "Hello."}
# A second, sentence-long warm-up call is timed: the engine's pace (seconds of work per second of
# expected speech) seeds the scheduler's wait estimate, so TTSGATE_MAX_QUEUE_WAIT_S holds from the
# first request on (the first call includes one-time initialisation, so it is not the one timed).
_PACE_TEXT = {
    "zh": "今天天气很好，我们去公园散步吧。",
    "yue": "今天天气很好，我们去公园散步吧。",
    "en": "The train to Boston leaves in ten minutes.",
}


@dataclass
class Runtime:
    settings: Settings
    table: VoiceTable
    metrics: Metrics
    cache: AudioCache
    normalizer: TextNormalizer
    engines: dict[str, Engine] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    scheduler: Scheduler | None = None
    pipeline: SpeechPipeline | None = None
    ready: bool = False
    llm_http: httpx.AsyncClient | None = None  # the LLM backends' one client (server/routes_chat.py)
    _warm_task: asyncio.Task[None] | None = None

    @classmethod
    def build(cls, settings: Settings, table: VoiceTable | None = None) -> Runtime:
        table = table or VoiceTable.load(settings.voices_file)
        wanted = settings.engine_names()
        if wanted is not None:
            table = table.only_engines(wanted)
        metrics = Metrics(__version__)
        return cls(
            settings=settings,
            table=table,
            metrics=metrics,
            cache=create_cache(settings, metrics if settings.metrics else None),
            normalizer=TextNormalizer(),
        )

    async def start(self, *, wait: bool = False) -> None:
        """Start loading engines in the background (or wait for them with ``wait=True``)."""
        self.llm_http = httpx.AsyncClient(timeout=httpx.Timeout(self.settings.request_timeout_s, connect=5.0))
        self._warm_task = asyncio.create_task(self._load_all(), name="ttsgate-warmup")
        if wait:
            await self._warm_task

    def require_ready(self) -> SpeechPipeline:
        if not self.ready or self.pipeline is None:
            raise NotReadyError("engines are still loading; retry shortly", code="warming_up")
        return self.pipeline

    def require_llm_http(self) -> httpx.AsyncClient:
        if self.llm_http is None:
            raise NotReadyError("the runtime is not started")
        return self.llm_http

    async def _load_all(self) -> None:
        paces: dict[str, float] = {}
        for name, spec in self.table.engines.items():
            started = time.perf_counter()
            try:
                # Engines size their per-worker resources (interpreters, intra-op threads) from
                # the worker count the scheduler will really use.
                engine = create_engine(replace(spec, workers=spec.workers or self.settings.worker_count()))
                await asyncio.to_thread(engine.load)
                paces[name] = await asyncio.to_thread(self._warm_up, engine)
            except Exception as exc:  # an engine that cannot load must not take the others down
                log.exception("engine %s failed to load", name)
                self.failed[name] = f"{type(exc).__name__}: {exc}"
                continue
            self.engines[name] = engine
            self.metrics.engine_ready.labels(name).set(1)
            log.info("engine %s warm in %.2f s", name, time.perf_counter() - started)
        s = self.settings
        collect = self.metrics if s.metrics else None  # TTSGATE_METRICS=false: none
        guard = MemoryGuard(
            memory_limit_mb=s.memory_limit_mb, gpu_memory_fraction=s.gpu_memory_fraction, metrics=collect
        )
        self.scheduler = Scheduler(
            self.engines,
            max_queue=s.max_queue,
            max_batch_size=s.max_batch_size,
            max_wait_ms=s.max_wait_ms,
            max_queue_wait_s=s.max_queue_wait_s,
            workers=s.worker_count(),
            metrics=collect,
            overrides={n: EngineLimits.from_spec(spec) for n, spec in self.table.engines.items()},
            memory_guard=guard,
            paces=paces,
            ttfa_target_s=s.ttfa_target_s,
            realtime=s.realtime_admission,
        )
        await self.scheduler.start()
        self.pipeline = SpeechPipeline(
            table=self.table,
            engines=self.engines,
            scheduler=self.scheduler,
            cache=self.cache,
            normalizer=self.normalizer,
            lookahead=s.lookahead,
        )
        self.ready = not self.failed
        if self.failed:
            log.error("not ready: engines failed to load: %s", self.failed)

    def _warm_up(self, engine: Engine) -> float:
        """Run the engine once (lazy initialisation), then time one sentence: its pace."""
        voices = [v for v in self.table.voices.values() if v.engine == engine.name]
        language = voices[0].language if voices else "en"
        speaker = voices[0].speaker if voices else None
        text = _WARMUP_TEXT.get(language, "Hello.")
        engine.synthesize([SynthesisInput(text, language, speaker)])
        sentence = _PACE_TEXT.get(language, _PACE_TEXT["en"])
        started = time.perf_counter()
        engine.synthesize([SynthesisInput(sentence, language, speaker)])
        return (time.perf_counter() - started) / expected_speech_s(sentence)

    async def close(self) -> None:
        if self._warm_task is not None and not self._warm_task.done():
            self._warm_task.cancel()
            await asyncio.gather(self._warm_task, return_exceptions=True)
        if self.scheduler is not None:
            await self.scheduler.close()
        await self.cache.close()
        if self.llm_http is not None:
            await self.llm_http.aclose()
        for engine in self.engines.values():
            engine.close()
        self.ready = False
