"""Speech engines behind one small protocol (see ``base``), created by name from ``registry``."""

from ttsgate.engines.base import Engine, EngineSpec, SynthesisInput
from ttsgate.engines.registry import ENGINE_KINDS, create_engine

__all__ = ["ENGINE_KINDS", "Engine", "EngineSpec", "SynthesisInput", "create_engine"]
