"""Around the load: the server process (started here or given by pid) sampled for CPU, RSS and GPU
memory; host facts for the report (CPU model, cores, load average); a progress line."""

from __future__ import annotations

import contextlib
import importlib
import os
import platform
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil

from ttsgate.bench.stats import Sample


def _gpu_reader() -> Any:
    """A callable giving GPU memory in use (MB) of device 0, or None without pynvml or a GPU."""
    try:
        nvml: Any = importlib.import_module("pynvml")
        nvml.nvmlInit()
        handle = nvml.nvmlDeviceGetHandleByIndex(0)
    except Exception:
        return None
    return lambda: float(nvml.nvmlDeviceGetMemoryInfo(handle).used) / 2**20


class ResourceSampler:
    """Samples a process and its children every ``interval_s`` in a daemon thread."""

    def __init__(self, pid: int, *, t0: float, interval_s: float = 0.25) -> None:
        self.proc = psutil.Process(pid)
        self.t0 = t0
        self.interval_s = interval_s
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"bench-sampler-{pid}", daemon=True)
        self._gpu = _gpu_reader()

    def _procs(self) -> list[psutil.Process]:
        try:
            return [self.proc, *self.proc.children(recursive=True)]
        except psutil.Error:
            return []

    def _run(self) -> None:
        known: dict[int, psutil.Process] = {}
        while not self._stop.is_set():
            cpu = rss = 0.0
            for p in self._procs():
                p = known.setdefault(p.pid, p)  # keep the object: cpu_percent measures since last call
                with contextlib.suppress(psutil.Error):
                    cpu += p.cpu_percent(None)
                    rss += p.memory_info().rss / 2**20
            gpu = self._gpu() if self._gpu is not None else None
            self.samples.append(Sample(time.perf_counter() - self.t0, cpu, rss, gpu))
            self._stop.wait(self.interval_s)

    def __enter__(self) -> ResourceSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _answers(url: str) -> bool:
    """An HTTP URL answers 200; a ``tcp://HOST:PORT`` address accepts a connection."""
    if url.startswith("tcp://"):
        u = urlsplit(url)
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 0), timeout=2):
            return True
    return httpx.get(url, timeout=2).status_code == 200


def wait_ready(url: str, *, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until ``url`` answers (``_answers``); fail when ``proc`` exits or after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(httpx.HTTPError, OSError):
            if _answers(url):
                return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} not ready after {timeout_s:.0f} s")
        time.sleep(0.25)


@contextlib.contextmanager
def started_server(command: str, ready_url: str, *, timeout_s: float = 180.0) -> Iterator[int]:
    """Start ``command`` (shell-split), wait until ``ready_url`` answers (an HTTP 200, or a TCP
    connection for ``tcp://``), yield its pid, stop it."""
    proc = subprocess.Popen(shlex.split(command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(ready_url, timeout_s=timeout_s, proc=proc)
        yield proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def host_facts() -> dict[str, Any]:
    cpu = platform.processor()
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "time": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }


class Progress:
    """tqdm when installed, else one rewritten stderr line."""

    def __init__(self, desc: str, total: int | None, *, enabled: bool = True) -> None:
        self.desc, self.total, self.enabled, self.n, self.errors = desc, total, enabled, 0, 0
        self._bar: Any = None
        if enabled:
            try:
                tqdm: Any = importlib.import_module("tqdm")
                self._bar = tqdm.tqdm(total=total, desc=desc, unit="req", leave=False, file=sys.stderr)
            except ImportError:
                self._bar = None

    def update(self, error: bool) -> None:
        self.n += 1
        self.errors += int(error)
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix(errors=self.errors, refresh=False)
        elif self.n % 5 == 0 or self.n == self.total:
            of = f"/{self.total}" if self.total else ""
            print(f"\r{self.desc}: {self.n}{of} requests, {self.errors} errors", end="", file=sys.stderr)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.enabled:
            print(file=sys.stderr)
