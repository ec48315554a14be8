"""``ttsgate bench stream``: one client streaming one paragraph, measured as a listener hears it.

A stream's record (``StreamRecord``) holds its outcome (``ok``; ``refused``: HTTP 503, with its
``Retry-After`` and the time to the refusal; ``error`` of some kind before any audio; ``truncated``:
audio that stopped early or came out shorter than the same text's unloaded reference), the time to
its first audio byte, the arrival time of every piece of audio with the seconds of audio it carries,
and what a real-time player makes of those arrivals (``simulate_player``): playback starts with the
first audio byte and runs at the stream's sample rate; when it catches up with the audio received
it pauses (a *stall*) until the next piece arrives.

Every stream speaks a distinct paragraph (``Paragraphs``): the base paragraph with a spelled-out
counter in each sentence (``distinct_text``), so that no two streams share a synthesis through
single-flight or a cache. ``--same-start`` puts one shared sentence first (a server may serve it
to all streams from one synthesis; only the rest is distinct).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from ttsgate.bench.load import Target, _transport_kind, counter_words, unique_text
from ttsgate.bench.probe import Progress

# The built-in paragraphs: six short sentences without commas (so a server does not cut a later one
# in two, and one counter each keeps every segment distinct); with the counters, about 19 s of speech.
PARAGRAPH_EN = (
    "The train to the coast leaves every hour. "
    "Tickets are cheaper a day before you travel. "
    "Bring a warm coat for the cold sea wind. "
    "The old lighthouse is open to visitors until five. "
    "Most people walk the cliffs and eat at the harbour. "
    "The last train to town leaves before midnight."
)
PARAGRAPH_ZH = (
    "去海边的火车每小时发一班。"
    "提前一天买票会便宜不少。"
    "海边晚上风大记得带件外套。"
    "老灯塔五点以前对游客开放。"
    "很多人先去悬崖散步再吃饭。"
    "回城的最后一班火车在午夜前开出。"
)
SAME_START = {"en": "Sure, here is the short version.", "zh": "好的，我来简单说一下。"}

GROUP_S = 0.002  # pieces arriving within this of a recorded piece are recorded as part of it
_HAN = re.compile(r"[\u3400-\u9fff]")
_CLAUSE = re.compile(r"[，、；：,;:]")
_ZH_PREFIXES = ("zh", "yue", "cmn")


def is_chinese_voice(voice: str) -> bool:
    """Whether ``voice`` (a ttsgate voice id or alias) speaks Chinese: its entry in the built-in voice
    table, else its name (``zh_…``)."""
    try:
        from ttsgate.voices import VoiceTable

        return VoiceTable.load().resolve(voice).script == "han"
    except Exception:  # not in the built-in table
        return voice.lower().startswith(_ZH_PREFIXES)


def distinct_text(text: str, n: int) -> str:
    """``text`` made distinct by the counter ``n`` (``load.counter_words``), with as little added
    speech as is safe: a later sentence that a server will not cut (no clause mark, short enough)
    gets the counter once, at its start; the first sentence (a server may cut it anywhere, so that
    its first audio leaves early) and any other piece are decorated at both ends by
    ``load.unique_text``. A Latin-script sentence starts with a capital ("One-one-two-two The…"):
    sentence splitters such as wyoming-piper's take a lower-case word after a full stop for the
    same sentence going on."""
    from ttsgate.text import split_segments

    han = bool(_HAN.search(text))
    words = counter_words(n, han=han)
    out = []
    for i, piece in enumerate(split_segments(text, first_max=80, max_len=80) or [text]):
        if i == 0 or _CLAUSE.search(piece) or len(piece) + len(words) > 70:
            decorated = unique_text(piece, n)
        else:
            decorated = f"{words}{piece}" if han else f"{words} {piece}"
        out.append(decorated[:1].upper() + decorated[1:])
    return ("" if han else " ").join(out)


@dataclass(slots=True)
class Paragraphs:
    """The texts streams speak: ``texts[text_id]`` made distinct per stream, after ``same_start``."""

    texts: list[str]
    same_start: str | None = None
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def text(self, text_id: int, *, reference: bool = False) -> str:
        body = distinct_text(self.texts[text_id], 0 if reference else next(self._counter))
        if not self.same_start:
            return body
        sep = "" if _HAN.search(self.same_start) else " "
        return f"{self.same_start}{sep}{body}"


@dataclass(slots=True)
class StreamRecord:
    target: str
    phase: str  # "reference", "c=16", ...
    index: int  # the stream's number within its level
    text_id: int
    chars: int
    start_s: float  # request start, seconds since the run started
    end_s: float = 0.0
    outcome: str = "error"  # ok | refused | error | truncated
    error: str | None = None  # http_4xx, http_5xx, timeout, connect, aborted, server_error, empty, short
    status: int = 0  # HTTP status (wyoming: 200 once audio starts)
    retry_after: str | None = None
    refusal_s: float | None = None  # request start -> the 503
    ttfa_s: float | None = None  # request start -> first audio byte
    sample_rate: int | None = None
    audio_s: float = 0.0
    expected_s: float | None = None  # the same text's unloaded reference
    arrivals: list[tuple[float, float]] = field(default_factory=list)  # (s since start, audio s)
    worst_stall_s: float = 0.0
    total_stall_s: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.outcome in ("ok", "truncated")


def simulate_player(arrivals: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """(worst stall, total stall) of a real-time player fed ``arrivals`` ((arrival time, seconds of
    audio) in arrival order): playback starts when the first audio arrives; whenever it has played
    everything received it pauses until the next piece arrives, and every later deadline moves by
    that pause. Pieces without audio are ignored."""
    worst = total = 0.0
    played_until: float | None = None  # when the audio received so far will have been played
    for at, seconds in arrivals:
        if seconds <= 0:
            continue
        if played_until is None:
            played_until = at
        elif at > played_until:
            stall = at - played_until
            worst = max(worst, stall)
            total += stall
            played_until = at
        played_until += seconds
    return worst, total


class StreamError(Exception):
    """A stream that failed for a reason of the protocol's own (``kind``: e.g. ``server_error``)."""

    def __init__(self, kind: str, message: str = "") -> None:
        super().__init__(message or kind)
        self.kind = kind


