"""server/validation.py: pydantic error locations → the field as the client wrote it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from ttsgate.exceptions import InvalidRequestError, VoiceNotFoundError
from ttsgate.server.protocol import ChatSpeechBody, ChattsBody, SpeechBody, WsStartMessage
from ttsgate.server.validation import client_error, client_names, format_path, json_kind


def _error(model: type[BaseModel], body: Any) -> InvalidRequestError:
    with pytest.raises(ValidationError) as info:
        model.model_validate(body)
    return client_error(info.value.errors(), body)


@pytest.mark.parametrize(
    ("path", "written"),
    [(["voice"], "voice"), (["messages", 0, "content"], "messages[0].content"),
     (["voice_settings", "speed"], "voice_settings.speed"), (["a", 1, 2, "b"], "a[1][2].b"), ([], "")],
)  # fmt: skip
def test_format_path(path: list[str | int], written: str) -> None:
    assert format_path(path) == written


@pytest.mark.parametrize(
    ("value", "kind"),
    [(None, "null"), (True, "a boolean"), (1, "an integer"), (1.5, "a number"), ("x", "a string"),
     ([], "an array"), ({}, "an object")],
)  # fmt: skip
def test_json_kind(value: object, kind: str) -> None:
    assert json_kind(value) == kind


@pytest.mark.parametrize("model", [SpeechBody, WsStartMessage])
@pytest.mark.parametrize("voice", [123, {"name": "x"}, {"id": ""}, None, [], {"str": 1}, {"VoiceRef": {}}])
def test_union_tags_never_reach_param(model: type[BaseModel], voice: Any) -> None:
    """Even when the body has a key named like a union member's tag (``{"str": 1}``)."""
    err = _error(model, {"type": "start", "input": "x", "voice": voice})
    assert err.param == "voice"
    assert err.message.startswith("voice: expected a string or an object")


def test_the_first_failing_field_in_declaration_order_is_reported() -> None:
    err = _error(SpeechBody, {"input": "", "speed": 9, "voice": 1})
    assert err.param == "voice"  # VoiceChoice's fields come first
    assert "speed" not in err.message  # a sibling's error is not taken into the union
    err = _error(SpeechBody, {"input": "", "speed": 9})
    assert err.param == "input"


def test_a_union_error_after_a_plain_one_does_not_claim_it() -> None:
    body = {"messages": [{"role": "user", "content": "x"}], "keep_alive": {}, "speed": 0}
    err = _error(ChatSpeechBody, body)
    assert err.param == "speed"


def test_nested_list_items_and_missing_fields() -> None:
    body = {"messages": [{"role": "user", "content": "x"}, {"content": "y"}]}
    err = _error(ChatSpeechBody, body)
    assert (err.param, err.message) == ("messages[1].role", "messages[1].role: required field is missing")


def test_query_errors_name_the_parameter() -> None:
    errors = [{"type": "float_parsing", "loc": ("query", "speed"), "msg": "Input should be a valid number, "
               "unable to parse string as a number", "input": "fast"}]  # fmt: skip
    err = client_error(errors, None)
    assert err.param == "speed"
    assert err.message == "speed: must be a valid number, unable to parse string as a number"


def test_whole_body_errors() -> None:
    invalid = [{"type": "json_invalid", "loc": ("body", 3), "msg": "JSON decode error", "input": {},
                "ctx": {"error": "Expecting value"}}]  # fmt: skip
    assert client_error(invalid, "xx").message == (
        "the request body must be a JSON object; it is not valid JSON (Expecting value)"
    )
    missing = [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
    assert client_error(missing, None).message == "the request body is missing; send a JSON object"
    err = _error(SpeechBody, [1])
    assert (err.param, err.code) == ("body", "invalid_json")
    assert err.message == "the request body must be a JSON object, got an array"
    assert client_error([], None).param == "body"


def test_strict_types() -> None:
    assert _error(ChattsBody, {"prompt": "x", "stream": 0}).param == "stream"
    assert _error(ChattsBody, {"prompt": "x", "stream": "true"}).param == "stream"
    assert _error(SpeechBody, {"input": "x", "speed": "1"}).param == "speed"
    assert SpeechBody.model_validate({"input": "x", "speed": 2}).speed == 2.0
    assert ChattsBody.model_validate({"prompt": "x", "voice_settings": {"voice_id": "a"}}).voice_settings


@pytest.mark.parametrize(
    ("body", "names"),
    [({"prompt": "x"}, {"input": "prompt", "voice": "voice_id", "speed": "speed"}),
     ({"prompt": "x", "voice_settings": {"voice_id": "v", "speed": 2}},
      {"input": "prompt", "voice": "voice_settings.voice_id", "speed": "voice_settings.speed"}),
     ({"prompt": "x", "voice_id": "v", "speed": 1, "voice_settings": {"voice_id": "w", "speed": 2}},
      {"input": "prompt", "voice": "voice_id", "speed": "speed"})],
)  # fmt: skip
def test_chatts_client_names_follow_the_used_field(body: dict[str, Any], names: dict[str, str]) -> None:
    assert ChattsBody.model_validate(body).client_names() == names


def test_client_names_renames_param_and_message_start() -> None:
    with pytest.raises(VoiceNotFoundError) as info, client_names({"voice": "voice_id"}):
        raise VoiceNotFoundError.for_voice("nobody", ["a"])
    assert info.value.param == "voice_id"
    assert info.value.message.startswith("voice_id 'nobody' is not known")
    assert str(info.value) == info.value.message
    with pytest.raises(InvalidRequestError) as other, client_names({"input": "text"}):
        raise InvalidRequestError("inputs: other", param="speed")
    assert (other.value.param, other.value.message) == ("speed", "inputs: other")
    with pytest.raises(InvalidRequestError) as prefix, client_names({"input": "text"}):
        raise InvalidRequestError("inputs are odd", param="input")
    assert (prefix.value.param, prefix.value.message) == ("text", "inputs are odd")  # not a word match
