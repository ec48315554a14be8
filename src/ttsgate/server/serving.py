"""How uvicorn serves the app: connection timeouts and size limits from ``Settings``.

``uvicorn_options(settings)`` is what ``ttsgate serve`` (and the tests' real servers) pass to
``uvicorn.Config``:

- ``timeout_keep_alive``: ``TTSGATE_KEEP_ALIVE_TIMEOUT_S``, an idle keep-alive connection is closed.
- ``ws_max_size``: the body limit also bounds one WebSocket message (the server closes with 1009).
- ``h11_max_incomplete_event_size``: ``TTSGATE_MAX_HEADER_BYTES`` when the h11 parser is used.
- ``http``: ``HeaderLimitedProtocol``. Uvicorn (0.54) has no header read timeout: a connection that
  opens and sends nothing, or half a request line, is held open for as long as the client likes, and
  its httptools parser caps neither the request line nor the headers. The protocol here closes a
  connection whose request line and headers are not complete ``TTSGATE_HEADER_TIMEOUT_S`` after it
  opened (or after its next request's first byte), and answers 431 and closes when they pass
  ``TTSGATE_MAX_HEADER_BYTES``. It builds on uvicorn's httptools protocol (its parser callbacks
  ``on_message_begin``/``on_url``/``on_header``/``on_headers_complete``); without httptools, uvicorn's
  default (h11, header size capped, no header timeout) is used.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ttsgate.config import Settings

log = logging.getLogger("ttsgate.server")

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is a pinned dependency
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

_431_BODY = b"request line and headers too long"
_431 = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    + f"content-length: {len(_431_BODY)}\r\nconnection: close\r\n\r\n".encode()
    + _431_BODY
)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config``/``uvicorn.run`` (besides the app, host and port)."""
    options: dict[str, Any] = {
        "timeout_keep_alive": settings.keep_alive_timeout_s,
        "ws_max_size": settings.body_limit(),
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }
    if HttpToolsProtocol is not None:
        options["http"] = header_limited_protocol(settings.header_timeout_s, settings.max_header_bytes)
    return options


class _HeadersTooLarge(Exception):
    pass


def header_limited_protocol(timeout_s: float, max_bytes: int) -> type[asyncio.Protocol]:
    """Uvicorn's httptools protocol with a header read timeout (s) and a header size cap (bytes)."""
    assert HttpToolsProtocol is not None

    class HeaderLimitedProtocol(HttpToolsProtocol):
        _header_timer: asyncio.TimerHandle | None = None
        _header_bytes = 0
        _refused = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if not self._refused:
                super().data_received(data)

        def send_400_response(self, msg: str) -> None:
            if not self._refused:  # our own 431 has been sent already
                super().send_400_response(msg)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._header_bytes = 0
            if self._header_timer is None:
                self._arm()

        def on_url(self, url: bytes) -> None:
            self._count(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value) + 4)
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def _count(self, n: int) -> None:
            self._header_bytes += n
            if self._header_bytes > max_bytes:
                self._refused = True
                self._disarm()
                self.transport.write(_431)
                self.transport.close()
                raise _HeadersTooLarge  # stops the parser (uvicorn's 400 is suppressed above)

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = asyncio.get_running_loop().call_later(timeout_s, self._expire)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _expire(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                log.debug("closing a connection whose headers did not arrive within %.1f s", timeout_s)
                self.transport.close()

    return HeaderLimitedProtocol
