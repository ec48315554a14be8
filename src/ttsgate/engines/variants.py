"""Model variants of the neural voices (fp32, int8) and the quality gate that decides which are offered.

An engine of a kind in :data:`VARIANT_KINDS` takes the option ``variant``: ``fp32`` (the full model),
``int8`` (weights quantized by ``scripts/quantize_voices.sh``) or ``auto`` (int8 where the recorded
gate passed and the int8 files exist and are measured smaller in memory, else fp32). ``TTSGATE_VARIANT``
(set to ``auto`` by ``TTSGATE_PROFILE=edge``) is the default for table entries that name none.

The gate (issue #15): a variant is offered only when its speech-recognition error rate (Whisper base
round trip: CER for Mandarin, WER for English, in percent) is at most 1 point above the full model's
and its DNSMOS overall score at most 0.1 below. The figures are measured by
``benchmarks/voice_quality.py``, which writes ``data/variant_gate.json``; this module only reads them.
An explicit ``variant = "int8"`` whose recorded gate failed is refused at engine construction
(:class:`~ttsgate.exceptions.EngineError`, naming the figures); a model with no record (your own
piper voice) may be asked for int8 explicitly but is never picked by ``auto``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ttsgate.exceptions import EngineError

VARIANTS = ("fp32", "int8", "auto")
VARIANT_KINDS = frozenset({"zh-baker", "piper"})
MAX_ERROR_POINTS = 1.0  # recognition error rate, percentage points above the full model's
MAX_DNSMOS_DROP = 0.1  # DNSMOS overall (1-5) below the full model's
GATE_FILE = "variant_gate.json"


@dataclass(frozen=True, slots=True)
class Score:
    """One variant's measured figures: ``error_pct`` (CER or WER, %), ``dnsmos`` (OVRL, 1–5),
    ``rss_mb`` (RSS added by loading + warming one worker, MiB) and ``rtf`` (synthesis s / audio s)."""

    error_pct: float
    dnsmos: float
    rss_mb: float | None = None
    rtf: float | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """``passed``: the quality gate; ``smaller``: measured RSS below the full model's; ``reason``: why."""

    passed: bool
    smaller: bool
    reason: str


def gate(full: Score, variant: Score) -> Verdict:
    """The rule: error within ``MAX_ERROR_POINTS`` and DNSMOS within ``MAX_DNSMOS_DROP`` of ``full``."""
    d_err = variant.error_pct - full.error_pct
    d_mos = full.dnsmos - variant.dnsmos
    passed = d_err <= MAX_ERROR_POINTS + 1e-9 and d_mos <= MAX_DNSMOS_DROP + 1e-9
    smaller = variant.rss_mb is not None and full.rss_mb is not None and variant.rss_mb < full.rss_mb
    reason = (
        f"error {d_err:+.2f} points (max +{MAX_ERROR_POINTS:g}), "
        f"DNSMOS {-d_mos:+.3f} (max -{MAX_DNSMOS_DROP:g})"
    )
    return Verdict(passed, smaller, reason)


def load_recorded(path: Path | None = None) -> dict[str, dict[str, Score]]:
    """``model key → variant → Score`` from ``data/variant_gate.json`` (or ``path``); {} if absent.

    Model keys: ``zh-baker`` and ``piper:<builtin voice name>``."""
    try:
        if path is None:
            text = resources.files("ttsgate").joinpath(f"data/{GATE_FILE}").read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        raw: Mapping[str, Any] = json.loads(text)["models"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    out: dict[str, dict[str, Score]] = {}
    for key, variants in raw.items():
        out[key] = {
            name: Score(float(s["error_pct"]), float(s["dnsmos"]), s.get("rss_mb"), s.get("rtf"))
            for name, s in variants.items()
        }
    return out


def verdict_for(model_key: str, recorded: Mapping[str, Mapping[str, Score]]) -> Verdict | None:
    """The int8 variant's verdict for ``model_key``, or None when it was not measured."""
    scores = recorded.get(model_key, {})
    if "fp32" not in scores or "int8" not in scores:
        return None
    return gate(scores["fp32"], scores["int8"])


def resolve_variant(
    engine: str,
    requested: object,
    model_key: str,
    int8_present: Callable[[], bool],
    recorded: Mapping[str, Mapping[str, Score]] | None = None,
) -> str:
    """``fp32`` or ``int8`` for an engine's ``variant`` option (``auto``: the gate and the files decide).

    Raises EngineError for an unknown value, or an explicit ``int8`` whose recorded gate failed."""
    value = str(requested or "fp32")
    if value not in VARIANTS:
        raise EngineError(f"engine {engine!r}: variant must be one of {', '.join(VARIANTS)}: {value!r}")
    if value == "fp32":
        return value
    verdict = verdict_for(model_key, load_recorded() if recorded is None else recorded)
    if value == "auto":
        ok = verdict is not None and verdict.passed and verdict.smaller and int8_present()
        return "int8" if ok else "fp32"
    if verdict is not None and not verdict.passed:
        raise EngineError(
            f"engine {engine!r}: the int8 variant of {model_key} is not offered: it failed the quality "
            f"gate ({verdict.reason}; benchmarks/voice_quality.md)"
        )
    return "int8"


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/ttsgate`` (default ``~/.cache/ttsgate``): converted and quantized models."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "ttsgate"


def zh_variant_dir(onnx_dir: Path, variant: str) -> Path:
    """The folder holding zh-baker's ``variant`` pair: ``onnx_dir`` itself for fp32, ``onnx_dir/int8``."""
    return onnx_dir / "int8" if variant == "int8" else onnx_dir


def piper_variant_model(model: Path, variant: str, int8_dir: Path | None = None) -> Path:
    """A piper voice's ``variant`` file: ``model`` for fp32, ``<cache>/piper-int8/<name>`` for int8."""
    if variant != "int8":
        return model
    return (int8_dir or cache_root() / "piper-int8") / model.name
