"""What a client may ask of the server's LLM: the operator decides, not the request.

``/v1/chat/speech`` spends the server's own LLM (and its API key). By default a client gets the
configured model (``TTSGATE_LLM_MODEL``) and a reply of at most ``TTSGATE_LLM_MAX_TOKENS`` tokens,
and nothing else it sends is forwarded. ``TTSGATE_LLM_ALLOWED_MODELS`` and
``TTSGATE_LLM_ALLOWED_OPTIONS`` (comma-separated, ``*`` for any) open more. A request outside the
policy is refused with a 400 naming the field and what is allowed, never silently changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ttsgate.config import Settings
from ttsgate.exceptions import InvalidRequestError
from ttsgate.llm.base import JSONValue

# Both spellings of the reply-length option (Ollama's and OpenAI's); sent on as ``num_predict``,
# which the OpenAI-compatible backend renames to ``max_tokens``.
LENGTH_OPTIONS = ("num_predict", "max_tokens")


def _names(value: str) -> frozenset[str]:
    return frozenset(v.strip() for v in value.split(",") if v.strip())


@dataclass(frozen=True, slots=True)
class LLMRequest:
    """What is sent to the LLM: the model, the options (always with a bounded length) and keep_alive."""

    model: str
    options: dict[str, JSONValue]
    keep_alive: str | int | None


def apply_policy(
    settings: Settings,
    model: str | None,
    options: Mapping[str, JSONValue] | None,
    keep_alive: str | int | None,
) -> LLMRequest:
    """The LLM request the policy allows for the client's ``model``, ``options`` and ``keep_alive``;
    ``InvalidRequestError`` (param ``model``, ``options.NAME`` or ``keep_alive``) otherwise."""
    chosen = model or settings.llm_model
    models = _names(settings.llm_allowed_models) | {settings.llm_model}
    if chosen not in models and "*" not in models:
        shown = ", ".join(sorted(models))
        raise InvalidRequestError(
            f"model {chosen!r} is not offered here; allowed: {shown} (TTSGATE_LLM_ALLOWED_MODELS)",
            param="model",
            code="model_not_allowed",
        )
    allowed = _names(settings.llm_allowed_options)
    limit = settings.llm_max_tokens
    out: dict[str, JSONValue] = {}
    length: int | None = None
    for name, value in (options or {}).items():
        if name in LENGTH_OPTIONS:
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
                raise InvalidRequestError(
                    f"options.{name}: a whole number of tokens from 1 to {limit} (TTSGATE_LLM_MAX_TOKENS)",
                    param=f"options.{name}",
                )
            length = value
        elif name in allowed or "*" in allowed:
            out[name] = value
        else:
            raise InvalidRequestError(
                f"options.{name} is not passed to the LLM here; allowed: "
                + (", ".join(sorted(allowed | set(LENGTH_OPTIONS))))
                + " (TTSGATE_LLM_ALLOWED_OPTIONS)",
                param=f"options.{name}",
                code="option_not_allowed",
            )
    if keep_alive is not None and "keep_alive" not in allowed and "*" not in allowed:
        raise InvalidRequestError(
            "keep_alive is not passed to the LLM here (TTSGATE_LLM_ALLOWED_OPTIONS)",
            param="keep_alive",
            code="option_not_allowed",
        )
    out["num_predict"] = length or limit
    return LLMRequest(model=chosen, options=out, keep_alive=keep_alive)
