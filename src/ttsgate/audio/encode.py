"""Streaming encoders: int16 mono PCM in, bytes of OpenAI's six ``response_format`` values out.

One encoder per response stream. ``encode()`` returns the bytes that are ready now (possibly
``b""``) and ``finish()`` flushes the codec and writes the trailer; concatenating every return
value gives a complete file. Nothing is buffered beyond what the codec or container must hold:

========  ===========  ================================================================
format    media type   stream
========  ===========  ================================================================
mp3       audio/mpeg   libmp3lame, 64 kbit/s CBR, MPEG-2 layer III at 24 kHz
opus      audio/ogg    libopus at 24 kHz (no resampling), 32 kbit/s VBR, in Ogg;
                       decoders output 48 kHz (Opus always decodes at 48 kHz)
aac       audio/aac    FFmpeg's native AAC-LC, 64 kbit/s, in ADTS
flac      audio/flac   FLAC, 16 bit, in the native FLAC container
wav       audio/wav    RIFF header with unknown sizes (0xFFFFFFFF, as ffmpeg writes to a
                       pipe), then s16le samples
pcm       audio/pcm    raw s16le mono at 24 kHz, no header
========  ===========  ================================================================

``opus`` is served as ``audio/ogg`` (RFC 7845, what browsers understand for an Ogg Opus file)
and ``pcm`` as ``audio/pcm``; OpenAI's SDK does not look at the content type.

Latency: what each codec holds back is its look-ahead (mp3 about two frames, aac one
1024-sample frame, opus a few ms) and, for opus, the Ogg page being filled (at most
``_OGG_PAGE_DURATION_US``); the rest of each ``encode`` call leaves at once.

Streams cannot seek back, so the FLAC STREAMINFO has no total length, the mp3 has no Xing/LAME
header, and the WAV sizes are 0xFFFFFFFF; decoders accept all three (ffmpeg warns "Ignoring
maximum wav data size" for the WAV, exactly as for its own piped WAV). Without the LAME header
or gapless info in ADTS, decoders play the encoders' priming: 1105 samples (46 ms) before mp3
audio and 1024 (43 ms) before aac audio, plus padding to a whole frame at the end, so timings
computed on the PCM (subtitles) run that much early against mp3/aac playback. Opus carries its
pre-skip and end trim in the Ogg stream, and decodes to the exact length.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Protocol

import av
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream

from ttsgate.audio.chunk import OUTPUT_SAMPLE_RATE
from ttsgate.exceptions import EngineError, InvalidRequestError

Int16Array = npt.NDArray[np.int16]

AUDIO_FORMATS: dict[str, str] = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}

# An Ogg page is written once it holds this much audio (ffmpeg's default is 1 s): low latency
# for a streamed response at a cost of ~32 bytes of page header per page (~8 % at 32 kbit/s).
_OGG_PAGE_DURATION_US = 100_000


class StreamEncoder(Protocol):
    """One response stream's encoder; not thread-safe (one call at a time, from any thread)."""

    media_type: str
    # True where encode/finish only copy bytes (pcm, wav): cheaper inline than a thread hop.
    # mp3/opus/aac/flac cost ~5-20 ms per second of audio in libavcodec, which releases the GIL:
    # ``encode_off_loop`` runs those in a worker thread.
    inline: bool

    def encode(self, pcm: Int16Array) -> bytes:
        """Encode more samples; return the bytes ready to send now (may be ``b""``)."""
        ...

    def finish(self) -> bytes:
        """Flush the codec and write the trailer; return the last bytes of the stream."""
        ...


@dataclass(frozen=True)
class _CodecSpec:
    """How to write one compressed format."""

    container: str
    codec: str
    sample_format: str
    bit_rate: int | None
    codec_options: dict[str, str] = field(default_factory=dict)
    container_options: dict[str, str] = field(default_factory=dict)


def _codec_spec(fmt: str) -> _CodecSpec | None:
    if fmt == "mp3":
        return _CodecSpec("mp3", "libmp3lame", "s16p", 64_000)
    if fmt == "opus":
        return _CodecSpec(
            "ogg",
            "libopus",
            "s16",
            32_000,
            codec_options={"application": "audio", "frame_duration": "20"},
            container_options={"page_duration": str(_OGG_PAGE_DURATION_US)},
        )
    if fmt == "aac":
        return _CodecSpec("adts", "aac", "fltp", 64_000)
    if fmt == "flac":
        return _CodecSpec("flac", "flac", "s16", None)
    return None


