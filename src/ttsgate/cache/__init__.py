"""Segment audio cache with single-flight: memory, disk (default, with a memory hot tier), Redis, off.

    cache = create_cache(settings, metrics)
    pcm, was_hit = await cache.get_or_compute(cache_key(engine.name, engine.version, text, ...), synth)

Caches are made by ``create_cache`` and injected; there is no module-level instance.
"""

from ttsgate.cache.base import AudioCache, BaseCache, OffCache, cache_key, valid_key
from ttsgate.cache.disk import DiskCache
from ttsgate.cache.factory import create_cache
from ttsgate.cache.memory import MemoryCache
from ttsgate.cache.singleflight import SingleFlight

__all__ = [
    "AudioCache",
    "BaseCache",
    "DiskCache",
    "MemoryCache",
    "OffCache",
    "SingleFlight",
    "cache_key",
    "create_cache",
    "valid_key",
]
