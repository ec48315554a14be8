"""On-disk, size-capped store under ``cache_dir``, behind an in-memory hot tier (``TTSGATE_CACHE=disk``).

Layout: ``<cache_dir>/<key[:2]>/<key>``; each file is a 24-byte header (magic ``TGA1``, expiry
time as wall-clock seconds, payload length, crc32 of the payload) followed by the payload. Files
are written to a temporary name in the same directory and renamed into place (atomic), so a
reader sees either the old entry or the new one; a file that does not check out (bad magic, short,
wrong crc) is a miss and is deleted; so is an expired one. No fsync: a file torn by a power loss
fails its check and is a miss.

All file I/O runs in ``asyncio.to_thread``; the size index (key → bytes, oldest access first) is
only touched on the event loop. It is built by one scan of the directory on first use (ordered by
mtime; a disk hit refreshes its file's mtime so the order survives restarts). When the total goes
over ``max_bytes`` the least recently used files are deleted. Several processes may share one
directory: each one's index is then approximate, never wrong about what a read returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
import time
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Literal

from ttsgate.cache.base import BaseCache, Clock, valid_key
from ttsgate.cache.memory import MemoryTier
from ttsgate.metrics import Metrics

_MAGIC = b"TGA1"
_HEADER = struct.Struct("<4sdQI")  # magic, expires_at, payload length, crc32
_TMP_SUFFIX = ".tmp"
_STALE_TMP_S = 300.0  # a temporary file this old belongs to a writer that died

ReadStatus = Literal["ok", "missing", "corrupt", "expired"]


def _encode_header(value: bytes, expires_at: float) -> bytes:
    return _HEADER.pack(_MAGIC, expires_at, len(value), zlib.crc32(value))


def read_entry(path: Path, now: float) -> tuple[ReadStatus, bytes, float]:
    """Blocking. Returns the status, the payload (empty unless ok) and the expiry time."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return "missing", b"", 0.0
    status: ReadStatus = "ok"
    expires_at = 0.0
    payload = b""
    if len(data) < _HEADER.size:
        status = "corrupt"
    else:
        magic, expires_at, length, crc = _HEADER.unpack_from(data)
        payload = data[_HEADER.size :]
        if magic != _MAGIC or length != len(payload) or zlib.crc32(payload) != crc:
            status = "corrupt"
        elif expires_at <= now:
            status = "expired"
    if status != "ok":
        _unlink(path)
        return status, b"", expires_at
    with contextlib.suppress(OSError):
        os.utime(path)  # recency for the eviction order after a restart
    return "ok", payload, expires_at


def write_entry(path: Path, value: bytes, expires_at: float) -> int:
    """Blocking, atomic (temp file + rename). Returns the file's size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}{_TMP_SUFFIX}")
    try:
        with open(tmp, "wb") as f:
            f.write(_encode_header(value, expires_at))
            f.write(value)
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    return _HEADER.size + len(value)


def scan(root: Path) -> list[tuple[str, int]]:
    """Blocking. ``(key, size)`` of every entry, oldest mtime first; stale temp files removed."""
    found: list[tuple[float, str, int]] = []
    now = time.time()
    try:
        shards = [e for e in os.scandir(root) if e.is_dir(follow_symlinks=False) and len(e.name) == 2]
    except FileNotFoundError:
        return []
    for shard in shards:
        try:
            entries = list(os.scandir(shard.path))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if entry.name.endswith(_TMP_SUFFIX):
                if now - st.st_mtime > _STALE_TMP_S:
                    _unlink(Path(entry.path))
            elif valid_key(entry.name) and entry.is_file(follow_symlinks=False):
                found.append((st.st_mtime, entry.name, st.st_size))
    found.sort()
    return [(key, size) for _, key, size in found]


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        _unlink(path)


class DiskCache(BaseCache):
    backend: str = "disk"

    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int,
        memory_bytes: int,
        ttl_s: float,
        metrics: Metrics | None = None,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(ttl_s=ttl_s, metrics=metrics, clock=clock)
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.hot = MemoryTier(memory_bytes, clock)
        self._index: OrderedDict[str, int] = OrderedDict()
        self._nbytes = 0
        self._loaded = False
        self._load_lock = asyncio.Lock()
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def disk_bytes(self) -> int:
        """Bytes this process believes are on disk (after the first operation)."""
        return self._nbytes

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key

    # -- hooks --------------------------------------------------------------------------------

    def _peek(self, key: str) -> bytes | None:
        return self.hot.get(key)

    async def _lookup(self, key: str) -> bytes | None:
        value = self.hot.get(key)
        if value is not None:
            return value
        await self._ensure_loaded()
        try:
            status, payload, expires_at = await asyncio.to_thread(read_entry, self.path(key), self._clock())
        except OSError as exc:
            self._error("read", exc)
            return None
        if status != "ok":
            self._forget(key)
            return None
        self._account(key, _HEADER.size + len(payload))
        self.hot.put(key, payload, expires_at)
        return payload

    async def _store(self, key: str, value: bytes) -> None:
        expires_at = self._expires_at()
        self.hot.put(key, value, expires_at)
        if _HEADER.size + len(value) > self.max_bytes:
            return
        # Shielded: a cancelled caller must not leave a written file out of the index.
        task = asyncio.get_running_loop().create_task(self._write(key, value, expires_at))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        await asyncio.shield(task)

    async def close(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        self.hot.clear()

    # -- internals ----------------------------------------------------------------------------

    async def _write(self, key: str, value: bytes, expires_at: float) -> None:
        await self._ensure_loaded()
        try:
            size = await asyncio.to_thread(write_entry, self.path(key), value, expires_at)
        except OSError as exc:
            self._error("write", exc)
            return
        self._account(key, size)
        victims: list[Path] = []
        while self._nbytes > self.max_bytes and len(self._index) > 1:
            old, old_size = self._index.popitem(last=False)
            if old == key:  # never evict what was just written
                self._index[old] = old_size
                continue
            self._nbytes -= old_size
            self.hot.pop(old)
            victims.append(self.path(old))
        if victims:
            await asyncio.to_thread(_unlink_all, victims)

    async def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        async with self._load_lock:
            if self._loaded:
                return
            try:
                entries = await asyncio.to_thread(scan, self.root)
            except OSError as exc:
                self._error("scan", exc)
                entries = []
            for key, size in reversed(entries):  # newest first, each pushed to the front
                if key not in self._index:  # an entry written meanwhile is newer
                    self._index[key] = size
                    self._index.move_to_end(key, last=False)
                    self._nbytes += size
            self._loaded = True

    def _account(self, key: str, size: int) -> None:
        self._nbytes += size - self._index.pop(key, 0)
        self._index[key] = size

    def _forget(self, key: str) -> None:
        self._nbytes -= self._index.pop(key, 0)
        self.hot.pop(key)
