"""Request-validation errors → one ``InvalidRequestError`` that names the field as the client wrote it.

Pydantic locates an error by its own path: ``("body", "voice", "str")`` for a union member,
``("body", "messages", 0, "content")`` for a list item, ``("query", "speed")`` for a query parameter.
The client wrote none of ``body``, ``str`` or ``VoiceRef``. ``client_error`` walks each location
through the request's own data: a key the client sent (or a required one it left out) and a list
index are the client's path; anything else is a union member's or a wrapper's tag, and the error
belongs to the field at which the tags start (``voice`` for ``voice: 123``, ``{"id": ""}`` or
``null``). The param is that path written as a client writes it (``messages[0].content``,
``voice_settings.speed``); the message says what was expected, with the limit, and what was got
(its JSON type, never the value).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from ttsgate.exceptions import InvalidRequestError

SOURCES = frozenset({"body", "query", "path", "header", "cookie"})
# Fields whose keys are the client's data, not field names (``{"lexicon": {"乐清": "yue4 qing1"}}``):
# an error inside one names the field, and its message the key, as the lexicon's own checks do
# (``lexicon: '乐清': …``, text/lexicon.py), so every lexicon error has ``param: lexicon``.
MAP_FIELDS = frozenset({"lexicon"})

EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean (true or false)",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "literal_error": "one of the listed values",
}


def json_kind(value: object) -> str:
    """The JSON type of a parsed value, as a message says it (``an integer``, ``null`` …)."""
    if value is None:
        return "null"
    kinds: tuple[tuple[type, str], ...] = (
        (bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
        (list, "an array"), (dict, "an object"), (bytes, "bytes"),
    )  # fmt: skip
    return next((name for cls, name in kinds if isinstance(value, cls)), type(value).__name__)


def format_path(path: Sequence[str | int]) -> str:
    """``["messages", 0, "content"]`` → ``messages[0].content``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _walk(loc: Sequence[Any], data: Any, missing: bool) -> tuple[list[str | int], int, bool, Any]:
    """(the client's path, how many loc parts it used, whether a tag follows it, the value there;
    None for a missing field)."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(part, int) and not isinstance(part, bool) and isinstance(node, list):
            if 0 <= part < len(node):
                path.append(part)
                node = node[part]
                continue
        elif isinstance(part, str) and isinstance(node, Mapping):
            if part in node:
                path.append(part)
                node = node[part]
                continue
            if missing and i == len(loc) - 1:
                path.append(part)
                return path, len(loc), False, None
        return path, i, True, node
    return path, len(loc), False, node


class _Located:
    def __init__(self, err: Mapping[str, Any], body: Any) -> None:
        loc = tuple(err.get("loc", ()))
        self.err = err
        self.type = str(err.get("type", ""))
        self.source = loc[0] if loc and loc[0] in SOURCES else "body"
        self.loc = loc[1:] if loc and loc[0] in SOURCES else loc
        if self.source == "body":
            self.path, self.used, self.tagged, self.value = _walk(self.loc, body, self.type == "missing")
        else:  # a query/path/header parameter: its name, then at most tags
            self.path, self.used, self.tagged = list(self.loc[:1]), min(1, len(self.loc)), len(self.loc) > 1
            self.value = err.get("input")


def _phrase(err: Mapping[str, Any]) -> str:
    """Pydantic's message as the end of ``<field>: …`` (``must be less than or equal to 4``)."""
    msg = str(err.get("msg", "is not valid"))
    if err.get("type") == "missing":
        return "required field is missing"
    for lead, repl in (("Input should be", "must be"), ("String should", "must"), ("List should", "must"),
                       ("Value error, ", ""), ("Assertion failed, ", "")):  # fmt: skip
        if msg.startswith(lead):
            return repl + msg[len(lead) :] if repl else msg[len(lead) :]
    return msg[:1].lower() + msg[1:]


def lone_surrogate_at(text: str) -> int | None:
    """Index of the first lone surrogate in ``text`` (JSON may carry one as ``\\ud800``; it is not
    Unicode text and cannot be encoded), or None."""
    m = _SURROGATE.search(text)
    return m.start() if m else None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _message(param: str, err: Mapping[str, Any], value: object) -> str:
    kind = str(err.get("type", ""))
    if kind == "string_unicode" and isinstance(value, str) and (at := lone_surrogate_at(value)) is not None:
        return f"{param}: must be valid Unicode (a lone surrogate at character {at})"  # as the WebSocket says
    if kind in EXPECTED and kind != "literal_error":
        return f"{param}: expected {EXPECTED[kind]}, got {json_kind(value)}"
    return f"{param}: {_phrase(err)}"


