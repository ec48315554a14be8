"""Streaming encoders: every format decodes back to the tone it was given, and streams."""

from __future__ import annotations

import io
import shutil
import subprocess
import time
import wave

import av
import numpy as np
import numpy.typing as npt
import pytest

from ttsgate.audio.chunk import OUTPUT_SAMPLE_RATE
from ttsgate.audio.encode import AUDIO_FORMATS, create_encoder, wav_stream_header
from ttsgate.exceptions import InvalidRequestError

SR = OUTPUT_SAMPLE_RATE
AMPLITUDE = 0.5
TONE_RMS = AMPLITUDE / np.sqrt(2)
FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"]
# Rate the decoder reports: Opus always decodes at 48 kHz.
DECODED_RATE = {fmt: SR for fmt in FORMATS} | {"opus": 48_000}
# Encoder priming the decoder plays (no gapless info in a streamed mp3 / ADTS): 1105 and 1024
# samples at 24 kHz. Opus' pre-skip and end trim are in the Ogg stream and applied by decoders.
PRIMING = {"mp3": 1105, "aac": 1024}
# Codec frame, the most padding the last frame adds after the tone.
FRAME = {"mp3": 576, "aac": 1024}


def tone(seconds: float, freq: float = 440.0) -> npt.NDArray[np.int16]:
    t = np.arange(round(seconds * SR)) / SR
    samples: npt.NDArray[np.int16] = np.round(AMPLITUDE * 32767 * np.sin(2 * np.pi * freq * t)).astype(
        np.int16
    )
    return samples


def decode(data: bytes, fmt: str) -> tuple[npt.NDArray[np.float64], int]:
    """Mono float samples and rate, decoded by PyAV from memory."""
    if fmt == "pcm":
        container = av.open(io.BytesIO(data), "r", format="s16le", options={"sample_rate": str(SR)})
    else:
        container = av.open(io.BytesIO(data), "r")
    with container:
        stream = container.streams.audio[0]
        pieces = [f.to_ndarray().reshape(-1) for f in container.decode(stream)]
        rate = stream.codec_context.sample_rate
    if not pieces:
        return np.zeros(0), rate
    raw = np.concatenate(pieces)
    scale = 32768.0 if raw.dtype.kind == "i" else 1.0
    return raw.astype(np.float64) / scale, rate


@pytest.mark.parametrize("fmt", FORMATS)
def test_irregular_pieces_decode_to_the_tone(fmt: str) -> None:
    pcm = tone(2.0)
    sizes = [1000, 0, 7001, 333, 12_000, 19_999]
    sizes.append(len(pcm) - sum(sizes))
    encoder = create_encoder(fmt)
    assert encoder.media_type == AUDIO_FORMATS[fmt]
    out, pos = [], 0
    for size in sizes:
        out.append(encoder.encode(pcm[pos : pos + size]))
        pos += size
    out.append(encoder.finish())
    samples, rate = decode(b"".join(out), fmt)

    assert rate == DECODED_RATE[fmt]
    priming = PRIMING.get(fmt, 0) * rate // SR
    played = (len(samples) - priming) / rate
    if fmt in FRAME:  # plus at most one frame of padding after the tone
        assert 2.0 - 0.001 <= played <= 2.0 + FRAME[fmt] / SR + 0.001
    else:
        assert played == pytest.approx(2.0, abs=0.060)
    # The tone itself, wherever the codec put it: where the signal is loud lasts 2.0 s.
    loud = np.flatnonzero(np.abs(samples) > 0.1 * AMPLITUDE)
    assert abs((loud[-1] - loud[0]) / rate - 2.0) <= 0.060
    middle = samples[len(samples) // 4 : 3 * len(samples) // 4]
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(TONE_RMS, rel=0.1)
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle))))
    peak_hz = np.argmax(spectrum) * rate / len(middle)
    assert peak_hz == pytest.approx(440, abs=3)