class Recorder:
    """Fills one stream's record while it is read: status, then each piece of audio as it arrives."""

    def __init__(self, rec: StreamRecord, started: float) -> None:
        self.rec = rec
        self.started = started
        self._group_at = -1.0

    def response(self, status: int, retry_after: str | None = None) -> None:
        self.rec.status = status
        if status == 503:
            self.rec.retry_after = retry_after
            self.rec.refusal_s = time.perf_counter() - self.started

    def audio(self, seconds: float) -> None:
        if seconds <= 0:
            return
        at = time.perf_counter() - self.started
        rec = self.rec
        if rec.ttfa_s is None:
            rec.ttfa_s = at
        rec.audio_s += seconds
        if rec.arrivals and at - self._group_at < GROUP_S:
            t, s = rec.arrivals[-1]
            rec.arrivals[-1] = (t, s + seconds)
        else:
            rec.arrivals.append((at, seconds))
            self._group_at = at


StreamFn = Callable[[Target, str, Recorder], Awaitable[None]]


class Counter(Protocol):
    """Seconds of audio in each piece of a body, fed in arrival order; ``rate`` once known."""

    rate: int | None

    def feed(self, chunk: bytes, /) -> float: ...


class PcmCounter:
    """s16le mono PCM at ``rate`` Hz."""

    def __init__(self, rate: int = 24_000) -> None:
        self.rate: int | None = rate

    def feed(self, chunk: bytes) -> float:
        return len(chunk) / 2 / (self.rate or 1)


async def stream_counted(
    client: httpx.AsyncClient, target: Target, text: str, rec: Recorder, counter: Counter
) -> None:
    """Send ``target``'s request for ``text`` and record its body's audio as ``counter`` reads it
    (a refusal or error status is recorded with its ``Retry-After``, its body read and dropped)."""
    method, url, kw = target.request(text)
    async with client.stream(method, url, **kw) as resp:
        rec.response(resp.status_code, resp.headers.get("retry-after"))
        if resp.status_code >= 400:
            await resp.aread()
            return
        async for chunk in resp.aiter_bytes():
            seconds = counter.feed(chunk)
            rec.rec.sample_rate = counter.rate
            rec.audio(seconds)