def _union_message(param: str, members: Sequence[_Located], depth: int, value: object) -> str:
    """``voice: expected a string or an object (id: is required), got an object``."""
    alternatives: list[str] = []
    for m in members:
        if len(m.loc) == depth + 1:  # the member's type did not match
            what = EXPECTED.get(m.type, _phrase(m.err))
        else:  # the value had the member's type; something inside it is wrong
            path, _, _, inner = _walk(m.loc[depth + 1 :], value, m.type == "missing")
            what = f"{json_kind(value)} ({_message(format_path(path), m.err, inner)})"
        if what not in alternatives:
            alternatives.append(what)
    return f"{param}: expected {' or '.join(alternatives)}, got {json_kind(value)}"


def client_error(errors: Sequence[Mapping[str, Any]], body: Any) -> InvalidRequestError:
    """The first failing field of ``errors`` (pydantic/FastAPI error dicts) as one 400 error.

    ``body``: the parsed request body (``RequestValidationError.body``), which the locations are
    walked through. ``param`` is the client's path (``voice``, ``messages[0].content``, ``speed``),
    ``"body"`` when the body as a whole is wrong (not JSON, not an object, missing).
    """
    if not errors:
        return InvalidRequestError("the request is not valid", param="body", code="invalid_value")
    first = errors[0]
    if first.get("type") == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "")
        return InvalidRequestError(
            f"the request body must be a JSON object; it is not valid JSON ({reason})".replace(" ()", ""),
            param="body",
            code="invalid_json",
        )
    located = [_Located(e, body) for e in errors]
    head = located[0]
    if not head.path:
        if head.type == "missing":
            return InvalidRequestError(
                "the request body is missing; send a JSON object", param="body", code="invalid_json"
            )
        return InvalidRequestError(
            f"the request body must be a JSON object, got {json_kind(head.value)}",
            param="body",
            code="invalid_json",
        )
    union = _union_of(head, located)
    if union is not None:  # every member's error is about the field the union validates
        prefix = union.loc[: union.used]
        members = [m for m in located if m.source == head.source and m.loc[: union.used] == prefix]
        param = format_path(union.path)
        message = _union_message(param, members, union.used, union.value)
    else:
        param = format_path(head.path)
        message = _message(param, head.err, head.value)
    if len(head.path) > 1 and head.path[0] in MAP_FIELDS:
        field, key = str(head.path[0]), head.path[1]
        message = f"{field}: {str(key)!r}: " + message.partition(": ")[2]
        return InvalidRequestError(message, param=field, code=f"invalid_{field}")
    return InvalidRequestError(message, param=param, code="invalid_value")


def _union_of(head: _Located, located: Sequence[_Located]) -> _Located | None:
    """The outermost union (or wrapper) that ``head`` failed inside: an error whose tags start at
    a prefix of ``head``'s location. Found through any error, not only ``head``, so a member tag
    that the body happens to have as a key (``"voice": {"str": 1}``) is not taken for a field."""
    found: _Located | None = None
    for m in located:
        if not m.tagged or m.source != head.source or m.used > len(head.loc):
            continue
        if head.loc[: m.used] == m.loc[: m.used] and (found is None or m.used < found.used):
            found = m
    return found


@contextmanager
def client_names(names: Mapping[str, str]) -> Iterator[None]:
    """Within the block, an ``InvalidRequestError`` about a field that this route's client names
    differently (``input`` is ``text`` on ``GET /tts``) names the client's field instead, in
    ``param`` and at the start of its message."""
    try:
        yield
    except InvalidRequestError as exc:
        new = names.get(exc.param or "")
        if exc.param and new and new != exc.param:
            old = exc.param
            exc.param = new
            if exc.message.startswith(old) and exc.message[len(old) : len(old) + 1] in (" ", ":", ""):
                exc.message = new + exc.message[len(old) :]
                exc.args = (exc.message,)
        raise
