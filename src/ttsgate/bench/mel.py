"""Distance between two mel spectrograms of the same text, for equivalence checks of a voice's
runtimes or variants (benchmarks/zh_onnx.py, the zh-baker ONNX tests)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


def dtw_mel_distance(a: npt.NDArray[np.floating[Any]], b: npt.NDArray[np.floating[Any]]) -> float:
    """Mean per-frame mean |Δ| along the dynamic-time-warping path between mels ``a`` [N, 80] and
    ``b`` [M, 80] (log-mel units): 0 for identical mels; frames are aligned first, so a one-frame
    duration difference costs little. O(N·M) time and memory."""
    cost = np.abs(a[:, None, :] - b[None, :, :]).mean(axis=2)
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    steps = np.zeros((n + 1, m + 1))
    acc[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            choices = (acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1])
            k = int(np.argmin(choices))
            prev = ((i - 1, j - 1), (i - 1, j), (i, j - 1))[k]
            acc[i, j] = choices[k] + cost[i - 1, j - 1]
            steps[i, j] = steps[prev] + 1
    return float(acc[n, m] / steps[n, m])