class _Sink:
    """A write-only, non-seekable file for PyAV: collects what the muxer writes."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def write(self, data: bytes) -> int:
        self._buf += data
        return len(data)

    def drain(self) -> bytes:
        out = bytes(self._buf)
        self._buf.clear()
        return out


def _check_pcm(pcm: Int16Array) -> Int16Array:
    arr = np.asarray(pcm)
    if arr.dtype != np.int16 or arr.ndim != 1:
        raise ValueError(f"expected 1-D int16 samples, got {arr.dtype} with shape {arr.shape}")
    return np.ascontiguousarray(arr)


class _AVEncoder:
    """mp3 / opus / aac / flac through PyAV, muxed into an in-memory non-seekable sink."""

    inline = False

    def __init__(self, spec: _CodecSpec, media_type: str, sample_rate: int) -> None:
        self.media_type = media_type
        self._rate = sample_rate
        self._format = spec.sample_format
        self._sink = _Sink()
        # flush_packets: hand every muxed packet to the sink at once, not in 32 KiB blocks.
        options = {"flush_packets": "1", **spec.container_options}
        self._container = av.open(self._sink, "w", format=spec.container, container_options=options)
        stream = self._container.add_stream(spec.codec, rate=sample_rate, layout="mono")
        if not isinstance(stream, AudioStream):  # pragma: no cover - every codec here is audio
            raise TypeError(f"{spec.codec} is not an audio codec")
        self._stream = stream
        ctx = self._stream.codec_context
        ctx.format = spec.sample_format
        ctx.time_base = Fraction(1, sample_rate)
        if spec.bit_rate is not None:
            ctx.bit_rate = spec.bit_rate
        ctx.options = dict(spec.codec_options)
        ctx.open()
        self._frame_size: int = ctx.frame_size or 1024
        self._pending: Int16Array = np.zeros(0, dtype=np.int16)
        self._pts = 0
        self._done = False

    def encode(self, pcm: Int16Array) -> bytes:
        if self._done:
            raise RuntimeError("encode() after finish()")
        samples = _check_pcm(pcm)
        if samples.size == 0:
            return b""
        try:
            return self._encode(samples)
        except av.FFmpegError as exc:
            raise EngineError(f"{self.media_type} encoder failed: {exc}") from exc

    def finish(self) -> bytes:
        if self._done:
            return b""
        self._done = True
        try:
            return self._finish()
        except av.FFmpegError as exc:
            raise EngineError(f"{self.media_type} encoder failed: {exc}") from exc

    def _encode(self, samples: Int16Array) -> bytes:
        if self._pending.size:
            samples = np.concatenate([self._pending, samples])
        n_full = len(samples) - len(samples) % self._frame_size
        for start in range(0, n_full, self._frame_size):
            self._encode_frame(samples[start : start + self._frame_size])
        self._pending = samples[n_full:].copy()
        return self._sink.drain()

    def _finish(self) -> bytes:
        if self._pending.size:
            self._encode_frame(self._pending)  # every codec here accepts a short last frame
            self._pending = np.zeros(0, dtype=np.int16)
        self._container.mux(self._stream.encode(None))
        self._container.start_encoding()  # a header even for a stream with no audio at all
        self._container.close()
        return self._sink.drain()

    def _encode_frame(self, samples: Int16Array) -> None:
        if self._format == "fltp":
            data: npt.NDArray[np.float32] | Int16Array = (samples.astype(np.float32) / np.float32(32768.0))[
                None, :
            ]
        else:  # s16 (packed) and s16p are the same layout for mono
            data = samples[None, :]
        frame = av.AudioFrame.from_ndarray(data, format=self._format, layout="mono")
        frame.sample_rate = self._rate
        frame.pts = self._pts
        frame.time_base = Fraction(1, self._rate)
        self._pts += len(samples)
        self._container.mux(self._stream.encode(frame))


class _PCMEncoder:
    """Raw little-endian s16 samples."""

    media_type = AUDIO_FORMATS["pcm"]
    inline = True

    def __init__(self) -> None:
        self._done = False

    def encode(self, pcm: Int16Array) -> bytes:
        if self._done:
            raise RuntimeError("encode() after finish()")
        return _check_pcm(pcm).astype("<i2", copy=False).tobytes()

    def finish(self) -> bytes:
        self._done = True
        return b""


def wav_stream_header(sample_rate: int = OUTPUT_SAMPLE_RATE) -> bytes:
    """A 44-byte s16le mono WAV header for a stream of unknown length.

    RIFF and data sizes are 0xFFFFFFFF, as ffmpeg writes when its output cannot seek; ffmpeg,
    PyAV, Python's ``wave`` and browsers read the samples up to the end of the stream.
    """
    block_align = 2
    return (
        b"RIFF"
        + struct.pack("<I", 0xFFFFFFFF)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * block_align, block_align, 16)
        + b"data"
        + struct.pack("<I", 0xFFFFFFFF)
    )


class _WAVEncoder(_PCMEncoder):
    media_type = AUDIO_FORMATS["wav"]

    def __init__(self, sample_rate: int) -> None:
        super().__init__()
        self._header: bytes | None = wav_stream_header(sample_rate)

    def encode(self, pcm: Int16Array) -> bytes:
        body = super().encode(pcm)
        if self._header is None:
            return body
        out, self._header = self._header + body, None
        return out

    def finish(self) -> bytes:
        super().finish()
        out, self._header = self._header or b"", None
        return out


def create_encoder(fmt: str, sample_rate: int = OUTPUT_SAMPLE_RATE) -> StreamEncoder:
    """A new encoder for ``fmt`` (one of ``AUDIO_FORMATS``); input is int16 mono at ``sample_rate``."""
    if fmt not in AUDIO_FORMATS:
        valid = ", ".join(AUDIO_FORMATS)
        raise InvalidRequestError(
            f"response_format {fmt!r} is not supported; valid formats: {valid}",
            param="response_format",
        )
    if fmt == "pcm":
        return _PCMEncoder()
    if fmt == "wav":
        return _WAVEncoder(sample_rate)
    spec = _codec_spec(fmt)
    assert spec is not None
    try:
        return _AVEncoder(spec, AUDIO_FORMATS[fmt], sample_rate)
    except av.FFmpegError as exc:
        raise ValueError(f"cannot encode {fmt} at {sample_rate} Hz: {exc}") from exc
