"""Compressed audio is encoded off the event loop, in order; pcm/wav stay inline (offload.py)."""

from __future__ import annotations

import asyncio
import io
import threading

import av
import numpy as np
import pytest

from ttsgate.audio.chunk import OUTPUT_SAMPLE_RATE
from ttsgate.audio.encode import create_encoder
from ttsgate.offload import encode_off_loop


def _tone(seconds: float, hz: float) -> np.ndarray:
    t = np.arange(int(seconds * OUTPUT_SAMPLE_RATE)) / OUTPUT_SAMPLE_RATE
    return (np.sin(2 * np.pi * hz * t) * 8000).astype(np.int16)


class _Recorder:
    """Wraps a real encoder, recording the thread of every call."""

    def __init__(self, fmt: str) -> None:
        self._inner = create_encoder(fmt)
        self.media_type = self._inner.media_type
        self.inline = self._inner.inline
        self.threads: list[int] = []

    def encode(self, pcm: np.ndarray) -> bytes:
        self.threads.append(threading.get_ident())
        return self._inner.encode(pcm)

    def finish(self) -> bytes:
        self.threads.append(threading.get_ident())
        return self._inner.finish()


@pytest.mark.parametrize(("fmt", "inline"), [("mp3", False), ("opus", False), ("aac", False),
                                             ("flac", False), ("pcm", True), ("wav", True)])  # fmt: skip
def test_compressed_formats_leave_the_loop_and_copies_stay(fmt: str, inline: bool) -> None:
    rec = _Recorder(fmt)
    assert rec.inline is inline

    async def run() -> int:
        await encode_off_loop(rec, _tone(0.5, 440))
        await encode_off_loop(rec, None)
        return threading.get_ident()

    loop_thread = asyncio.run(run())
    assert len(rec.threads) == 2
    assert all((t == loop_thread) is inline for t in rec.threads)


@pytest.mark.parametrize("fmt", ["mp3", "opus", "flac"])
def test_bytes_are_those_of_inline_encoding_in_order(fmt: str) -> None:
    """Pieces of different tones, encoded through threads, decode to the same audio in the same
    order as encoding them directly (the stream's bytes are identical)."""
    pieces = [_tone(0.3, hz) for hz in (300, 600, 900, 1200)]
    direct = create_encoder(fmt)
    expected = b"".join(direct.encode(p) for p in pieces) + direct.finish()

    async def run() -> bytes:
        enc = create_encoder(fmt)
        out = [await encode_off_loop(enc, p) for p in pieces]
        return b"".join(out) + await encode_off_loop(enc, None)

    got = asyncio.run(run())
    decoded, reference = _decode(got), _decode(expected)
    if fmt != "opus":  # an Ogg stream's serial number is random: compare its decoded samples
        assert got == expected
    np.testing.assert_array_equal(decoded, reference)
    assert len(decoded) >= sum(len(p) for p in pieces) * 0.95  # the whole length


def _decode(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data)) as container:
        return np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])


def test_a_busy_encode_does_not_hold_the_loop() -> None:
    """While a long mp3 piece is encoded, the event loop keeps running other tasks."""
    long_piece = _tone(20.0, 440)
    ticks = 0

    async def ticker(stop: asyncio.Event) -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0)

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(ticker(stop))
        enc = create_encoder("mp3")
        await encode_off_loop(enc, long_piece)
        stop.set()
        await task

    asyncio.run(run())
    assert ticks > 1  # inline, the ticker would not have run until the encode returned
