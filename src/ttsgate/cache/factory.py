"""``create_cache``: the one place that turns settings into a cache backend."""

from __future__ import annotations

from ttsgate.cache.base import AudioCache, OffCache
from ttsgate.cache.disk import DiskCache
from ttsgate.cache.memory import MemoryCache
from ttsgate.config import Settings
from ttsgate.metrics import Metrics

_MB = 1024 * 1024
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def create_cache(settings: Settings, metrics: Metrics | None = None) -> AudioCache:
    """A new cache per call (no shared state): ``TTSGATE_CACHE`` picks the backend; a TTL of 0 is off.

    Nothing connects or touches the disk here; Redis connects on first use, the disk index is
    built on first use. Raises ``ValueError`` for an unknown ``TTSGATE_CACHE``.
    """
    kind = settings.cache.strip()
    ttl_s = settings.cache_ttl_s
    if kind.lower().startswith(_REDIS_SCHEMES):
        if ttl_s <= 0:
            return OffCache(metrics)
        from ttsgate.cache.redis_cache import RedisCache  # redis-py only when asked for

        return RedisCache(kind, ttl_s=ttl_s, metrics=metrics, memory_bytes=settings.cache_memory_mb * _MB)
    kind = kind.lower()
    if kind not in ("memory", "disk", "off"):
        raise ValueError(f"TTSGATE_CACHE={settings.cache!r}: expected memory, disk, off or a redis:// URL")
    if kind == "off" or ttl_s <= 0:
        return OffCache(metrics)
    if kind == "memory":
        return MemoryCache(max_bytes=settings.cache_memory_mb * _MB, ttl_s=ttl_s, metrics=metrics)
    return DiskCache(
        settings.cache_dir,
        max_bytes=settings.cache_max_mb * _MB,
        memory_bytes=settings.cache_memory_mb * _MB,
        ttl_s=ttl_s,
        metrics=metrics,
    )
