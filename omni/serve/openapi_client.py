"""OpenAPI descriptions of the client API: the OpenAI, Anthropic, Gemini and Ollama
dialect routes (``/v1/*``, ``/v1beta/*``, ``/api/chat`` …) and their shortcut prefixes.

Bodies are described as far as omni reads them (the model, the messages); everything
else a dialect defines is passed through, so the objects stay open.
"""

from __future__ import annotations

from omni.serve.openapi_schemas import (
    ANTHROPIC,
    ANY_OBJ,
    BOOL,
    CLIENT,
    GEMINI_CLIENT,
    GEMINI_OR_OPENAI,
    INT,
    JSON,
    NUM,
    OLLAMA,
    STR,
    Operation,
    Schema,
    arr,
    header,
    json_body,
    nullable,
    obj,
    op,
    ref,
)

SCHEMAS: dict[str, Schema] = {
    "ChatCompletionRequest": obj(
        ["model", "messages"],
        model=STR,
        messages=arr(obj(["role"], role=STR)),
        stream=BOOL,
        temperature=NUM,
        max_tokens=INT,
        tools=arr(ANY_OBJ),
    ),
    "ChatCompletion": obj(
        ["id", "object", "model", "choices"],
        id=STR,
        object=STR,
        created=INT,
        model=STR,
        choices=arr(
            obj(
                ["index", "message"],
                index=INT,
                message=obj(["role"], role=STR, content=nullable(STR)),
                finish_reason=nullable(STR),
            )
        ),
        usage=obj(prompt_tokens=INT, completion_tokens=INT, total_tokens=INT),
    ),
    "Model": obj(["id", "object"], id=STR, object=STR, created=INT, owned_by=STR),
    "ModelList": obj(["data"], object=STR, data=arr(ANY_OBJ)),
    "MessagesRequest": obj(
        ["model", "messages"],
        model=STR,
        messages=arr(obj(["role", "content"], role=STR)),
        max_tokens=INT,
        system={},
        stream=BOOL,
    ),
    "Message": obj(
        ["id", "type", "role", "content"],
        id=STR,
        type=STR,
        role=STR,
        model=STR,
        content=arr(obj(["type"], type=STR)),
        stop_reason=nullable(STR),
        usage=obj(input_tokens=INT, output_tokens=INT),
    ),
    "ResponsesRequest": obj(["model"], model=STR, input={}, instructions=STR, stream=BOOL),
    "Response": obj(["id", "object"], id=STR, object=STR, model=STR, output=arr(ANY_OBJ)),
    "GenerateContentRequest": obj(
        ["contents"], contents=arr(obj(parts=arr(ANY_OBJ), role=STR)), generationConfig=ANY_OBJ
    ),
    "GenerateContentResponse": obj(
        ["candidates"], candidates=arr(ANY_OBJ), usageMetadata=ANY_OBJ, modelVersion=STR
    ),
    "OllamaChatRequest": obj(
        ["model", "messages"],
        model=STR,
        messages=arr(obj(["role"], role=STR, content=STR)),
        stream=BOOL,
        options=ANY_OBJ,
    ),
    "OllamaChatResponse": obj(
        ["model", "message", "done"],
        model=STR,
        created_at=STR,
        message=obj(["role", "content"], role=STR, content=STR),
        done=BOOL,
    ),
    "EmbeddingsRequest": obj(["model", "input"], model=STR, input={}),
    "Embeddings": obj(["data"], object=STR, data=arr(ANY_OBJ), model=STR, usage=ANY_OBJ),
    "ImagesRequest": obj(["model", "prompt"], model=STR, prompt=STR, n=INT, size=STR),
    "Images": obj(["data"], created=INT, data=arr(ANY_OBJ)),
}

_SSE_EVENT = obj(
    data={"type": "string", "contentMediaType": "application/json",
          "description": "one chunk of the dialect's stream (or [DONE])"},
    event=STR, id=STR, retry=INT,
)  # fmt: skip
_SSE = {"text/event-stream": {"schema": _SSE_EVENT}}  # each event of the stream
_CHAT = {JSON: {"schema": ref("ChatCompletion")}, **_SSE}
_ACCEPT = [header("Accept", "text/event-stream asks for a stream when the body does not say")]
_MODEL_PARAM = {"model_id": {"type": "string", "pattern": "^.+$"}}


def _openai(prefix: str) -> list[Operation]:
    tag = "OpenAI"
    return [
        op("POST", f"{prefix}/chat/completions", "Chat completion (OpenAI Chat)", tag=tag,
           body=json_body(ref("ChatCompletionRequest")), content=_CHAT, params=_ACCEPT,
           security=CLIENT),
        op("GET", f"{prefix}/models", "Models, combos and aliases a client may ask for", tag=tag,
           ok=ref("ModelList"), security=CLIENT,
           description="Shaped for Anthropic clients (anthropic-version header) and Gemini "
           "clients (x-goog-api-key without Authorization) as well."),
        op("GET", prefix + "/models/{model_id}", "One model of the list", tag=tag,
           ok=ref("Model"), security=CLIENT, path_params=_MODEL_PARAM),
    ]  # fmt: skip


def _anthropic(prefix: str) -> list[Operation]:
    tag = "Anthropic"
    return [
        op("POST", f"{prefix}/messages", "Messages (Anthropic)", tag=tag,
           body=json_body(ref("MessagesRequest")), security=CLIENT, errors=ANTHROPIC,
           content={JSON: {"schema": ref("Message")}, **_SSE}),
        op("POST", f"{prefix}/messages/count_tokens", "Count input tokens", tag=tag,
           body=json_body(ref("MessagesRequest")), security=CLIENT, errors=ANTHROPIC,
           ok=obj(["input_tokens"], input_tokens=INT),
           description="X-OmniRoute-Token-Count says whether the upstream counted or omni "
           "estimated."),
    ]  # fmt: skip


