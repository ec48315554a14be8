"""The pronunciation-lexicon file (``TTSGATE_LEXICON_FILE``), reloaded without a restart.

Every use ``stat``s the file (a few microseconds) and re-reads it when its modification time, size
or inode changed (an editor's save-by-rename included). The file is read at start-up, where an
error stops the server naming the file and line; a later broken edit, or a deleted file, keeps the
last good lexicon and logs the error once per version of the file: requests never fail for it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path

from ttsgate.text.lexicon import Entry, Lexicon, LexiconError, parse_lexicon, request_entries

log = logging.getLogger("ttsgate.lexicon")

_Stamp = tuple[int, int, int]  # (st_mtime_ns, st_size, st_ino)


class LexiconStore:
    """One per runtime. ``lexicon(request)`` is the file's current entries with a request's on top."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self._version = ""
        self._stamp: _Stamp | None = None
        self._failed: _Stamp | None = None  # the file version whose error was logged
        if path is not None:
            try:
                stamp = self._stat()
                self._load(stamp)
            except (OSError, UnicodeDecodeError, LexiconError) as exc:
                raise LexiconError(f"TTSGATE_LEXICON_FILE: {exc}") from exc
            log.info("lexicon %s: %d entries", path, len(self._entries))

    @property
    def version(self) -> str:
        """A digest of the file's entries in use ("" without a file)."""
        self._refresh()
        return self._version

    @property
    def entries(self) -> Mapping[str, Entry]:
        self._refresh()
        return self._entries

    def lexicon(self, request: Mapping[str, str] | None = None, param: str = "lexicon") -> Lexicon:
        """The file's entries (re-read if it changed) with ``request``'s on top (validated: a bad
        request entry is an InvalidRequestError naming ``param``)."""
        extra = request_entries(request, param)
        self._refresh()
        return Lexicon(self._entries, extra, file_version=self._version)

    def _stat(self) -> _Stamp:
        assert self.path is not None
        st = os.stat(self.path)
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _load(self, stamp: _Stamp) -> None:
        assert self.path is not None
        data = self.path.read_bytes()
        entries = parse_lexicon(data.decode("utf-8"), str(self.path))
        self._entries = entries
        self._version = hashlib.sha256(data).hexdigest()[:16]
        self._stamp = stamp

    def _refresh(self) -> None:
        if self.path is None:
            return
        try:
            stamp = self._stat()
        except OSError as exc:
            self._report(None, f"cannot read it ({exc}); keeping the last good lexicon")
            return
        if stamp == self._stamp or stamp == self._failed:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            try:
                before = len(self._entries)
                self._load(stamp)
            except (OSError, UnicodeDecodeError, LexiconError) as exc:
                self._report(stamp, f"{exc}; keeping the last good lexicon ({len(self._entries)} entries)")
                return
            self._failed = None
            log.info("lexicon %s reloaded: %d entries (was %d)", self.path, len(self._entries), before)

    def _report(self, stamp: _Stamp | None, message: str) -> None:
        key = stamp or (-1, -1, -1)
        if self._failed != key:
            self._failed = key
            log.error("lexicon %s: %s", self.path, message)
