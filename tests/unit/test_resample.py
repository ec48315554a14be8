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
