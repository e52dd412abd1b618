"""Error bodies in each client's own dialect, with the type and code their SDKs expect.

OpenAI ``{"error":{"message","type","param","code"}}``, Anthropic
``{"type":"error","error":{"type","message"}}``, Gemini
``{"error":{"code","message","status"}}``, Ollama ``{"error": "…"}``. Types follow the
HTTP status so SDKs raise the right exception class (429 → rate limit, 401 → auth …).
"""

from __future__ import annotations

import orjson

from omni.ir import Dialect

# status → (OpenAI type, OpenAI default code, Anthropic type, Gemini status)
_BY_STATUS: dict[int, tuple[str, str, str, str]] = {
    400: ("invalid_request_error", "invalid_request", "invalid_request_error", "INVALID_ARGUMENT"),
    401: ("authentication_error", "invalid_api_key", "authentication_error", "UNAUTHENTICATED"),
    402: ("insufficient_quota", "insufficient_quota", "billing_error", "RESOURCE_EXHAUSTED"),
    403: ("permission_error", "permission_denied", "permission_error", "PERMISSION_DENIED"),
    404: ("invalid_request_error", "model_not_found", "not_found_error", "NOT_FOUND"),
    405: ("invalid_request_error", "method_not_allowed", "invalid_request_error", "UNIMPLEMENTED"),
    408: ("timeout_error", "request_timeout", "timeout_error", "DEADLINE_EXCEEDED"),
    409: ("invalid_request_error", "conflict", "invalid_request_error", "ALREADY_EXISTS"),
    413: ("invalid_request_error", "request_too_large", "request_too_large", "INVALID_ARGUMENT"),
    422: ("invalid_request_error", "unprocessable", "invalid_request_error", "INVALID_ARGUMENT"),
    429: ("rate_limit_error", "rate_limit_exceeded", "rate_limit_error", "RESOURCE_EXHAUSTED"),
    499: ("client_closed_request", "client_closed", "api_error", "CANCELLED"),
    500: ("server_error", "internal_error", "api_error", "INTERNAL"),
    501: ("server_error", "not_implemented", "api_error", "UNIMPLEMENTED"),
    502: ("upstream_error", "upstream_error", "api_error", "UNAVAILABLE"),
    503: ("server_error", "service_unavailable", "overloaded_error", "UNAVAILABLE"),
    504: ("timeout_error", "upstream_timeout", "timeout_error", "DEADLINE_EXCEEDED"),
    529: ("server_error", "overloaded", "overloaded_error", "UNAVAILABLE"),
}


def _kinds(status: int) -> tuple[str, str, str, str]:
    found = _BY_STATUS.get(status)
    if found is not None:
        return found
    return _BY_STATUS[400] if 400 <= status < 500 else _BY_STATUS[500]


def error_payload(
    dialect: Dialect, status: int, message: str, code: str | None = None
) -> dict[str, object]:
    """The error object ``dialect``'s clients expect for HTTP ``status``."""
    openai_type, default_code, anthropic_type, gemini_status = _kinds(status)
    if dialect is Dialect.ANTHROPIC:
        return {"type": "error", "error": {"type": anthropic_type, "message": message}}
    if dialect is Dialect.GEMINI:
        return {"error": {"code": status, "message": message, "status": gemini_status}}
    if dialect is Dialect.OLLAMA:
        return {"error": message}
    return {
        "error": {
            "message": message,
            "type": openai_type,
            "param": None,
            "code": code or default_code,
        }
    }


def error_body(dialect: Dialect, status: int, message: str, code: str | None = None) -> bytes:
    """:func:`error_payload` serialised."""
    return orjson.dumps(error_payload(dialect, status, message, code))


def error_event(dialect: Dialect, status: int, message: str, code: str | None = None) -> bytes:
    """The same error as one stream event, framed the way the dialect frames streams."""
    body = error_body(dialect, status, message, code)
    if dialect is Dialect.OLLAMA:
        return body + b"\n"
    if dialect in (Dialect.ANTHROPIC, Dialect.OPENAI_RESPONSES):
        name = b"error"
        return b"event: " + name + b"\ndata: " + body + b"\n\n"
    return b"data: " + body + b"\n\n"


def upstream_message(body: bytes) -> str | None:
    """The human message inside an upstream's error body, whatever its dialect."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    error = data.get("error", data)
    if isinstance(error, str):
        return error[:500]
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, str):
            return message[:500]
    message = data.get("message")
    return message[:500] if isinstance(message, str) else None
