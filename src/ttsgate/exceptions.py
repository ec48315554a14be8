"""The one exception tree of ttsgate.

Every error that can reach a client is a ``TTSGateError``; the HTTP layer maps each class to a
status and an OpenAI-style error ``type`` in one table (``ttsgate.server.errors``), and the client
library maps the ``type`` back to the class. Lower-library errors are translated at the boundary
where they happen, with ``raise ... from exc``.

    TTSGateError
    ├── InvalidRequestError            400  invalid_request_error  (names the field in ``param``)
    │   ├── VoiceNotFoundError         400  (message lists the valid voices)
    │   ├── InputTooLongError          400
    │   ├── PayloadTooLargeError       413  (a request body or WebSocket message over the byte limit)
    │   ├── AuthenticationError        401  (code invalid_api_key; missing or wrong API key)
    │   └── ForbiddenOriginError       403  (a WebSocket from a web page of another origin)
    ├── RateLimitError                 429  rate_limit_exceeded  (carries ``retry_after_s``)
    ├── NotFoundError                  404  not_found_error
    ├── OverloadedError                503  server_overloaded  (carries ``retry_after_s``)
    ├── NotReadyError                  503  not_ready
    ├── UpstreamUnavailableError       503  upstream_unavailable  (an LLM or Redis that does not answer)
    ├── UpstreamError                  502  upstream_error  (an LLM that answered with an error)
    ├── RequestTimeoutError            504  timeout
    └── EngineError                    500  engine_error  (a synthesis failed: our fault, not the client's)
"""

from __future__ import annotations


class TTSGateError(Exception):
    """Base of every error ttsgate raises on purpose."""

    error_type = "server_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


class InvalidRequestError(TTSGateError):
    error_type = "invalid_request_error"


class VoiceNotFoundError(InvalidRequestError):
    @classmethod
    def for_voice(cls, voice: str, valid: list[str]) -> VoiceNotFoundError:
        shown = ", ".join(valid[:40]) + (" …" if len(valid) > 40 else "")
        return cls(
            f"voice {voice!r} is not known; valid voices: {shown}", param="voice", code="voice_not_found"
        )


class InputTooLongError(InvalidRequestError):
    pass


class PayloadTooLargeError(InvalidRequestError):
    """A request body (or WebSocket message) over the configured byte limit; refused unread."""

    @classmethod
    def over(cls, limit: int, what: str = "request body") -> PayloadTooLargeError:
        return cls(f"{what} is over the limit of {limit} bytes", param="body", code="body_too_large")


class AuthenticationError(InvalidRequestError):
    """No API key, or not one of the configured keys (OpenAI's 401 shape)."""

    def __init__(
        self, message: str, *, param: str | None = None, code: str | None = "invalid_api_key"
    ) -> None:
        super().__init__(message, param=param, code=code)


class ForbiddenOriginError(InvalidRequestError):
    """A browser connection from an origin not allowed by ``TTSGATE_ALLOWED_ORIGINS``."""

    def __init__(
        self, message: str, *, param: str | None = "Origin", code: str | None = "origin_not_allowed"
    ) -> None:
        super().__init__(message, param=param, code=code)


class RateLimitError(TTSGateError):
    error_type = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message, code="rate_limit_exceeded")
        self.retry_after_s = retry_after_s


class NotFoundError(TTSGateError):
    error_type = "not_found_error"


class OverloadedError(TTSGateError):
    error_type = "server_overloaded"

    def __init__(self, message: str, *, retry_after_s: float, code: str = "queue_full") -> None:
        super().__init__(message, code=code)
        self.retry_after_s = retry_after_s


class NotReadyError(TTSGateError):
    error_type = "not_ready"


class UpstreamUnavailableError(TTSGateError):
    error_type = "upstream_unavailable"


class UpstreamError(TTSGateError):
    error_type = "upstream_error"


class RequestTimeoutError(TTSGateError):
    error_type = "timeout"


class EngineError(TTSGateError):
    error_type = "engine_error"


# code -> class, for the subclasses that share a type with their parent (checked before ERROR_TYPES).
ERROR_CODES: dict[str, type[TTSGateError]] = {
    "voice_not_found": VoiceNotFoundError,
    "body_too_large": PayloadTooLargeError,
    "invalid_api_key": AuthenticationError,
    "origin_not_allowed": ForbiddenOriginError,
}

# type -> class, used by the client library to raise the same class the server raised.
ERROR_TYPES: dict[str, type[TTSGateError]] = {
    cls.error_type: cls
    for cls in (
        TTSGateError,
        InvalidRequestError,
        NotFoundError,
        OverloadedError,
        NotReadyError,
        UpstreamUnavailableError,
        UpstreamError,
        RequestTimeoutError,
        EngineError,
    )
}
