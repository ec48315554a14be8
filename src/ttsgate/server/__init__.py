"""The HTTP/WebSocket layer: an app factory, thin routes, one exception → status table."""

from ttsgate.server.app import create_app

__all__ = ["create_app"]
