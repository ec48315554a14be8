"""Whole-request audio on top of the segment cache: repeated requests answered without the pipeline.

Three kinds of entry, all in the one ``AudioCache`` (so Redis shares them between replicas):

* **request PCM** under the *request key* = ``cache_key`` over ``SpeechPipeline.pcm_parts`` (the
  ordered run keys and pauses: everything that decides the request's PCM, not its format). It is
  what ``GET /v1/audio/{key}.{fmt}`` serves, and what a 302 redirect points at.
* **encoded audio** under ``cache_key("encoded", request key, fmt)``: the GET route's encodings.
* **front entries** under the *front key* = ``cache_key`` over the raw request (text, resolved voice,
  speed, format, pronunciation-lexicon version) and a fingerprint of the loaded engines and voice
  table. The value is the request key (64 ASCII bytes) followed by the complete encoded response,
  so a repeated request costs one cache lookup: no text pipeline, no routing, no encoder.

Entries are written only after a request has been spoken completely (an aborted or failed stream
stores nothing) and only when its PCM is at most ``max_bytes``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from ttsgate.audio.encode import create_encoder
from ttsgate.cache import AudioCache, cache_key, valid_key
from ttsgate.pipeline import AudioPiece, SpeechOptions, SpeechPipeline, SpokenSegment
from ttsgate.text import Segment
from ttsgate.voices import Voice

log = logging.getLogger("ttsgate.cache")

_S = TypeVar("_S", SpokenSegment, SpokenSegment | AudioPiece)
MAX_REQUEST_BYTES = 8 * 1024 * 1024  # ~175 s of 24 kHz s16 mono
_KEY_LEN = 64


@dataclass(frozen=True, slots=True)
class FrontHit:
    request_key: str
    data: bytes  # the complete encoded response


@dataclass(slots=True)
class Recording:
    """The PCM and encoded bytes of one response being sent, stored once it completes."""

    request_key: str
    front_key: str | None
    fmt: str
    pcm: list[bytes] = field(default_factory=list)
    encoded: list[bytes] = field(default_factory=list)
    nbytes: int = 0
    complete: bool = False  # every segment was spoken
    too_big: bool = False

    def add_pcm(self, data: bytes, limit: int) -> None:
        if self.too_big:
            return
        self.nbytes += len(data)
        if self.nbytes > limit:
            self.too_big = True
            self.pcm.clear()
            self.encoded.clear()
        else:
            self.pcm.append(data)


def finalize_wav(fmt: str, data: bytes) -> bytes:
    """A complete (non-streamed) WAV gets its real RIFF/data sizes instead of the streaming ones."""
    if fmt != "wav" or len(data) < 44 or data[:4] != b"RIFF":
        return data
    buf = bytearray(data)
    buf[4:8] = (len(buf) - 8).to_bytes(4, "little")
    idx = buf.find(b"data", 12)
    if idx >= 0:
        buf[idx + 4 : idx + 8] = (len(buf) - idx - 8).to_bytes(4, "little")
    return bytes(buf)


def encode_pcm(fmt: str, pcm: bytes) -> bytes:
    """The complete file of ``fmt`` for s16 mono PCM at the output rate."""
    encoder = create_encoder(fmt)
    data = encoder.encode(np.frombuffer(pcm, dtype=np.int16)) + encoder.finish()
    return finalize_wav(fmt, data)


class RequestCache:
    """One per app (made by ``create_app``); a no-op when the cache backend is ``off``."""

    def __init__(self, cache: AudioCache, *, max_bytes: int = MAX_REQUEST_BYTES) -> None:
        self.cache = cache
        self.max_bytes = max_bytes
        self.enabled = cache.backend != "off"
        self._fingerprint: tuple[int, str] | None = None  # (id of the pipeline, its fingerprint)

    # -- keys ---------------------------------------------------------------------------------

    def fingerprint(self, pipeline: SpeechPipeline) -> str:
        """What, besides the request, decides its audio: engines and versions, the voice table."""
        if self._fingerprint is None or self._fingerprint[0] != id(pipeline):
            t = pipeline.table
            parts = [f"{n}={e.version}" for n, e in sorted(pipeline.engines.items())]
            parts += [repr(v) for _, v in sorted(t.voices.items())]
            parts += [repr(sorted(t.languages.items())), repr(t.fallback_engine)]
            self._fingerprint = (id(pipeline), cache_key("ttsgate-fingerprint-v1", *parts))
        return self._fingerprint[1]

    def front_key(
        self,
        pipeline: SpeechPipeline,
        voice: Voice,
        text: str,
        speed: float,
        fmt: str,
        language: str | None,
        lexicon: str = "",
    ) -> str:
        """``lexicon``: the request's ``Lexicon.version`` (the file's entries and the request's):
        a changed reading is never answered from the cache."""
        return cache_key(
            "ttsgate-front-v3",
            self.fingerprint(pipeline),
            repr(voice),
            f"{speed:.4f}",
            fmt,
            language or "",
            lexicon,
            text,
        )

    @staticmethod
    def request_key(pipeline: SpeechPipeline, segments: Iterable[Segment], opts: SpeechOptions) -> str:
        return cache_key("ttsgate-request-v1", *pipeline.pcm_parts(segments, opts))

    @staticmethod
    def encoded_key(request_key: str, fmt: str) -> str:
        return cache_key("ttsgate-encoded-v1", request_key, fmt)

    # -- lookups ------------------------------------------------------------------------------

    async def front(self, key: str) -> FrontHit | None:
        value = await self.cache.get(key)
        if value is None or len(value) <= _KEY_LEN:
            return None
        request_key = value[:_KEY_LEN].decode("ascii", "replace")
        if not valid_key(request_key):
            return None
        return FrontHit(request_key, value[_KEY_LEN:])

    async def pcm(self, request_key: str) -> bytes | None:
        return await self.cache.get(request_key)

    async def encoded(self, request_key: str, fmt: str) -> bytes | None:
        """The complete ``fmt`` file of a cached request, encoded once and then cached too."""
        ekey = self.encoded_key(request_key, fmt)
        data = await self.cache.get(ekey)
        if data is not None:
            return data
        pcm = await self.pcm(request_key)
        if pcm is None:
            return None
        data = pcm if fmt == "pcm" else await asyncio.to_thread(encode_pcm, fmt, pcm)
        if fmt != "pcm":
            await self.cache.put(ekey, data)
        return data

    async def put_front(self, front_key: str, request_key: str, data: bytes) -> None:
        await self.cache.put(front_key, request_key.encode("ascii") + data)

    # -- recording a response -----------------------------------------------------------------

    def recording(self, request_key: str, front_key: str | None, fmt: str) -> Recording:
        return Recording(request_key, front_key, fmt)

    def tap_segments(self, rec: Recording, first: _S, rest: AsyncIterator[_S]) -> AsyncGenerator[_S, None]:
        """``rest`` unchanged, recording every segment's PCM (``first`` included); the
        ``AudioPiece``s of ``stream_pieces`` pass through unrecorded (their segment holds them)."""
        if isinstance(first, SpokenSegment):
            rec.add_pcm(first.pcm.tobytes(), self.max_bytes)

        async def tapped() -> AsyncGenerator[_S, None]:
            try:
                async for seg in rest:
                    if isinstance(seg, SpokenSegment):
                        rec.add_pcm(seg.pcm.tobytes(), self.max_bytes)
                    yield seg
                rec.complete = True
            finally:
                await _aclose(rest)

        return tapped()

    def tap_body(self, rec: Recording, body: AsyncIterator[bytes], *, audio: bool) -> AsyncIterator[bytes]:
        """``body`` unchanged (encoded audio when ``audio``); at its clean end, store the recording."""

        async def tapped() -> AsyncIterator[bytes]:
            try:
                async for chunk in body:
                    if audio and not rec.too_big:
                        rec.encoded.append(chunk)
                    yield chunk
            finally:
                await _aclose(body)
            await self.store(rec, audio=audio)

        return tapped()

    async def store(self, rec: Recording, *, audio: bool) -> None:
        if not rec.complete or rec.too_big:
            return
        await self.cache.put(rec.request_key, b"".join(rec.pcm))
        if audio and rec.front_key is not None:
            data = finalize_wav(rec.fmt, b"".join(rec.encoded))
            await self.put_front(rec.front_key, rec.request_key, data)


async def _aclose(it: object) -> None:
    aclose = getattr(it, "aclose", None)
    if aclose is not None:
        await aclose()
