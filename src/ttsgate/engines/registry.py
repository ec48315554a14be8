"""Engine kind name -> "module:Class", imported lazily so heavy optional engines stay optional."""

from __future__ import annotations

import importlib
from typing import cast

from ttsgate.engines.base import Engine, EngineSpec
from ttsgate.exceptions import InvalidRequestError

ENGINE_KINDS: dict[str, str] = {
    "zh-baker": "ttsgate.engines.zh_baker:ZhBakerEngine",
    "piper": "ttsgate.engines.piper:PiperEngine",
    "espeak": "ttsgate.engines.espeak:EspeakEngine",
    "sine": "ttsgate.engines.sine:SineEngine",
    "chattts": "ttsgate.engines.chattts:ChatTTSEngine",
}


def create_engine(spec: EngineSpec) -> Engine:
    """Build (not load) the engine a spec names."""
    target = ENGINE_KINDS.get(spec.kind)
    if target is None:
        known = ", ".join(sorted(ENGINE_KINDS))
        raise InvalidRequestError(
            f"engine {spec.name!r}: unknown kind {spec.kind!r}; known kinds: {known}", param="engines"
        )
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cast(Engine, cls(spec))
