"""deploy/grafana/ttsgate-dashboard.json: valid, and every PromQL expression names only metrics a
running ttsgate exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "ttsgate-dashboard.json"

_SERIES_SUFFIXES = {"counter": ("",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
_KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
}


def exported_series(metrics_text: str) -> set[str]:
    """Series names from the ``# TYPE`` lines (families without samples yet count too)."""
    names: set[str] = set()
    for line in metrics_text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names.update(name + suffix for suffix in _SERIES_SUFFIXES.get(kind, ("",)))
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression (or ``label_values(metric, label)``) refers to."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    e = re.sub(r"\{[^}]*\}", "", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)  # range selectors
    e = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)  # label lists
    e = re.sub(r"\$\w+", "", e)  # dashboard variables
    e = re.sub(r"label_values\(\s*([A-Za-z_:][\w:]*)\s*,\s*\w+\s*\)", r"\1", e)
    names = set()
    for m in re.finditer(r"(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?", e):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in _KEYWORDS:
            continue
        names.add(word)
    return names


def expressions(dashboard: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            q = var["query"]
            exprs.append(q["query"] if isinstance(q, dict) else q)
    return exprs


def test_metric_name_parser() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, engine) (rate(ttsgate_x_bucket{route=~"$route", a="b(c)"}'
        "[5m]))) / on (engine) group_left sum(ttsgate_y) and tts_req_total offset 5m"
    )
    assert metric_names(expr) == {"ttsgate_x_bucket", "ttsgate_y", "tts_req_total"}
    assert metric_names("label_values(ttsgate_requests_total, route)") == {"ttsgate_requests_total"}


def test_dashboard_names_only_exported_metrics(sine_url: str) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exported = exported_series(httpx.get(f"{sine_url}/metrics").text)
    exprs = expressions(dashboard)
    assert len(exprs) >= 14
    used: set[str] = set()
    for expr in exprs:
        names = metric_names(expr)
        assert names, f"no metric in {expr!r}"
        unknown = names - exported
        assert not unknown, f"{expr!r} names metrics ttsgate does not export: {sorted(unknown)}"
        used |= names
    titles = " ".join(p["title"].lower() for p in dashboard["panels"])
    for topic in (
        "requests/s",
        "latency",
        "first audio",
        "real-time factor",
        "queue depth",
        "batch size",
        "cache hit ratio",
        "rss",
        "engine errors",
    ):
        assert topic in titles, topic
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(set(ids)) == len(ids)
    assert {"ttsgate_requests_total", "ttsgate_process_rss_bytes", "ttsgate_cache_requests_total"} <= used
