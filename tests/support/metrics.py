"""Read a running server's /metrics (the Prometheus text format) in tests and benchmarks."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families


def scrape(url: str) -> list[tuple[str, dict[str, str], float]]:
    """Every sample of ``{url}/metrics`` as (name, labels, value)."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return [
        (s.name, dict(s.labels), s.value) for fam in text_string_to_metric_families(text) for s in fam.samples
    ]


def total(url: str, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(v for n, lab, v in scrape(url) if n == name and labels.items() <= lab.items())


def metric_names(url: str) -> set[str]:
    return {n for n, _, _ in scrape(url)}