@pytest.mark.parametrize("fmt", FORMATS)
def test_bytes_stream_before_finish(fmt: str) -> None:
    pcm = tone(10.0)
    encoder = create_encoder(fmt)
    out = [encoder.encode(pcm[i : i + SR]) for i in range(0, len(pcm), SR)]
    tail = encoder.finish()
    assert out[0], "the first second must produce bytes at once"
    assert all(out), "every second of audio must produce bytes"
    assert len(tail) < 0.1 * sum(map(len, out))


def test_lossless_formats_are_exact() -> None:
    pcm = tone(0.5)
    for fmt in ("flac", "wav", "pcm"):
        encoder = create_encoder(fmt)
        data = encoder.encode(pcm[:5000]) + encoder.encode(pcm[5000:]) + encoder.finish()
        samples, _ = decode(data, fmt)
        np.testing.assert_array_equal(np.round(samples * 32768).astype(np.int16), pcm)


def test_pcm_is_raw_s16le() -> None:
    pcm = np.array([0, 1, -1, 32767, -32768], dtype=np.int16)
    encoder = create_encoder("pcm")
    assert encoder.encode(pcm) + encoder.finish() == pcm.astype("<i2").tobytes()


def test_wav_streamed_header_reads_with_wave_module() -> None:
    pcm = tone(1.0)
    encoder = create_encoder("wav")
    data = encoder.encode(pcm[:100]) + encoder.encode(pcm[100:]) + encoder.finish()
    assert data[:44] == wav_stream_header(SR)
    with wave.open(io.BytesIO(data), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (SR, 1, 2)
        frames = w.readframes(10 * SR)  # the header's length is "unknown": read to the end
    np.testing.assert_array_equal(np.frombuffer(frames, dtype="<i2"), pcm)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
def test_wav_streamed_header_reads_with_ffmpeg_from_a_pipe() -> None:
    pcm = tone(1.0)
    encoder = create_encoder("wav")
    data = encoder.encode(pcm) + encoder.finish()
    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "pipe:", "-f", "s16le", "-ac", "1", "pipe:"],
        input=data,
        capture_output=True,
        timeout=30,
        check=True,
    )
    assert result.stderr == b""
    np.testing.assert_array_equal(np.frombuffer(result.stdout, dtype="<i2"), pcm)


def test_empty_stream_gives_valid_headers() -> None:
    assert create_encoder("pcm").finish() == b""
    with wave.open(io.BytesIO(create_encoder("wav").finish()), "rb") as w:
        assert w.readframes(100) == b""
    samples, rate = decode(create_encoder("flac").finish(), "flac")
    assert (len(samples), rate) == (0, SR)


def test_unknown_format_is_an_invalid_request() -> None:
    with pytest.raises(InvalidRequestError) as info:
        create_encoder("ogg")
    assert info.value.param == "response_format"
    for fmt in FORMATS:
        assert fmt in info.value.message


def test_media_types() -> None:
    assert AUDIO_FORMATS == {
        "mp3": "audio/mpeg",
        "opus": "audio/ogg",
        "aac": "audio/aac",
        "flac": "audio/flac",
        "wav": "audio/wav",
        "pcm": "audio/pcm",
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_misuse_is_refused(fmt: str) -> None:
    encoder = create_encoder(fmt)
    with pytest.raises(ValueError, match="int16"):
        encoder.encode(np.zeros(10, dtype=np.float32))
    with pytest.raises(ValueError, match="int16"):
        encoder.encode(np.zeros((2, 10), dtype=np.int16))
    encoder.encode(tone(0.1))
    encoder.finish()
    assert encoder.finish() == b""
    with pytest.raises(RuntimeError):
        encoder.encode(tone(0.1))


@pytest.mark.parametrize("fmt", FORMATS)
def test_encoders_are_cheap_to_create(fmt: str) -> None:
    create_encoder(fmt).finish()  # warm up the codec's one-time tables
    times = []
    for _ in range(5):
        start = time.perf_counter()
        encoder = create_encoder(fmt)
        times.append(time.perf_counter() - start)
        encoder.finish()
    assert sorted(times)[2] < 0.05  # ~1 ms in practice; loose for a busy machine
