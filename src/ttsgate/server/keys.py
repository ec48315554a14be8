"""API keys: who may use the server, under which name and limits (``TTSGATE_API_KEYS[_FILE]``).

Off when neither setting is given. Keys are kept only as SHA-256 digests and a presented key is
compared with every stored digest by ``hmac.compare_digest`` (no early exit), so neither the stored
keys nor their count leak through timing.

``TTSGATE_API_KEYS``: comma-separated keys, each under the default limits. ``TTSGATE_API_KEYS_FILE``:
one key per line, optionally followed by ``name=NAME``, ``rpm=N`` (requests per minute) and ``cpm=N``
(input characters per minute; 0 = unlimited); ``#`` starts a comment::

    sk-team-alpha-7f3c9e1d  name=alpha  rpm=120  cpm=60000
    sk-homeassistant-22b1   name=home-assistant   # a comment: '#' after a space (a key may hold '#')
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path

MIN_KEY_CHARS = 16
_COMMENT = re.compile(r"(?:^|\s)#")


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """One key's name (metrics label, logs) and its limits per minute (0: none)."""

    name: str
    rpm: int
    cpm: int


class KeyFileError(ValueError):
    """A malformed keys file or setting; the message names the file and line."""


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class KeyStore:
    """The accepted keys, by digest. ``enabled`` is False when no key is configured."""

    def __init__(self, entries: list[tuple[str, KeyInfo]]) -> None:
        self._entries = [(digest(key), info) for key, info in entries]
        names = [info.name for _, info in entries]
        if len(set(names)) != len(names):
            raise KeyFileError("API key names must be unique")

    @property
    def enabled(self) -> bool:
        return bool(self._entries)

    def names(self) -> list[str]:
        return [info.name for _, info in self._entries]

    def lookup(self, presented: str) -> KeyInfo | None:
        """The key's info, or None; constant time in the presented key."""
        d = digest(presented)
        found: KeyInfo | None = None
        for stored, info in self._entries:
            if hmac.compare_digest(d, stored):
                found = info
        return found

    @classmethod
    def from_settings(cls, keys: str, keys_file: Path | None, rpm: int, cpm: int) -> KeyStore:
        """Keys from the comma-separated setting and the file; ``KeyFileError`` when malformed."""
        entries = [
            (key, KeyInfo(_default_name(key), rpm, cpm))
            for key in (k.strip() for k in keys.split(","))
            if key
        ]
        for key, _ in entries:
            _check_key(key, "TTSGATE_API_KEYS")
        if keys_file is not None:
            try:
                text = keys_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise KeyFileError(f"TTSGATE_API_KEYS_FILE {keys_file}: {exc.strerror}") from exc
            entries += parse_keys_file(text, rpm, cpm, source=str(keys_file))
        return cls(entries)


def parse_keys_file(text: str, rpm: int, cpm: int, *, source: str = "<keys>") -> list[tuple[str, KeyInfo]]:
    """Lines ``KEY [name=NAME] [rpm=N] [cpm=N]``; ``rpm``/``cpm`` default to the given limits."""
    out: list[tuple[str, KeyInfo]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = _COMMENT.split(raw, maxsplit=1)[0].strip()  # "#" at the start or after a space
        if not line:
            continue
        key, *fields = line.split()
        where = f"{source}:{number}"
        _check_key(key, where)
        opts = {"name": _default_name(key), "rpm": str(rpm), "cpm": str(cpm)}
        for field in fields:
            name, sep, value = field.partition("=")
            if not sep or name not in opts or not value:
                raise KeyFileError(f"{where}: expected name=…, rpm=N or cpm=N, got {field!r}")
            opts[name] = value
        try:
            limits = int(opts["rpm"]), int(opts["cpm"])
        except ValueError:
            raise KeyFileError(f"{where}: rpm and cpm must be whole numbers") from None
        if min(limits) < 0:
            raise KeyFileError(f"{where}: rpm and cpm must be >= 0")
        out.append((key, KeyInfo(opts["name"], *limits)))
    return out


def _check_key(key: str, where: str) -> None:
    if len(key) < MIN_KEY_CHARS or not key.isprintable() or " " in key:
        raise KeyFileError(f"{where}: a key needs at least {MIN_KEY_CHARS} printable characters, no spaces")


def _default_name(key: str) -> str:
    return "key-" + digest(key).hex()[:8]
