"""Targets and load: one measured request, and the closed-loop, open-loop and sequential drivers.

A ``Target`` is a labelled endpoint of one of three kinds:

* ``openai``: ``POST /v1/audio/speech`` with ``{"model","input","voice","response_format"}`` (ttsgate
  or any OpenAI-compatible server);
* ``tts``: ttsgate's (the seed article's) ``GET /tts?text=&voice_id=&response_format=``;
* ``piper``: piper's ``python -m piper.http_server``: ``POST /synthesize`` with ``{"text"}``, WAV back;
* ``wyoming``: a Wyoming TTS server (Home Assistant's wyoming-piper) at ``tcp://HOST:PORT``, for
  ``ttsgate bench stream`` only (``peers.stream_wyoming``).

Every response is read to the end, timed (first body byte, last byte) and decoded with PyAV; a
response whose decoded duration is short of the reference response of the same text is counted
``truncated``, one that does not decode ``corrupt`` (``stats.check_audio``).

With ``unique`` every request's text is made distinct (``unique_text``): a server that shares one
synthesis between identical in-flight texts (single-flight) or caches them would otherwise do less
work than the request count says.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import av
import httpx

from ttsgate.bench.stats import RequestResult, check_audio, error_kind

KINDS = ("openai", "tts", "piper", "wyoming")
_CONTAINERS = {"aac": "aac", "opus": "ogg", "mp3": "mp3", "flac": "flac", "wav": "wav"}

OnDone = Callable[[RequestResult], None]

# One syllable each (no "zero", no "seven"): every counter is spoken in the same number of syllables.
_EN_DIGITS = ("one", "two", "three", "four", "five", "six", "eight", "nine")
_ZH_DIGITS = "一二三四五六八九"
_HAN = re.compile(r"[\u3400-\u9fff]")
_FINAL = re.compile(r"[.!?。！？…；;，,、：:]*[\"'”’」』)）]*\s*$")


def counter_words(n: int, *, han: bool = False, width: int = 4) -> str:
    """``n`` in base 8, at least ``width`` digits, with the eight one-syllable digit names: English
    words joined by hyphens (one word to a segmenter, which cuts long text at spaces; spoken as
    separate words), or Han numerals with ``han``: 0 → "one-one-one-one", 9 → "one-one-two-two"."""
    digits: list[int] = []
    while n or len(digits) < width:
        n, d = divmod(n, 8)
        digits.append(d)
    if han:
        return "".join(_ZH_DIGITS[d] for d in reversed(digits))
    return "-".join(_EN_DIGITS[d] for d in reversed(digits))  # one word: never cut in two


def unique_text(text: str, n: int) -> str:
    """``text`` made distinct by the counter ``n``: every sentence or clause (as ``split_segments``
    cuts the text, at most 80 characters) gets ``counter_words(n)`` at its start and its end.

    ``unique_text("It rained.", 9)`` is ``"one-one-two-two It rained one-one-two-two."``. A server that
    shares a synthesis between identical in-flight *segments* (ttsgate's single-flight) would still
    share a piece that lacks the counter, so each piece carries it at both ends: when the server cuts
    a decorated piece in two (it is at most ~120 characters), both halves hold a whole counter. Every
    counter below 8**4 = 4096 adds eight one-syllable words (Han text: eight characters) per piece,
    so the audio stays comparable from request to request (with piper's joe voice one counter takes
    0.8–1.3 s); the reference response is measured with counter 0, "one-one-one-one", about the
    shortest, so a longer counter never looks truncated. Han text cut without a comma in the first
    80 characters can still split a counter: keep Han sentences shorter than ~70 characters.
    """
    from ttsgate.text import split_segments

    han = bool(_HAN.search(text))
    words = counter_words(n, han=han)
    out = []
    for piece in split_segments(text, first_max=80, max_len=80) or [text]:
        m = _FINAL.search(piece)
        body, final = (piece[: m.start()], m.group().strip()) if m else (piece, "")
        out.append(f"{words}{body}{words}{final or '。'}" if han else f"{words} {body} {words}{final or '.'}")
    return ("" if han else " ").join(out)


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    kind: str
    url: str
    voice: str = "alloy"
    fmt: str = "wav"

    @property
    def audio_format(self) -> str:
        return {"piper": "wav", "wyoming": "pcm"}.get(self.kind, self.fmt)

    @property
    def ready_url(self) -> str:
        """What answers once the server is up: an HTTP URL (200), or the ``tcp://`` address itself."""
        if self.kind == "wyoming":
            return self.url
        return self.url.rstrip("/") + {"openai": "/ready", "tts": "/ready", "piper": "/info"}[self.kind]

    def request(self, text: str) -> tuple[str, str, dict[str, Any]]:
        """(method, url, httpx keyword arguments) of one synthesis request."""
        base = self.url.rstrip("/")
        if self.kind == "openai":
            body = {"model": "tts-1", "input": text, "voice": self.voice, "response_format": self.fmt}
            return "POST", f"{base}/v1/audio/speech", {"json": body}
        if self.kind == "tts":
            params = {"text": text, "voice_id": self.voice, "response_format": self.fmt}
            return "GET", f"{base}/tts", {"params": params}
        if self.kind == "piper":
            return "POST", f"{base}/synthesize", {"json": {"text": text}}
        raise ValueError(f"unknown target kind {self.kind!r}; known: {', '.join(KINDS)}")


def parse_target(spec: str, *, voice: str, fmt: str) -> Target:
    """``[LABEL=]KIND:URL``, e.g. ``gate=openai:http://127.0.0.1:8000``, ``piper:http://h:5000`` or
    ``wyoming:tcp://127.0.0.1:10200``."""
    label, sep, rest = spec.partition("=")
    if not sep or ":" in label:
        label, rest = "", spec
    kind, colon, url = rest.partition(":")
    scheme = "tcp://" if kind == "wyoming" else "http"
    if not colon or kind not in KINDS or not url.startswith(scheme):
        raise ValueError(
            f"bad target {spec!r}: expected [LABEL=]KIND:URL with KIND one of {', '.join(KINDS)}"
        )
    return Target(name=label or kind, kind=kind, url=url, voice=voice, fmt=fmt)


def decoded_duration(data: bytes, fmt: str) -> float | None:
    """Seconds of audio in ``data`` (PyAV), None when it does not decode."""
    if fmt == "pcm":
        return len(data) / 2 / 24_000 if data and len(data) % 2 == 0 else None
    try:
        with av.open(io.BytesIO(data), mode="r", format=_CONTAINERS[fmt]) as container:
            stream = container.streams.audio[0]
            samples, rate = 0, 0
            for frame in container.decode(stream):
                samples += frame.samples
                rate = frame.sample_rate
    except (av.error.FFmpegError, IndexError, ValueError, EOFError):
        return None
    return samples / rate if rate else None


def _transport_kind(exc: BaseException) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    return "aborted"


class Measurer:
    """Sends one text to one target and returns its ``RequestResult`` (decoding off the event loop)."""

    def __init__(
        self, texts: Sequence[str], *, t0: float, tolerance: float = 0.2, unique: bool = False
    ) -> None:
        self.texts = list(texts)
        self.t0 = t0
        self.tolerance = tolerance
        self.unique = unique
        self.expected: dict[tuple[str, int], float] = {}  # (target, text id) -> reference duration
        self._counter = itertools.count(1)  # next() is atomic: safe from the sequential thread too

    def text_for(self, text_id: int, *, reference: bool = False) -> str:
        """The text one request sends: ``texts[text_id]``, or with ``unique`` that text made distinct
        by a counter shared by all requests (0 for the reference requests)."""
        text = self.texts[text_id]
        if not self.unique:
            return text
        return unique_text(text, 0 if reference else next(self._counter))

    def _finish(
        self,
        target: Target,
        phase: str,
        text_id: int,
        start: float,
        end: float,
        status: int,
        ttfa: float | None,
        data: bytes,
        exc: BaseException | None,
    ) -> RequestResult:
        res = RequestResult(
            target.name, phase, text_id, start - self.t0, end - start, status, ttfa, len(data)
        )
        res.expected_s = self.expected.get((target.name, text_id))
        if exc is not None:
            res.error = _transport_kind(exc)
        elif (kind := error_kind(status)) is not None:
            res.error = kind
        else:
            res.audio_s = decoded_duration(data, target.audio_format)
            res.error = check_audio(res.audio_s, res.expected_s, self.tolerance)
        return res

    async def one(self, client: httpx.AsyncClient, target: Target, phase: str, text_id: int) -> RequestResult:
        method, url, kw = target.request(self.text_for(text_id, reference=phase == "reference"))
        chunks: list[bytes] = []
        status, ttfa, exc = 0, None, None
        start = time.perf_counter()
        try:
            async with client.stream(method, url, **kw) as resp:
                status = resp.status_code
                async for chunk in resp.aiter_raw():
                    if ttfa is None and chunk:
                        ttfa = time.perf_counter() - start
                    chunks.append(chunk)
        except httpx.HTTPError as e:
            exc = e
        end = time.perf_counter()
        return await asyncio.to_thread(
            self._finish, target, phase, text_id, start, end, status, ttfa, b"".join(chunks), exc
        )

    def one_sync(self, client: httpx.Client, target: Target, phase: str, text_id: int) -> RequestResult:
        method, url, kw = target.request(self.text_for(text_id, reference=phase == "reference"))
        chunks: list[bytes] = []
        status, ttfa, exc = 0, None, None
        start = time.perf_counter()
        try:
            with client.stream(method, url, **kw) as resp:
                status = resp.status_code
                for chunk in resp.iter_raw():
                    if ttfa is None and chunk:
                        ttfa = time.perf_counter() - start
                    chunks.append(chunk)
        except httpx.HTTPError as e:
            exc = e
        end = time.perf_counter()
        return self._finish(target, phase, text_id, start, end, status, ttfa, b"".join(chunks), exc)

    async def reference(self, client: httpx.AsyncClient, target: Target) -> list[RequestResult]:
        """One unloaded request per text: its decoded duration is what a full response gives."""
        out = []
        for i in range(len(self.texts)):
            res = await self.one(client, target, "reference", i)
            if res.audio_s is not None and res.status < 400:
                self.expected[(target.name, i)] = res.audio_s
            out.append(res)
        return out


async def closed_loop(
    measurer: Measurer,
    client: httpx.AsyncClient,
    target: Target,
    phase: str,
    *,
    concurrency: int,
    requests: int | None = None,
    duration_s: float | None = None,
    on_done: OnDone | None = None,
) -> list[RequestResult]:
    """``concurrency`` clients, each sending its next request when the last one ended, until
    ``requests`` were sent or ``duration_s`` passed."""
    if requests is None and duration_s is None:
        raise ValueError("closed loop needs requests or duration_s")
    results: list[RequestResult] = []
    deadline = time.perf_counter() + duration_s if duration_s is not None else None
    sent = 0

    async def user() -> None:
        nonlocal sent
        while (requests is None or sent < requests) and (deadline is None or time.perf_counter() < deadline):
            text_id = sent % len(measurer.texts)
            sent += 1
            res = await measurer.one(client, target, phase, text_id)
            results.append(res)
            if on_done is not None:
                on_done(res)

    await asyncio.gather(*(user() for _ in range(concurrency)))
    return results


def arrival_times(rate: float, duration_s: float, *, poisson: bool, seed: int = 0) -> list[float]:
    """Request start offsets in [0, duration): exponential gaps (Poisson) or every 1/rate."""
    rng = random.Random(seed)
    out: list[float] = []
    t = 0.0
    while True:
        t = t + rng.expovariate(rate) if poisson else len(out) / rate
        if t >= duration_s:
            return out
        out.append(t)


async def open_loop(
    measurer: Measurer,
    client: httpx.AsyncClient,
    target: Target,
    phase: str,
    *,
    rate: float,
    duration_s: float,
    poisson: bool = True,
    seed: int = 0,
    on_done: OnDone | None = None,
) -> list[RequestResult]:
    """Requests start on a schedule whatever the server's state (no waiting for answers)."""
    results: list[RequestResult] = []
    start = time.perf_counter()

    async def fire(text_id: int) -> None:
        res = await measurer.one(client, target, phase, text_id)
        results.append(res)
        if on_done is not None:
            on_done(res)

    tasks: list[Awaitable[None]] = []
    for i, at in enumerate(arrival_times(rate, duration_s, poisson=poisson, seed=seed)):
        delay = start + at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(fire(i % len(measurer.texts))))
    await asyncio.gather(*tasks)
    return results


def sequential(
    measurer: Measurer,
    target: Target,
    phase: str,
    *,
    requests: int,
    timeout_s: float,
    on_done: OnDone | None = None,
) -> list[RequestResult]:
    """The seed article's synchronous client: one blocking request after the other (run in a thread)."""
    results = []
    with httpx.Client(timeout=timeout_s) as client:
        for i in range(requests):
            res = measurer.one_sync(client, target, phase, i % len(measurer.texts))
            results.append(res)
            if on_done is not None:
                on_done(res)
    return results
