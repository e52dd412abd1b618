"""Building blocks of the OpenAPI document: JSON Schema helpers, the shared components
(error bodies per dialect, security schemes) and :func:`op`, which declares one operation.

The operation tables (``openapi_client``, ``openapi_admin``, ``openapi_config``,
``openapi_extra``) are lists of :func:`op` calls; :mod:`omni.serve.openapi` assembles
them into the document and checks that they match the routes the app registers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Schema = dict[str, Any]

# -- JSON Schema helpers (OpenAPI 3.1 uses JSON Schema 2020-12) ---------------------------

STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}
ANY_OBJ: Schema = {"type": "object"}
STRS: Schema = {"type": "array", "items": STR}
NAME: Schema = {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$"}
"""A provider, account, node or combo name (it becomes part of model strings)."""
WORD: Schema = {"type": "string", "pattern": "^\\S+$", "maxLength": 512}
"""One word: a model string, an alias or a pattern."""
WORDS: Schema = {"type": "array", "items": WORD}


def nullable(schema: Schema) -> Schema:
    """``schema`` or ``null``."""
    kind = schema.get("type")
    if isinstance(kind, str) and set(schema) <= {"type", "description", "enum", "items"}:
        widened = {**schema, "type": [kind, "null"]}
        if "enum" in schema:
            widened["enum"] = [*schema["enum"], None]
        return widened
    return {"anyOf": [schema, {"type": "null"}]}


def arr(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def obj(required: tuple[str, ...] | list[str] = (), closed: bool = False, **props: Any) -> Schema:
    """An object with ``props``; ``required`` lists the ones always present; ``closed``
    refuses other properties (for request bodies whose handler refuses unknown fields)."""
    schema: Schema = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def full(**props: Any) -> Schema:
    """An object whose every property is always present."""
    return obj(tuple(props), **props)


def map_of(values: Schema) -> Schema:
    return {"type": "object", "additionalProperties": values}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


# -- error bodies, one per dialect (see omni.translate.errors) ----------------------------

ERROR_SCHEMAS: dict[str, Schema] = {
    "OpenAIError": obj(
        ["error"],
        error=obj(
            ["message", "type", "code"],
            message=STR,
            type=STR,
            param=nullable(STR),
            code=nullable(STR),
        ),
    ),
    "AnthropicError": obj(
        ["type", "error"],
        type={"const": "error"},
        error=obj(["type", "message"], type=STR, message=STR),
    ),
    "GeminiError": obj(
        ["error"], error=obj(["code", "message", "status"], code=INT, message=STR, status=STR)
    ),
    "OllamaError": obj(["error"], error=STR),
}

OPENAI, ANTHROPIC, GEMINI, OLLAMA = "OpenAIError", "AnthropicError", "GeminiError", "OllamaError"
GEMINI_OR_OPENAI = "GeminiOrOpenAIError"  # /v1/models/{m}:{method}: Gemini once routed
ERROR_SCHEMAS[GEMINI_OR_OPENAI] = {"anyOf": [ref(GEMINI), ref(OPENAI)]}


def error_response(schema_name: str) -> Schema:
    return {
        "description": "An error in the caller's dialect (what went wrong and what to do).",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait (429 lockouts, 402 budgets).",
                "schema": INT,
            }
        },
        "content": {"application/json": {"schema": ref(schema_name)}},
    }


# -- security -----------------------------------------------------------------------------

SECURITY_SCHEMES: dict[str, Schema] = {
    "adminToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "The local admin token (the `admin.token` file in the data folder; "
        "the omni CLI sends it), a session token from `POST /api/auth/login`, or an API "
        "key with the `admin` scope.",
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "auth_token",
        "description": "The session cookie `POST /api/auth/login` sets.",
    },
    "adminApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "An API key with the `admin` scope.",
    },
    "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "An omni API key (`sk-…`) with the `chat` scope; needed only when "
        "REQUIRE_API_KEY (or the require-api-key setting) is on.",
    },
    "xApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
    "xGoogApiKey": {"type": "apiKey", "in": "header", "name": "x-goog-api-key"},
    "googKey": {"type": "apiKey", "in": "query", "name": "key"},
    "syncToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A sync token from `POST /api/sync/initialize`.",
    },
}

ADMIN, CLIENT, GEMINI_CLIENT, PUBLIC, METRICS, SYNC = (
    "admin", "client", "gemini", "public", "metrics", "sync",
)  # fmt: skip
SECURITY: dict[str, list[dict[str, list[str]]]] = {
    ADMIN: [{"adminToken": []}, {"sessionCookie": []}, {"adminApiKey": []}],
    CLIENT: [{}, {"apiKey": []}, {"xApiKey": []}, {"xGoogApiKey": []}],
    GEMINI_CLIENT: [{}, {"apiKey": []}, {"xApiKey": []}, {"xGoogApiKey": []}, {"googKey": []}],
    PUBLIC: [],
    METRICS: [{}, {"adminToken": []}],
    SYNC: [{"syncToken": []}, {"adminToken": []}, {"sessionCookie": []}],
}


# -- operations ---------------------------------------------------------------------------

JSON = "application/json"
_PARAM = re.compile(r"\{([^}:]+)[^}]*\}")


@dataclass(frozen=True, slots=True)
class Operation:
    """One described route: method and OpenAPI path, and its operation object."""

    method: str
    path: str
    spec: Schema = field(hash=False, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return self.method, path_shape(self.path)


def path_shape(path: str) -> str:
    """A path with its parameter names (and aiohttp patterns) left out, for comparing."""
    return _PARAM.sub("{}", path)


def query(name: str, schema: Schema, description: str, required: bool = False) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def header(name: str, description: str) -> Schema:
    return {"name": name, "in": "header", "required": False, "description": description,
            "schema": STR}  # fmt: skip


def json_body(schema: Schema, required: bool = True, description: str | None = None) -> Schema:
    body: Schema = {"required": required, "content": {JSON: {"schema": schema}}}
    if description:
        body["description"] = description
    return body


def op(
    method: str,
    path: str,
    summary: str,
    *,
    tag: str,
    ok: Schema | None = None,
    status: int = 200,
    body: Schema | None = None,
    params: list[Schema] | None = None,
    security: str = ADMIN,
    errors: str = OPENAI,
    content: dict[str, Schema] | None = None,
    description: str | None = None,
    responses: dict[str, Schema] | None = None,
    path_params: dict[str, Schema] | None = None,
) -> Operation:
    """Declare ``method path``: ``ok`` is the JSON schema of the success answer (status
    ``status``), or ``content`` maps other media types to schemas; ``body`` is a
    ``requestBody`` object (see :func:`json_body`); errors use the ``errors`` schema."""
    names = _PARAM.findall(path)
    parameters = [
        {"name": n, "in": "path", "required": True, "schema": (path_params or {}).get(n, STR)}
        for n in names
    ]
    success: Schema = {"description": summary}
    if content is not None:
        success["content"] = content
    elif ok is not None:
        success["content"] = {JSON: {"schema": ok}}
    spec: Schema = {
        "operationId": _operation_id(method, path),
        "summary": summary,
        "tags": [tag],
        "parameters": parameters + list(params or []),
        "responses": {
            str(status): success,
            **(responses or {}),
            "4XX": {"$ref": f"#/components/responses/{errors}"},
            "5XX": {"$ref": f"#/components/responses/{errors}"},
        },
        "security": SECURITY[security],
    }
    if description:
        spec["description"] = description
    if body is not None:
        spec["requestBody"] = body
    return Operation(method.upper(), _PARAM.sub(lambda m: "{" + m[1] + "}", path), spec)


def _operation_id(method: str, path: str) -> str:
    words = re.sub(r"[^A-Za-z0-9]+", "_", _PARAM.sub(lambda m: "by_" + m[1], path)).strip("_")
    return f"{method.lower()}_{words or 'root'}"
