"""What a web browser may make the server do: the Host it was reached by, and cross-site requests.

A server on ``127.0.0.1`` (the default) is reachable by every web page the user opens. Two ways in:

- **DNS rebinding**: a page on ``attacker.example`` re-points its name at 127.0.0.1 and talks to the
  server as "same origin". Defence: the ``Host`` header must name this server
  (``TTSGATE_ALLOWED_HOSTS``; by default the loopback names when listening on loopback, any name
  otherwise), as Starlette's ``TrustedHostMiddleware`` and Django's ``ALLOWED_HOSTS`` do.
- **Cross-site requests**: ``<audio src="http://127.0.0.1:8000/tts?text=…">`` or a WebSocket from
  another site. Defence: a request whose ``Sec-Fetch-Site`` is ``cross-site`` (Fetch Metadata,
  https://web.dev/articles/fetch-metadata), or a WebSocket whose ``Origin`` is another site's, is
  refused unless that origin is in ``TTSGATE_ALLOWED_ORIGINS``. Clients that are not browsers send
  neither header and are not affected.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from ttsgate.config import Settings

LOOPBACK_BINDS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def _names(value: str) -> frozenset[str]:
    return frozenset(v.strip().lower().rstrip("/") for v in value.split(",") if v.strip())


class BrowserPolicy:
    """``host_allowed`` and ``origin_allowed`` for one server's settings."""

    def __init__(self, settings: Settings) -> None:
        hosts = _names(settings.allowed_hosts)
        if not hosts:
            hosts = LOOPBACK_NAMES if settings.host.lower() in LOOPBACK_BINDS else frozenset({"*"})
        self.hosts = hosts
        self.origins = _names(settings.allowed_origins)

    def host_allowed(self, conn: HTTPConnection) -> bool:
        """The ``Host`` header (port ignored) names this server, or any host is allowed."""
        if "*" in self.hosts:
            return True
        host = conn.headers.get("host", "").lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in self.hosts or host in self.hosts

    def origin_allowed(self, conn: HTTPConnection) -> bool:
        """No ``Origin`` (not a browser), the server's own origin, or one the setting allows."""
        origin = conn.headers.get("origin")
        if origin is None or "*" in self.origins or origin.rstrip("/").lower() in self.origins:
            return True
        host = conn.headers.get("host", "")
        return bool(host) and urlsplit(origin).netloc.lower() == host.lower()

    def cross_site_refused(self, conn: HTTPConnection) -> bool:
        """A browser's cross-site request (Fetch Metadata) from an origin not allowed."""
        if conn.headers.get("sec-fetch-site", "").lower() != "cross-site":
            return False
        origin = conn.headers.get("origin")
        return not (
            origin is not None and ("*" in self.origins or origin.rstrip("/").lower() in self.origins)
        )
