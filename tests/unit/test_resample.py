"""Sample-rate conversion keeps duration and pitch."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from ttsgate.audio.resample import resample, resampled_length


def sine(freq: float, rate: int, seconds: float) -> npt.NDArray[np.float32]:
    t = np.arange(round(rate * seconds)) / rate
    samples: npt.NDArray[np.float32] = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return samples


def peak_hz(x: npt.NDArray[np.float32], rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


@pytest.mark.parametrize(("src", "dst"), [(22_050, 24_000), (16_000, 24_000), (48_000, 24_000)])
def test_keeps_duration_and_frequency(src: int, dst: int) -> None:
    x = sine(1000.0, src, 1.5)
    y = resample(x, src, dst)
    assert y.dtype == np.float32
    assert len(y) == resampled_length(len(x), src, dst)
    assert len(y) / dst == pytest.approx(1.5, abs=1 / dst)
    assert peak_hz(y, dst) == pytest.approx(1000.0, abs=1.0)
    inner = y[len(y) // 10 : -len(y) // 10]  # away from the filter's edges
    assert np.sqrt(np.mean(inner**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_22050_to_24000_uses_the_reduced_ratio() -> None:
    assert len(resample(np.zeros(147, dtype=np.float32), 22_050, 24_000)) == 160


def test_equal_rates_are_identity() -> None:
    x = sine(440.0, 24_000, 0.1)
    assert resample(x, 24_000, 24_000) is x


def test_empty_and_float64_input() -> None:
    assert resample(np.zeros(0, dtype=np.float32), 22_050, 24_000).shape == (0,)
    y = resample(np.zeros(100, dtype=np.float64), 22_050, 24_000)
    assert y.dtype == np.float32


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        resample(np.zeros(10, dtype=np.float32), 0, 24_000)
    with pytest.raises(ValueError, match="mono"):
        resample(np.zeros((2, 10), dtype=np.float32), 22_050, 24_000)


@pytest.mark.parametrize(
    ("src", "dst"), [(22_050, 24_000), (16_000, 24_000), (48_000, 24_000), (44_100, 24_000)]
)
def test_length_is_exact_for_any_input_length(src: int, dst: int) -> None:
    """Short inputs too: libswresample alone gives nothing below its filter length (~22-45 samples)."""
    for n in [*range(1, 300), 1000, 22_050, 100_001]:
        y = resample(np.full(n, 0.25, dtype=np.float32), src, dst)
        assert len(y) == resampled_length(n, src, dst), n
    assert resample(np.full(5, 0.25, dtype=np.float32), 22_050, 24_000)[:5].min() > 0.2  # not zeros


def band_db(x: npt.NDArray[np.float32], rate: int, lo: float, hi: float) -> float:
    """Mean power in [lo, hi) Hz of 1024-sample Hann frames (Welch), in dB."""
    frames = np.lib.stride_tricks.sliding_window_view(x, 1024)[::512] * np.hanning(1024)
    power = np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0)
    freqs = np.fft.rfftfreq(1024, 1 / rate)
    return float(10 * np.log10(power[(freqs >= lo) & (freqs < hi)].mean()))


@pytest.mark.parametrize(("src", "dst"), [(22_050, 24_000), (16_000, 24_000), (48_000, 24_000)])
def test_white_noise_keeps_its_spectrum_below_the_cutoff(src: int, dst: int) -> None:
    x = np.random.default_rng(0).normal(0.0, 0.1, 2 * src).astype(np.float32)
    y = resample(x, src, dst)
    top = 0.9 * min(src, dst) / 2
    for lo, hi in [(100, 2000), (2000, 5000), (5000, top)]:
        # a DFT bin holds rate × the density per Hz: compare densities
        assert band_db(y, dst, lo, hi) - 10 * np.log10(dst) == pytest.approx(
            band_db(x, src, lo, hi) - 10 * np.log10(src), abs=0.5
        )


def test_downsampling_removes_what_the_new_rate_cannot_hold() -> None:
    t = np.arange(48_000) / 48_000
    y = resample((0.5 * np.sin(2 * np.pi * 15_000 * t)).astype(np.float32), 48_000, 24_000)
    assert np.sqrt(np.mean(y[100:-100] ** 2)) < 1e-4  # resample_poly leaves ~5e-4 (-60 dB)


def test_no_ringing_at_the_edges_of_a_loud_segment() -> None:
    """The pipeline resamples each engine call whole and joins them: a segment that starts or ends
    loud must not ring there (libswresample mirrors the edges instead of assuming zeros)."""
    y = resample(np.full(2205, 0.5, dtype=np.float32), 22_050, 24_000)
    assert float(np.abs(y - 0.5).max()) < 1e-3


def test_same_signal_as_scipy_resample_poly_without_delay() -> None:
    signal = pytest.importorskip("scipy.signal")
    x = np.random.default_rng(1).normal(0.0, 0.1, 22_050).astype(np.float32)
    y = resample(x, 22_050, 24_000)
    z = signal.resample_poly(x, 160, 147).astype(np.float32)
    assert len(y) == len(z)
    lags = range(-5, 6)
    corr = [float(np.dot(y[100 + k : -100 + k], z[100:-100])) for k in lags]
    assert lags[int(np.argmax(corr))] == 0
    assert np.sqrt(np.mean((y - z) ** 2)) < 0.03 * np.sqrt(np.mean(z**2))