async def stream_openai(client: httpx.AsyncClient, target: Target, text: str, rec: Recorder) -> None:
    """ttsgate's (OpenAI's) ``POST /v1/audio/speech`` with ``response_format`` pcm (s16le 24 kHz)."""
    await stream_counted(client, target, text, rec, PcmCounter())


def _finish(rec: StreamRecord, exc_kind: str | None, tolerance: float) -> None:
    if rec.status == 503:
        rec.outcome, rec.error = "refused", "http_503"
    elif rec.status >= 400:
        rec.outcome, rec.error = "error", "http_5xx" if rec.status >= 500 else "http_4xx"
    elif exc_kind is not None:
        rec.outcome, rec.error = ("truncated" if rec.audio_s > 0 else "error"), exc_kind
    elif rec.audio_s <= 0:
        rec.outcome, rec.error = "error", "empty"
    elif rec.expected_s is not None and rec.audio_s < rec.expected_s * (1.0 - tolerance):
        rec.outcome, rec.error = "truncated", "short"
    else:
        rec.outcome = "ok"
    rec.worst_stall_s, rec.total_stall_s = simulate_player(rec.arrivals)
    rec.arrivals = [(round(t, 4), round(s, 5)) for t, s in rec.arrivals]


@dataclass
class StreamContext:
    """What every stream of a run shares: the http client, the texts, the clock and the limits."""

    client: httpx.AsyncClient
    paragraphs: Paragraphs
    t0: float
    timeout_s: float = 120.0
    tolerance: float = 0.2
    spread_s: float = 2.0
    progress: bool = True
    expected: dict[tuple[str, int], float] = field(default_factory=dict)  # (target, text id) -> s

    def stream_fn(self, target: Target) -> StreamFn:
        from ttsgate.bench import peers

        if target.kind == "openai":
            return lambda t, text, rec: stream_openai(self.client, t, text, rec)
        if target.kind in ("piper", "tts"):
            return lambda t, text, rec: peers.stream_wav(self.client, t, text, rec)
        if target.kind == "wyoming":
            return peers.stream_wyoming
        raise ValueError(f"target kind {target.kind!r} cannot be streamed")

    async def one(self, target: Target, phase: str, index: int, text_id: int) -> StreamRecord:
        text = self.paragraphs.text(text_id, reference=phase == "reference")
        started = time.perf_counter()
        rec = StreamRecord(target.name, phase, index, text_id, len(text), started - self.t0)
        rec.expected_s = self.expected.get((target.name, text_id))
        exc_kind = None
        try:
            async with asyncio.timeout(self.timeout_s):
                await self.stream_fn(target)(target, text, Recorder(rec, started))
        except TimeoutError:
            exc_kind = "timeout"
        except httpx.HTTPError as exc:
            exc_kind = _transport_kind(exc)
        except ConnectionRefusedError:
            exc_kind = "connect"
        except (OSError, EOFError, asyncio.IncompleteReadError):
            exc_kind = "aborted"
        except StreamError as exc:
            exc_kind = exc.kind
        except Exception as exc:  # a malformed answer: recorded, the run goes on
            exc_kind = f"client_{type(exc).__name__}"
        rec.end_s = time.perf_counter() - self.t0
        _finish(rec, exc_kind, self.tolerance)
        return rec

    async def references(self, target: Target) -> list[StreamRecord]:
        """One unloaded stream per text (counter 0): its audio length marks later streams truncated."""
        out = []
        for i in range(len(self.paragraphs.texts)):
            rec = await self.one(target, "reference", i, i)
            if rec.outcome == "ok":
                self.expected[(target.name, i)] = rec.audio_s
            out.append(rec)
        return out

    async def level(self, target: Target, phase: str, n: int) -> list[StreamRecord]:
        """``n`` streams whose starts are spread evenly over ``spread_s`` seconds."""
        bar = Progress(f"{target.name} {phase}", n, enabled=self.progress)
        begin = time.perf_counter()

        async def start(i: int) -> StreamRecord:
            await asyncio.sleep(max(0.0, begin + i * self.spread_s / n - time.perf_counter()))
            rec = await self.one(target, phase, i, i % len(self.paragraphs.texts))
            bar.update(rec.outcome != "ok")
            return rec

        records = await asyncio.gather(*(start(i) for i in range(n)))
        bar.close()
        return list(records)