def _responses(prefix: str) -> Operation:
    return op("POST", f"{prefix}/responses", "Responses (OpenAI Responses; Codex)",
              tag="OpenAI", body=json_body(ref("ResponsesRequest")), params=_ACCEPT,
              content={JSON: {"schema": ref("Response")}, **_SSE}, security=CLIENT,
              errors="OpenAIError")  # fmt: skip


def _gemini(path: str) -> Operation:
    return op(
        "POST", path, "Gemini model method: generateContent, streamGenerateContent, "
        "countTokens, embedContent, batchEmbedContents", tag="Gemini",
        body=json_body(ref("GenerateContentRequest")), security=GEMINI_CLIENT,
        errors=GEMINI_OR_OPENAI, path_params={"model_id": {"type": "string",
                                                           "pattern": "^.+:[A-Za-z]+$"}},
        content={JSON: {"schema": ANY_OBJ}, **_SSE},
        description="The last path segment is `<model>:<method>`, e.g. "
        "`openai/gpt-4o:generateContent`; streamGenerateContent always answers as SSE.",
    )  # fmt: skip


def _ollama(prefix: str) -> list[Operation]:
    tag = "Ollama"
    return [
        op("POST", f"{prefix}/api/chat", "Chat (Ollama; NDJSON stream unless stream=false)",
           tag=tag, body=json_body(ref("OllamaChatRequest")), security=CLIENT, errors=OLLAMA,
           content={JSON: {"schema": ref("OllamaChatResponse")},
                    "application/x-ndjson": {"schema": STR}}),
        op("GET", f"{prefix}/api/tags", "Models (Ollama)", tag=tag, security=CLIENT,
           errors=OLLAMA, ok=obj(["models"], models=arr(obj(["name", "model"], name=STR,
                                                            model=STR)))),
        op("POST", f"{prefix}/api/show", "One model (Ollama)", tag=tag, security=CLIENT,
           errors=OLLAMA, body=json_body(obj(model=STR, name=STR)),
           ok=obj(["modelfile", "details"], modelfile=STR, details=ANY_OBJ)),
        op("POST", f"{prefix}/api/embed", "Embeddings (Ollama)", tag=tag, security=CLIENT,
           errors=OLLAMA, body=json_body(obj(["model", "input"], model=STR, input={})),
           ok=obj(["embeddings"], model=STR, embeddings=arr(arr(NUM)))),
    ]  # fmt: skip


def _media(prefix: str) -> list[Operation]:
    tag = "OpenAI media"
    audio = obj(["file", "model"], file={"type": "string", "contentMediaType":
                                         "application/octet-stream"}, model=STR,
                language=STR, prompt=STR, response_format=STR)  # fmt: skip
    return [
        op("POST", f"{prefix}/embeddings", "Embeddings", tag=tag, security=CLIENT,
           body=json_body(ref("EmbeddingsRequest")), ok=ref("Embeddings")),
        op("GET", f"{prefix}/embeddings", "Models that embed", tag=tag, security=CLIENT,
           ok=ref("ModelList")),
        op("POST", f"{prefix}/images/generations", "Image generation", tag=tag,
           security=CLIENT, body=json_body(ref("ImagesRequest")), ok=ref("Images")),
        op("GET", f"{prefix}/images/generations", "Models that draw", tag=tag,
           security=CLIENT, ok=ref("ModelList")),
        op("POST", f"{prefix}/audio/transcriptions", "Speech to text (multipart)", tag=tag,
           security=CLIENT, body={"required": True,
                                  "content": {"multipart/form-data": {"schema": audio}}},
           content={JSON: {"schema": obj(text=STR)}, "text/plain": {"schema": STR}}),
    ]  # fmt: skip


def _pinned(prefix: str) -> list[Operation]:
    base, tag = prefix + "/providers/{provider}", "Provider-pinned"
    return [
        op("POST", base + "/chat/completions", "Chat completion on one provider", tag=tag,
           body=json_body(ref("ChatCompletionRequest")), content=_CHAT, params=_ACCEPT,
           security=CLIENT),
        op("POST", base + "/embeddings", "Embeddings on one provider", tag=tag,
           body=json_body(ref("EmbeddingsRequest")), ok=ref("Embeddings"), security=CLIENT),
        op("POST", base + "/images/generations", "Images on one provider", tag=tag,
           body=json_body(ref("ImagesRequest")), ok=ref("Images"), security=CLIENT),
    ]  # fmt: skip


OPERATIONS: list[Operation] = [
    *(o for p in ("/v1", "", "/v1/v1") for o in _openai(p)),
    *(o for p in ("/v1", "", "/v1/v1") for o in _anthropic(p)),
    *(_responses(p) for p in ("/v1", "", "/v1/v1")),
    op("GET", "/v1beta/models", "Models (Gemini)", tag="Gemini", security=GEMINI_CLIENT,
       errors="GeminiError", ok=obj(["models"], models=arr(obj(["name"], name=STR)))),
    _gemini("/v1beta/models/{model_id}"),
    _gemini("/v1/models/{model_id}"),
    *(o for p in ("", "/v1") for o in _ollama(p)),
    *(o for p in ("/v1", "") for o in _media(p)),
    *(o for p in ("/v1", "") for o in _pinned(p)),
]  # fmt: skip
