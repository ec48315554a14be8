"""CPU work of a request kept off the event loop.

Text preparation (cleanup, segmentation, normalization) costs about 3–10 µs per character (4096
characters of Chinese 11 ms, of English with numbers and dates 38 ms, on the 2-core development
machine). On the event loop that stalls every other request and stream for as long. Used by the
speech, subtitles and normalize routes and by the live-text segmenter (LLM replies, WebSocket).
``off_loop`` runs it in a worker thread when the text is long enough to matter; a short text
(≤ ``INLINE_CHARS``, well under a millisecond) runs inline, where a thread hop would cost more than
the work. Inputs are capped at ``TTSGATE_MAX_INPUT_CHARS`` before this is reached.

Compressed audio is encoded the same way (``encode_off_loop``): mp3/opus/aac/flac cost ~5-20 ms per
second of audio, which on the event loop would add up across every concurrent stream; libavcodec
releases the GIL, so a worker thread also encodes in parallel with the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

if TYPE_CHECKING:
    from ttsgate.audio.encode import Int16Array, StreamEncoder

INLINE_CHARS = 256

P = ParamSpec("P")
T = TypeVar("T")


async def off_loop(size: int, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)``, in a worker thread when ``size`` (characters of text) is over
    ``INLINE_CHARS``; its exceptions are raised here as they are."""
    if size <= INLINE_CHARS:
        return fn(*args, **kwargs)
    return await asyncio.to_thread(fn, *args, **kwargs)


async def encode_off_loop(encoder: StreamEncoder, pcm: Int16Array | None) -> bytes:
    """``encoder.encode(pcm)``, or ``encoder.finish()`` when ``pcm`` is None: in a worker thread
    unless the encoder is ``inline`` (pcm, wav). Calls for one encoder must not overlap: await each
    before the next (a stream's pieces are encoded in order)."""
    if encoder.inline:
        return encoder.finish() if pcm is None else encoder.encode(pcm)
    if pcm is None:
        return await asyncio.to_thread(encoder.finish)
    return await asyncio.to_thread(encoder.encode, pcm)
