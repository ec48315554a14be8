"""The ChatTTS engine's memory guard: what the model and a batch need, and refusing a batch that would
not fit (``OverloadedError``, code ``memory``, so the client retries) instead of running out of memory.

Two limits, both optional: ``gpu_memory_fraction`` of the CUDA device (what is allocated now + what
batches in flight were estimated to need + this batch), and ``memory_limit_mb`` for the model's
weights + batches in flight + this batch, on any device. ``chat`` is a loaded ``ChatTTS.Chat`` or None.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from ttsgate.exceptions import OverloadedError


def gpu_memory_bytes(torch: Any, device: Any) -> int:
    """GPU memory allocated by this process on ``device`` (0 on CPU or not loaded)."""
    if torch is None or device is None or device.type != "cuda":
        return 0
    return int(torch.cuda.memory_allocated(device))


def model_bytes(chat: Any) -> int:
    """Bytes of the loaded weights and buffers (any device)."""
    if chat is None:
        return 0
    total = 0
    for mod in (chat.gpt, chat.embed, chat.decoder, chat.dvae, chat.vocos):
        for t in [*mod.parameters(), *mod.buffers()]:
            total += t.numel() * t.element_size()
    return total


def estimate_batch_bytes(chat: Any, *, half: bool, rows: int, new_tokens: int, prompt_tokens: int) -> int:
    """Rough working memory of one batch: KV cache (float16 when ``half``) + kept hiddens + decoder
    activations."""
    if chat is None:
        return 0
    g = chat.config.gpt
    kv_elem = 2 if half else 4
    kv = 2 * g.num_hidden_layers * rows * (prompt_tokens + new_tokens) * g.hidden_size * kv_elem
    hiddens = rows * new_tokens * g.hidden_size * 4
    dec = rows * 2 * new_tokens * chat.config.decoder.hidden * 4 * 8
    return int(kv + hiddens + dec)


class MemoryGuard:
    """Bytes reserved by batches in flight, checked against the limits before each new batch."""

    def __init__(self, engine_name: str, memory_limit: int, gpu_fraction: float) -> None:
        self._name = engine_name
        self._memory_limit = memory_limit  # bytes, 0 = off
        self._gpu_fraction = gpu_fraction
        self._lock = threading.Lock()
        self._reserved = 0  # bytes estimated for batches in flight

    @contextlib.contextmanager
    def reserve(self, need: int, torch: Any, device: Any, chat: Any) -> Iterator[None]:
        """Hold ``need`` bytes for the duration of the block, or raise ``OverloadedError`` at once."""
        with self._lock:
            self._check(need, torch, device, chat)
            self._reserved += need
        try:
            yield
        finally:
            with self._lock:
                self._reserved -= need

    def _check(self, need: int, torch: Any, device: Any, chat: Any) -> None:
        if device is not None and device.type == "cuda" and self._gpu_fraction < 1.0:
            free, total = torch.cuda.mem_get_info(device)
            if total - free + self._reserved + need > self._gpu_fraction * total:
                raise OverloadedError(
                    f"engine {self._name!r}: a batch needing ~{need / 2**20:.0f} MB would push GPU memory "
                    f"past {self._gpu_fraction:.0%}",
                    retry_after_s=2.0,
                    code="memory",
                )
        if self._memory_limit and model_bytes(chat) + self._reserved + need > self._memory_limit:
            raise OverloadedError(
                f"engine {self._name!r}: model {model_bytes(chat) / 2**20:.0f} MB + in flight "
                f"{self._reserved / 2**20:.0f} MB + this batch ~{need / 2**20:.0f} MB exceeds "
                f"memory_limit_mb={self._memory_limit / 2**20:.0f}",
                retry_after_s=2.0,
                code="memory",
            )
