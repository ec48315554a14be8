"""ttsgate: a self-hosted speech gateway (OpenAI-compatible TTS, batching, streaming)."""

__version__ = "0.1.0"

from ttsgate.client import AsyncClient, Client

__all__ = ["AsyncClient", "Client", "__version__"]
