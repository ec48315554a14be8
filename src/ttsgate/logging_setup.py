"""Log configuration: plain or JSON lines, each with the request id of the request it belongs to.

Whatever a client sent can reach a log line (a path with ``%0A`` in it, a header, a voice name in an
error message, uvicorn's own warnings). Both formats therefore escape it where the line is made, for
every logger: a plain line is one line (control characters, line and paragraph separators and lone
surrogates become ``\\n``, ``\\x1b``, ``\\ud800`` …; a traceback's lines are indented with ``  | ``
so none of them can pass for a record); a JSON line is one JSON object, with NEL, U+2028/U+2029
and lone surrogates written as ``\\u`` escapes too (the values decode unchanged).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import TextIO

from ttsgate.server.middleware import RequestIdFilter

# C0 controls, DEL, C1 controls (NEL among them), Unicode line/paragraph separators, lone surrogates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_log_text(text: str) -> str:
    """``text`` on one line: control characters, U+2028/U+2029 and lone surrogates escaped."""
    return _UNSAFE.sub(_escape_char, text)


_JSON_UNSAFE = re.compile("[\x85\u2028\u2029\ud800-\udfff]")


def _json_escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


class PlainFormatter(logging.Formatter):
    """``%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s``, always one line per
    record plus its indented traceback."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_log_text(record.message)
        record.request_id = escape_log_text(str(getattr(record, "request_id", "-")))
        return super().formatMessage(record)

    def formatException(self, ei: logging._SysExcInfoType) -> str:
        return _indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _indented(super().formatStack(stack_info))


def _indented(text: str) -> str:
    return "\n".join("  | " + escape_log_text(line) for line in text.splitlines())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)  # structured extras (the access log's)
        if isinstance(fields, dict):
            payload.update(fields)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        # json.dumps leaves these raw with ensure_ascii=False: NEL and U+2028/2029 end a line for
        # Unicode-aware readers, a lone surrogate cannot be written as UTF-8. Escaped, the line
        # decodes to the same values.
        return _JSON_UNSAFE.sub(_json_escape, json.dumps(payload, ensure_ascii=False))


_SECRET = re.compile(r"(api_key=|[Bb]earer\s+)[^&\s\"']+")


class SecretFilter(logging.Filter):
    """API keys never reach a log: ``api_key=…`` in a URL (a WebSocket may carry its key there, and
    uvicorn logs the handshake's path) and ``Bearer …`` become ``api_key=***`` / ``Bearer ***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _SECRET.search(message):
            record.msg, record.args = _SECRET.sub(r"\1***", message), None
        return True


def configure_logging(fmt: str = "plain", level: str = "INFO", stream: TextIO | None = None) -> None:
    """One root handler writing to ``stream`` (standard error by default)."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(SecretFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else PlainFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
