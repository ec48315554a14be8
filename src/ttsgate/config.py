"""Typed settings: every one is an environment variable ``TTSGATE_<NAME>`` with a default and a meaning.

``Settings()`` reads the environment once, validates (a bad value stops start-up with a message that
names the variable), and is passed down explicitly; nothing reads the environment anywhere else.
``describe()`` lists every variable for ``ttsgate serve --help``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ttsgate.cpus import available_cpus

# TTSGATE_PROFILE=edge: a small box (2 cores, ~1 GB). One worker per engine holds one model copy
# (a zh-baker worker is one session pair) and its intra-op threads take every core; the audio
# cache stays on disk with a small memory tier; RSS measured in benchmarks/edge.md.
EDGE_DEFAULTS: dict[str, Any] = {
    # espeak: the fallback for every other script (Cyrillic, kana, Hangul, Arabic, Greek ...), else a
    # single such word makes the request a 400; a subprocess per segment: +1 MB RSS (edge.md)
    "engines": "zh-baker,piper-joe,espeak",
    "workers": 1,
    "variant": "auto",
    "lookahead": 2,
    "max_queue": 256,
    "cache_memory_mb": 8,
    "cache_max_mb": 128,
    # refuse new work above (MiB). Measured (benchmarks/edge.md): 368 after warm-up and one request;
    # 3 concurrent clients: peaks 497-554, 377-451 once idle (edge_load.py)
    "memory_limit_mb": 900,
    "onnx_arena": "shrink",  # onnxruntime arenas freed after each run (engines/ort_session.py)
    "malloc_mmap_threshold_kb": 1024,  # engines' MB buffers mapped and unmapped: ~40 MB less (malloc.py)
    "malloc_arenas": 1,  # one glibc malloc arena for all threads: 17 MB less RSS (ttsgate/malloc.py)
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TTSGATE_", extra="ignore", frozen=True)

    host: str = Field("127.0.0.1", description="Address the server listens on.")
    port: int = Field(8000, ge=0, le=65535, description="Port the server listens on.")
    voices_file: Path | None = Field(
        None, description="TOML engine/voice/routing table; the built-in table when unset."
    )
    profile: Literal["default", "edge"] = Field(
        "default",
        description="edge: defaults for a small box (EDGE_DEFAULTS: the neural Mandarin and English "
        "engines and espeak-ng for the other scripts, one worker with every core as its threads, small "
        "caches and queue, a memory limit, int8 variants where they passed the quality gate); settings "
        "set explicitly still win.",
    )
    variant: Literal["fp32", "int8", "auto"] = Field(
        "fp32",
        description="Model variant of the neural engines whose voice-table entry names none: fp32, int8, "
        "or auto (int8 where it passed the quality gate and is smaller; benchmarks/voice_quality.md).",
    )
    engines: str = Field(
        "",
        description="Comma-separated engine names to load from the voice table (empty: all of them).",
    )
    lexicon_file: Path | None = Field(
        None,
        description="Pronunciation lexicon (word<TAB>reading lines: pinyin, IPA in slashes or a respelling; "
        "docs/reading.md); re-read when it changes, a broken edit keeps the last good one.",
    )
    max_input_chars: int = Field(4096, ge=1, le=100_000, description="Longest accepted input text.")
    max_body_bytes: int | None = Field(
        None,
        ge=1024,
        description="Largest request body (and WebSocket message) in bytes: 413 beyond, before the body "
        "is read; a chunked body is counted as it arrives and refused at the limit. Unset: "
        "24 x TTSGATE_MAX_INPUT_CHARS + 16384 (114688 at 4096 characters: the input fully "
        "\\u-escaped, instructions and the other fields).",
    )
    max_chat_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        description="Largest /v1/chat/speech body in bytes (a conversation's history is longer than one "
        "input); 413 beyond.",
    )
    header_timeout_s: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="Close a connection whose request line and headers are not complete this long after "
        "the connection opened or its next request began (slow or idle clients holding sockets).",
    )
    keep_alive_timeout_s: float = Field(
        5.0, gt=0, le=3600, description="Close an idle keep-alive connection after this long."
    )
    max_header_bytes: int = Field(
        65_536,
        ge=4096,
        le=16_777_216,
        description="Largest request line plus headers in bytes; beyond, 431 and the connection closes.",
    )
    max_queue: int = Field(
        2048,
        ge=1,
        description="Safety net: segments accepted and not yet started (queued or reserved by a "
        "request) per engine before 503; real-time admission normally refuses long before this.",
    )
    realtime_admission: bool = Field(
        True,
        description="Accept a request only when every accepted stream still gets its audio before its "
        "listener needs it and the new one starts within TTSGATE_TTFA_TARGET_S; else 503 + Retry-After.",
    )
    ttfa_target_s: float = Field(
        1.0,
        gt=0,
        le=60,
        description="Time-to-first-audio target: a request's first segment is due this long after it "
        "arrives (admission and earliest-deadline-first scheduling use it).",
    )
    max_queue_wait_s: float = Field(
        0.0,
        ge=0,
        le=3600,
        description="Also 503 a new request when the synthesis ahead of it would take longer than this "
        "(expected speech of the queued segments × the engine's measured pace); 0: off.",
    )
    max_batch_size: int = Field(8, ge=1, le=256, description="Largest batch handed to a batching engine.")
    max_wait_ms: float = Field(5.0, ge=0, le=1000, description="How long a batch waits to fill up.")
    request_timeout_s: float = Field(
        120.0,
        gt=0,
        description="Each segment of a request must be synthesized within this after it is asked for "
        "(server work and queueing; time spent waiting on the client's reading never counts).",
    )
    workers: int = Field(
        0, ge=0, le=64, description="Synthesis worker threads per engine (0: one per CPU core available)."
    )
    lookahead: int = Field(
        3, ge=1, le=64, description="Segments of one request synthesized ahead of the one being sent."
    )
    memory_limit_mb: int = Field(
        0,
        ge=0,
        description="Refuse new work while the process RSS is above this many MiB (0: no limit); freed "
        "memory is handed back to the system first (malloc_trim), and /ready answers 503 while it refuses.",
    )
    malloc_arenas: int = Field(
        0,
        ge=0,
        le=1024,
        description="glibc malloc arenas for the threads (MALLOC_ARENA_MAX; 0: glibc's default, 8 per "
        "core): fewer keep less freed memory, at the cost of threads sharing an allocator lock.",
    )
    malloc_mmap_threshold_kb: int = Field(
        0,
        ge=0,
        le=32768,
        description="glibc: allocations of this many KiB and more get their own mapping, returned to the "
        "system when freed (MALLOC_MMAP_THRESHOLD_; 0: glibc's default, which rises with use up to 32 MiB "
        "and then keeps engines' freed buffers in the heap).",
    )
    onnx_arena: Literal["keep", "shrink"] = Field(
        "keep",
        description="onnxruntime engines (zh-baker, piper): keep a session's buffers between runs, or "
        "shrink: hand them back after each run (a long input no longer pins hundreds of MB; each run "
        "takes its buffers again: slower).",
    )
    gpu_memory_fraction: float = Field(
        0.9, gt=0, le=1, description="Refuse new work while GPU memory use is above this fraction."
    )
    cache: str = Field("disk", description="Audio cache: memory | disk | redis://host:port/db | off.")
    cache_ttl_s: float = Field(300.0, ge=0, description="Cache entry lifetime in seconds (0: no cache).")
    cache_dir: Path = Field(Path("var/cache"), description="Directory of the on-disk cache.")
    cache_max_mb: int = Field(512, ge=1, description="Size cap of the on-disk cache.")
    cache_memory_mb: int = Field(
        64, ge=0, description="Size cap of the in-memory tier in front of the disk or Redis cache (0: none)."
    )
    cache_redirect: bool = Field(
        False, description="Answer a whole-request cache hit with 302 to /v1/audio/{key}.{fmt}."
    )
    api_keys: str = Field(
        "",
        description="Comma-separated API keys (clients send Authorization: Bearer KEY); empty and no "
        "TTSGATE_API_KEYS_FILE: no authentication.",
    )
    api_keys_file: Path | None = Field(
        None, description="API keys, one per line: KEY [name=NAME] [rpm=N] [cpm=N] (README, API keys)."
    )
    rate_limit_rpm: int = Field(0, ge=0, description="Requests per minute per API key by default (0: none).")
    rate_limit_cpm: int = Field(
        0, ge=0, description="Input characters per minute per API key by default (0: none)."
    )
    metrics_require_key: bool = Field(False, description="/metrics needs an API key too (when keys are on).")
    allowed_origins: str = Field(
        "",
        description="Web origins (besides the server's own) whose pages may open the WebSocket or make "
        "cross-site requests (comma-separated, e.g. https://app.example.com; * for any). Clients that "
        "are not browsers are not affected.",
    )
    allowed_hosts: str = Field(
        "",
        description="Host names the server answers to (comma-separated; * for any), against DNS "
        "rebinding; empty: the loopback names when TTSGATE_HOST is loopback, else any.",
    )
    llm_allowed_models: str = Field(
        "",
        description="LLM models /v1/chat/speech clients may ask for besides TTSGATE_LLM_MODEL "
        "(comma-separated; * for any).",
    )
    llm_allowed_options: str = Field(
        "",
        description="LLM options clients may pass through (comma-separated, e.g. temperature,top_p; "
        "* for any); others are refused. max_tokens is always allowed, up to TTSGATE_LLM_MAX_TOKENS.",
    )
    llm_max_tokens: int = Field(
        1024, ge=1, le=1_000_000, description="Longest LLM reply asked for, in tokens."
    )
    shutdown_grace_s: float = Field(
        60.0,
        ge=0,
        le=86_400,
        description="On SIGTERM: not ready, new requests 503, accepted streams finish; exit when none is "
        "left or after this many seconds (a second signal exits at once).",
    )
    wyoming_uri: str = Field(
        "",
        description="Also serve Home Assistant's Wyoming TTS protocol here, e.g. tcp://0.0.0.0:10200 "
        "(no authentication: a trusted network only); empty: off.",
    )
    metrics: bool = Field(True, description="Expose Prometheus metrics at /metrics.")
    log_format: Literal["plain", "json"] = Field("plain", description="Log line format.")
    log_level: str = Field("INFO", description="Log level.")
    llm_url: str = Field("http://127.0.0.1:11434", description="Base URL of the LLM server.")
    llm_kind: Literal["ollama", "openai"] = Field("ollama", description="LLM protocol.")
    llm_model: str = Field("qwen2.5:0.5b", description="LLM model used when a request names none.")
    llm_api_key: str = Field("", description="Bearer token for an OpenAI-compatible LLM server.")

    @model_validator(mode="before")
    @classmethod
    def _profile_defaults(cls, data: Any) -> Any:
        """``profile=edge``: EDGE_DEFAULTS under whatever was set explicitly (environment or arguments)."""
        if isinstance(data, dict) and str(data.get("profile", "")).strip().lower() == "edge":
            return {**EDGE_DEFAULTS, **data}
        return data

    @field_validator("cache")
    @classmethod
    def _cache_backend(cls, v: str) -> str:
        v = v.strip()
        if v in {"memory", "disk", "off"} or v.startswith(("redis://", "rediss://", "unix://")):
            return v
        raise ValueError("must be memory, disk, off or a redis://host:port/db URL")

    def worker_count(self) -> int:
        """``workers``, with 0 resolved to the CPU cores this process may use (affinity capped by a
        container's CPU quota: ``ttsgate.cpus``)."""
        return self.workers or available_cpus()

    def body_limit(self) -> int:
        """``max_body_bytes``, or its default derived from ``max_input_chars`` (bytes)."""
        if self.max_body_bytes is not None:
            return self.max_body_bytes
        return 24 * self.max_input_chars + 16_384

    def engine_names(self) -> set[str] | None:
        names = {n.strip() for n in self.engines.split(",") if n.strip()}
        return names or None


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every setting."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else str(field.default)
        rows.append((f"TTSGATE_{name.upper()}", default, field.description or ""))
    return rows
