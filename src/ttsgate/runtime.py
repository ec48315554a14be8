"""Everything a running gateway holds, built from ``Settings`` and torn down in order.

``Runtime`` is created by the app's lifespan (and by the in-process benchmark), never at import
time. Engines load and warm up in the background so the server answers ``/health`` at once and
``/ready`` turns true when every configured engine has spoken its warm-up sentence.

An engine that cannot load is a configuration or installation fault, not something time fixes: the
server does not serve without it (the rule is here, ``_load_all``). ``load_failure`` then says which
engine, why and what fixes it (logged once per engine, CRITICAL); ``ttsgate serve`` stops with exit
status 3 (``cli.py``), and until it has, every request is refused with that message (500
``engine_error``, code ``engine_unavailable``: not a 503 to retry).
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import httpx
import psutil

from ttsgate import __version__, malloc
from ttsgate.cache import AudioCache, create_cache
from ttsgate.config import Settings
from ttsgate.engines import Engine, EngineSpec, SynthesisInput, create_engine
from ttsgate.engines.variants import VARIANT_KINDS
from ttsgate.exceptions import (
    EngineError,
    InvalidRequestError,
    NotReadyError,
    TTSGateError,
    VoiceNotFoundError,
)
from ttsgate.lexicon_store import LexiconStore
from ttsgate.metrics import Metrics
from ttsgate.pipeline import SpeechPipeline
from ttsgate.scheduler import EngineLimits, MemoryGuard, Scheduler
from ttsgate.text import TextNormalizer, expected_speech_s, words
from ttsgate.voices import Voice, VoiceTable

log = logging.getLogger("ttsgate.runtime")


def rss_mb() -> float:
    """This process's resident set size in MiB."""
    return float(psutil.Process().memory_info().rss) / 2**20


# Warm-up texts per language, longest first: the longest warms every worker's buffers (its time
# includes one-time initialisation and is not used); a sentence and a short clause are timed to fit
# the engine's cost model (per-call overhead + pace per second of speech), so admission by real-time
# feasibility holds from the first request.
_ZH_WARMUP = (
    "去年冬天我们一家人坐了很久的火车，到北方的一个小城去看望年迈的外婆和外公。",
    "今天天气很好，我们去公园散步吧。",
    "你好，欢迎。",
)
_WARMUP_TEXTS = {
    "zh": _ZH_WARMUP,
    "yue": _ZH_WARMUP,
    "en": (
        "Last winter the whole family took a long train ride north to visit our grandparents.",
        "The train to Boston leaves in ten minutes.",
        "Hello there.",
    ),
}


