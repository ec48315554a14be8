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
  ``TTSGATE_MAX_HEADER_BYTES``: every byte received before the headers are complete counts (httptools
  joins a header's fragments and reports it only when complete, so one endless header line is cut
  at the cap too, not buffered until the timeout). A response sent while the request's body is
  still arriving (a 413, or any route that does not read its body) closes the connection after it:
  the rest of the body is never read. It builds on uvicorn's httptools protocol (its parser callbacks
  ``on_message_begin``/``on_url``/``on_header``/``on_headers_complete``); without httptools, uvicorn's
  default (h11, header size capped, no header timeout) is used.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httptools

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
        _raw_header_bytes = 0
        _awaiting_headers = True
        _message_ended = False
        _refused = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            self._message_ended = False
            self._unset_keepalive_if_required()
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                else:
                    self._unsupported_upgrade_warning()
            except httptools.HttpParserError:
                if self._refused:  # our 431 stopped the parser: answered and logged once already
                    return
                msg = "Invalid HTTP request received."
                self.logger.warning(msg)
                self.send_400_response(msg)
                return
            if self._awaiting_headers and not self._refused:
                # Bytes of a request whose headers are not complete: httptools holds them until a
                # header ends, so one endless header would never reach ``on_header``. A chunk that
                # also ended a message counts from the next one (at most one chunk is not counted).
                self._raw_header_bytes = 0 if self._message_ended else self._raw_header_bytes + len(data)
                if self._raw_header_bytes > max_bytes:
                    self._refuse()

        def send_400_response(self, msg: str) -> None:
            if not self._refused:  # our own 431 has been sent already
                super().send_400_response(msg)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._header_bytes = 0
            self._raw_header_bytes = 0
            self._awaiting_headers = True
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
            self._awaiting_headers = False
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._message_ended = True
            super().on_message_complete()

        def on_response_complete(self) -> None:
            cycle = self.cycle
            unread = cycle is not None and cycle.response_complete and cycle.more_body
            if unread and not self.transport.is_closing():
                # Answered before its body was read (a 413, or a route that reads no body): the
                # rest is never read, the connection closes after the response.
                self.transport.close()
            super().on_response_complete()

        def _count(self, n: int) -> None:
            self._header_bytes += n
            if self._header_bytes > max_bytes:
                self._refuse()
                raise _HeadersTooLarge  # stops the parser (uvicorn's 400 is suppressed above)

        def _refuse(self) -> None:
            self._refused = True
            self._disarm()
            log.info("refused a request whose line and headers passed %d bytes (431)", max_bytes)
            self.transport.write(_431)
            self.transport.close()

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
