"""Shared by the benchmark scripts: a ttsgate server in a subprocess, host facts, markdown helpers."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from ttsgate.bench.probe import host_facts, wait_ready

ROOT = Path(__file__).resolve().parent.parent
TTSGATE = str(Path(sys.executable).parent / "ttsgate")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def ttsgate_server(**env: str) -> Iterator[tuple[str, int]]:
    """``ttsgate serve`` with ``TTSGATE_<KEY>=value`` settings; yields (url, pid) once /ready."""
    port = free_port()
    full = {**os.environ, **{f"TTSGATE_{k.upper()}": v for k, v in env.items()}}
    proc = subprocess.Popen(
        [TTSGATE, "serve", "--port", str(port)],
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{url}/ready", timeout_s=240, proc=proc)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def environment(load_before: list[float]) -> str:
    h = host_facts()
    return (
        f"Host: {h['cpu']}, {h['cores']} cores, shared with other engineers' jobs; load average "
        f"{load_before} before, {h['loadavg']} after; {h['time']}; Python {h['python']}."
    )


def table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"