@dataclass
class Runtime:
    settings: Settings
    table: VoiceTable
    metrics: Metrics
    cache: AudioCache
    normalizer: TextNormalizer
    lexicons: LexiconStore = field(default_factory=LexiconStore)  # TTSGATE_LEXICON_FILE (+ a request's)
    engines: dict[str, Engine] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    # RSS each engine added while it loaded and warmed up (MiB; engines load one after another, so
    # a library shared by several, e.g. onnxruntime, counts on the first): /ready's "memory".
    engine_rss_mb: dict[str, float] = field(default_factory=dict)
    scheduler: Scheduler | None = None
    pipeline: SpeechPipeline | None = None
    ready: bool = False
    # Set when start-up failed (an engine could not load): which engine, why, the fix. Never ready then.
    load_failure: str | None = None
    llm_http: httpx.AsyncClient | None = None  # the LLM backends' one client (server/routes_chat.py)
    memory_guard: MemoryGuard | None = None  # refuses new work while memory is short; reclaims freed memory
    _warm_task: asyncio.Task[None] | None = None

    @classmethod
    def build(cls, settings: Settings, table: VoiceTable | None = None) -> Runtime:
        table = table or VoiceTable.load(settings.voices_file)
        wanted = settings.engine_names()
        if wanted is not None:
            table = table.only_engines(wanted)
        metrics = Metrics(__version__)
        cache = create_cache(settings, metrics if settings.metrics else None)
        metrics.init_labels(engines=table.engines, cache_backend=cache.backend)
        return cls(
            settings=settings,
            table=table,
            metrics=metrics,
            cache=cache,
            normalizer=TextNormalizer(),
            lexicons=LexiconStore(settings.lexicon_file),
        )

    async def start(self, *, wait: bool = False) -> None:
        """Start loading engines in the background (or wait for them with ``wait=True``)."""
        if self.settings.malloc_arenas:
            malloc.limit_arenas(self.settings.malloc_arenas)  # before the loading and worker threads
        if self.settings.malloc_mmap_threshold_kb:
            malloc.mmap_threshold(self.settings.malloc_mmap_threshold_kb * 1024)  # before the engines
        self.llm_http = httpx.AsyncClient(timeout=httpx.Timeout(self.settings.request_timeout_s, connect=5.0))
        self._warm_task = asyncio.create_task(self._load_all(), name="ttsgate-warmup")
        if wait:
            await self._warm_task
            if self.load_failure is not None:
                raise EngineError(self.load_failure, code="engine_unavailable")

    def require_ready(self) -> SpeechPipeline:
        if self.load_failure is not None:  # a fault to fix, not a wait: never "retry shortly"
            raise EngineError(self.load_failure, code="engine_unavailable")
        if not self.ready or self.pipeline is None:
            raise NotReadyError("engines are still loading; retry shortly", code="warming_up")
        return self.pipeline

    def check_request(self, voice: Voice, language: str | None) -> str | None:
        """Refuse what no engine can speak before any engine work (400, never an engine error);
        the language to speak: ``language`` as the table or the fallback engine names it.

        ``language`` must be one the voice table routes or its fallback engine speaks
        (``param: language``, ``code: unsupported_language``), whatever the text's script. A BCP-47
        tag is case-insensitive, and one with script or region subtags the table does not name is
        the longest prefix it does (``zh-Hant`` → ``zh``, ``yue-HK`` → ``yue``). A voice made on the
        fly (``espeak:xx``) must be one the fallback engine has (``param: voice``).
        Call after ``require_ready`` (the fallback engine is asked what it speaks)."""
        fallback = self.engines.get(self.table.fallback_engine or "")
        if self.table.is_made_on_the_fly(voice) and not (fallback and fallback.speaks(voice.speaker or "")):
            raise VoiceNotFoundError.for_voice(voice.id, self.table.ids())
        if language is None:
            return None
        routed = self.table.routed_languages()
        subtags = language.lower().split("-")
        for n in range(len(subtags), 0, -1):
            tag = "-".join(subtags[:n])
            if tag in routed or (fallback is not None and fallback.speaks(tag)):
                return tag
        known = ", ".join(self.table.routed_languages())
        more = f", or any language the {fallback.name} engine has" if fallback is not None else ""
        raise InvalidRequestError(
            f"language {language!r} is not spoken here; known: {known}{more}",
            param="language",
            code="unsupported_language",
        )

    def require_llm_http(self) -> httpx.AsyncClient:
        if self.llm_http is None:
            raise NotReadyError("the runtime is not started")
        return self.llm_http

    async def _load_all(self) -> None:
        """Load every engine, then serve; or, when one cannot load (or start-up itself fails), set
        ``load_failure`` and serve nothing: the one place where that rule is applied."""
        try:
            warmup = await self._load_engines()
            if self.failed:
                for name, reason in self.failed.items():
                    log.critical("engine %s could not load; the server stops: %s", name, reason)
                names = ", ".join(repr(n) for n in self.failed)
                why = "; ".join(self.failed.values())
                self.load_failure = f"the server is stopping: engine {names} could not load: {why}"
                return
            await self._serve_engines(warmup)
        except Exception as exc:  # a bug or a fault outside the engines: the same rule
            log.critical("start-up failed; the server stops", exc_info=True)
            self.load_failure = f"the server is stopping: start-up failed: {type(exc).__name__}: {exc}"

    def _failure_reason(self, spec: EngineSpec, exc: Exception) -> str:
        """What a failed engine's log line and refusals say: the cause with its fix (engines' own
        messages carry it); and, when the table entry names no variant and ``TTSGATE_VARIANT=int8``
        forced one, that setting and the values that load the full model."""
        reason = exc.message if isinstance(exc, TTSGateError) else f"{type(exc).__name__}: {exc}"
        variant = self.settings.variant
        if spec.kind in VARIANT_KINDS and "variant" not in spec.options and variant == "int8":
            reason += (
                f" (the variant is TTSGATE_VARIANT={variant}: set TTSGATE_VARIANT=auto, int8 only where it "
                "passed the quality gate, or fp32; or give this engine its own variant in the voice table)"
            )
        return reason

    async def _load_engines(self) -> dict[str, list[tuple[float, float]]]:
        """Load and warm every engine of the table; the warm-up timings of those that loaded."""
        await asyncio.to_thread(words.warm)  # the word dictionary of the first-segment cut
        warmup: dict[str, list[tuple[float, float]]] = {}
        for name, spec in self.table.engines.items():
            started = time.perf_counter()
            rss_before = rss_mb()
            try:
                # Engines size their per-worker resources (interpreters, intra-op threads) from
                # the worker count the scheduler will really use.
                workers = spec.workers or self.settings.worker_count()
                if spec.kind in VARIANT_KINDS:  # onnxruntime engines: TTSGATE_VARIANT, TTSGATE_ONNX_ARENA
                    defaults = {"variant": self.settings.variant, "onnx_arena": self.settings.onnx_arena}
                    spec = replace(spec, options={**defaults, **spec.options})
                engine = create_engine(replace(spec, workers=workers))
                await asyncio.to_thread(engine.load)
                warmup[name] = await asyncio.to_thread(self._warm_up, engine, workers)
                self.engine_rss_mb[name] = round(rss_mb() - rss_before, 1)
            except Exception as exc:  # every engine is tried, so one start reports every fault
                if not isinstance(exc, TTSGateError):  # not a message of ours: a bug, keep its traceback
                    log.error("engine %s failed to load", name, exc_info=True)
                self.failed[name] = self._failure_reason(self.table.engines[name], exc)
                continue
            self.engines[name] = engine
            self.metrics.engine_ready.labels(name).set(1)
            log.info("engine %s warm in %.2f s", name, time.perf_counter() - started)
        return warmup

    async def _serve_engines(self, warmup: dict[str, list[tuple[float, float]]]) -> None:
        """Every engine is warm: the memory guard, the scheduler and the pipeline; then ready."""
        s = self.settings
        collect = self.metrics if s.metrics else None  # TTSGATE_METRICS=false: none
        guard = MemoryGuard(
            memory_limit_mb=s.memory_limit_mb,
            gpu_memory_fraction=s.gpu_memory_fraction,
            metrics=collect,
            reclaim=malloc.trim,  # over the limit, and once idle after work (scheduler/guard.py)
        )
        self.memory_guard = guard
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
            warmup=warmup,
            ttfa_target_s=s.ttfa_target_s,
            realtime=s.realtime_admission,
        )
        await self.scheduler.start()
        guard.start(self._idle)
        self.pipeline = SpeechPipeline(
            table=self.table,
            engines=self.engines,
            scheduler=self.scheduler,
            cache=self.cache,
            normalizer=self.normalizer,
            lookahead=s.lookahead,
            lexicons=self.lexicons,
        )
        # Start-up is over: its temporaries (dictionary building, graph and session loading) are
        # freed; hand their pages back before serving (~30 MB on the edge profile, ttsgate/malloc.py).
        await asyncio.to_thread(malloc.trim)
        self.ready = True

    def _idle(self) -> bool:
        """No engine has work: none queued, reserved by a stream or running."""
        sched = self.scheduler
        return sched is None or not any(
            st["depth"] or st["in_flight"] or st["streams"] for st in map(sched.stats, sched.engines)
        )

    def memory_pressure(self) -> str | None:
        """Why new work is refused for memory now (the guard's reason), or None."""
        return self.memory_guard.pressure() if self.memory_guard is not None else None

    def memory(self) -> dict[str, object]:
        """``/ready``'s memory figures: the process RSS now and each engine's load + warm-up delta (MiB)."""
        return {"rss_mb": round(rss_mb(), 1), "engines_rss_mb": dict(self.engine_rss_mb)}

    def _warm_up(self, engine: Engine, workers: int) -> list[tuple[float, float]]:
        """Warm every worker and time the engine under full load: ``(expected speech s, engine s)``.

        Each text is spoken on every worker at the same time, longest first (an engine may hold
        one interpreter per worker, whose buffers grow to the longest input once); the slowest call
        of each text is what it costs when all workers are busy (an engine that serializes its
        callers shows it here too). A short clause and a sentence: the scheduler fits its per-call
        overhead and its pace per second of speech to them (``WorkEstimate``)."""
        voices = [v for v in self.table.voices.values() if v.engine == engine.name]
        language = voices[0].language if voices else "en"
        speaker = voices[0].speaker if voices else None
        texts = _WARMUP_TEXTS.get(language, _WARMUP_TEXTS["en"])

        def timed(text: str) -> float:
            started = time.perf_counter()
            engine.synthesize([SynthesisInput(text, language, speaker)])
            return time.perf_counter() - started

        samples: list[tuple[float, float]] = []
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"warm-{engine.name}") as pool:
            list(pool.map(timed, [texts[0]] * workers))  # one-time initialisation: not timed
            for text in texts[1:]:
                list(pool.map(timed, [text] * workers))  # a new input length costs more the first time
                samples.append((expected_speech_s(text), max(pool.map(timed, [text] * workers))))
        return samples

    async def close(self) -> None:
        if self._warm_task is not None and not self._warm_task.done():
            self._warm_task.cancel()
            await asyncio.gather(self._warm_task, return_exceptions=True)
        if self.scheduler is not None:
            await self.scheduler.close()
        if self.memory_guard is not None:
            await self.memory_guard.aclose()
        await self.cache.close()
        if self.llm_http is not None:
            await self.llm_http.aclose()
        for engine in self.engines.values():
            engine.close()
        self.ready = False
