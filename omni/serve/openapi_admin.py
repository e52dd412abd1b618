"""OpenAPI descriptions of the management routes for providers, provider nodes, models,
aliases, combos, API keys and login (``omni/serve/routes/{providers,provider_ops,models,
combos,api_keys,auth}.py``); the answers are the services' dictionaries in
``omni/admin/``."""

from __future__ import annotations

from typing import Any

from omni.serve.openapi_schemas import (
    ANY_OBJ,
    BOOL,
    INT,
    NAME,
    NUM,
    PUBLIC,
    STR,
    STRS,
    WORD,
    WORDS,
    Operation,
    Schema,
    arr,
    enum,
    full,
    json_body,
    map_of,
    nullable,
    obj,
    op,
    query,
    ref,
)

_WARNINGS: dict[str, Any] = {"warnings": STRS}
_PRICE = full(input=NUM, output=NUM, cached_input=nullable(NUM), cache_write=nullable(NUM))
_MODEL_INFO: dict[str, Any] = {
    "context": nullable(INT),
    "max_output": nullable(INT),
    "price": nullable(_PRICE),
    "capabilities": STRS,
    "unsupported": STRS,
}

SCHEMAS: dict[str, Schema] = {
    "Account": full(
        id=INT, name=STR, auth=STR, enabled=BOOL, priority=INT, proxy=nullable(STR),
        created_at=STR,
    ),
    "Provider": full(
        id=STR, catalog_id=nullable(STR), format=STR, base_url=nullable(STR), enabled=BOOL,
        node=BOOL, headers=map_of(STR), chat_path=nullable(STR), models_path=nullable(STR),
        proxy=nullable(STR), accounts=arr(ref("Account")), models=STRS, created_at=STR,
    ),
    "ProviderAdded": {"allOf": [ref("Provider"), full(**_WARNINGS)]},
    "Combo": full(
        name=STR, strategy=STR, steps=STRS, config=ANY_OBJ, created_at=STR, updated_at=STR
    ),
    "Alias": full(alias=STR, target=STR, pattern=BOOL, created_at=STR, updated_at=STR),
    "ApiKey": full(
        id=INT, name=STR, prefix=STR, scopes=STRS, models=STRS, expires_at=nullable(STR),
        enabled=BOOL, revoked=BOOL, revoked_at=nullable(STR),
        status=enum("active", "disabled", "expired", "revoked"), created_at=STR,
        updated_at=STR, last_used_at=nullable(STR),
    ),
    "ConfiguredModel": obj(
        ["id", "kind"], id=STR, kind=enum("model", "combo", "alias", "catalog"), provider=STR,
        model=STR, source=STR, enabled=BOOL, configured=BOOL, steps=STRS, target=STR,
        **_MODEL_INFO,
    ),
    "CustomModel": obj(["provider", "model", "id"], provider=STR, model=STR, id=STR,
                       source=STR),
    "CheckResult": full(ok=BOOL, status=nullable(INT), latency_ms=NUM, error=nullable(STR)),
    "Lockout": full(
        ip=STR, failures=INT, locked=BOOL, locked_until=nullable(NUM), retry_after=INT,
        first_failed_at=NUM, last_failed_at=NUM,
    ),
}  # fmt: skip

_PROVIDER_EDIT = obj(
    closed=True,
    base_url=STR,
    headers=map_of(STR),
    enabled=BOOL,
    proxy=STR,
    chat_path=STR,
    models_path=STR,
)
_NODE = obj(
    ["prefix", "base_url"],
    closed=True,
    prefix=NAME,
    base_url=STR,
    format=enum("openai", "anthropic"),
    chat_path=STR,
    models_path=STR,
    headers=map_of(STR),
    api_key=STR,
    api_key_env=STR,
    models=STRS,
    proxy=STR,
    sync_models=BOOL,
)
_KEY_FIELDS: dict[str, Any] = {
    "name": STR,
    "models": STRS,
    "scopes": arr(enum("chat", "admin")),
    "expires_at": {"type": "string", "description": "30d, 12h, 2w, 90m, an ISO date, or never"},
}
_CHECK = {"allOf": [ref("CheckResult"), obj(["provider", "account", "model"], provider=STR,
                                             account=STR, model=STR)]}  # fmt: skip
_PROVIDER = ref("Provider")
_T_PROV, _T_MODELS, _T_COMBOS, _T_KEYS, _T_AUTH = (
    "Providers", "Models", "Combos", "API keys", "Auth",
)  # fmt: skip

PROVIDERS: list[Operation] = [
    op("GET", "/api/providers", "List providers", tag=_T_PROV,
       ok=full(providers=arr(_PROVIDER))),
    op("POST", "/api/providers", "Add a provider account (catalog id or custom with base_url)",
       tag=_T_PROV, status=201, ok=ref("ProviderAdded"),
       body=json_body(obj(["name"], closed=True, name=NAME, base_url=STR, api_key=STR,
                          api_key_env=STR, format=STR, account=NAME, models=WORDS,
                          sync_models=BOOL))),
    op("GET", "/api/providers/{provider_id}", "Show a provider", tag=_T_PROV, ok=_PROVIDER),
    op("PUT", "/api/providers/{provider_id}", "Edit a provider ('' clears a field)",
       tag=_T_PROV, ok=_PROVIDER, body=json_body(_PROVIDER_EDIT)),
    op("DELETE", "/api/providers/{provider_id}", "Remove a provider and its accounts",
       tag=_T_PROV, ok=_PROVIDER),
    op("PUT", "/api/providers/{provider_id}/accounts/{account}", "Edit one account",
       tag=_T_PROV, ok=_PROVIDER,
       body=json_body(obj(closed=True, proxy=STR, enabled=BOOL, base_url=STR, priority=INT))),
    op("POST", "/api/providers/{provider_id}/test", "Send one tiny chat request through it",
       tag=_T_PROV, ok=_CHECK,
       body=json_body(obj(closed=True, account=STR, model=STR), required=False)),
    op("GET", "/api/providers/{provider_id}/models", "The provider's models", tag=_T_PROV,
       params=[query("refresh", BOOL, "re-read the upstream's model list first")],
       ok=full(provider=STR, warnings=STRS, models=arr(full(
           id=STR, source=STR, context=nullable(INT), max_output=nullable(INT))))),
    op("POST", "/api/providers/validate", "Check a key and base URL before saving them",
       tag=_T_PROV, body=json_body(obj(closed=True, provider=STR, base_url=STR, api_key=STR,
                                       format=STR, headers=map_of(STR), models_path=STR)),
       ok=full(valid=BOOL, base_url=STR, format=STR, latency_ms=NUM, models=STRS)),
    op("GET", "/api/provider-nodes", "List custom provider nodes", tag=_T_PROV,
       ok=full(nodes=arr(_PROVIDER))),
    op("POST", "/api/provider-nodes", "Create a node (OpenAI- or Anthropic-compatible)",
       tag=_T_PROV, status=201, ok=ref("ProviderAdded"), body=json_body(_NODE)),
    op("GET", "/api/provider-nodes/{node_id}", "Show a node", tag=_T_PROV, ok=_PROVIDER),
    op("PUT", "/api/provider-nodes/{node_id}", "Edit a node", tag=_T_PROV, ok=_PROVIDER,
       body=json_body(_PROVIDER_EDIT)),
    op("DELETE", "/api/provider-nodes/{node_id}", "Remove a node", tag=_T_PROV, ok=_PROVIDER),
]  # fmt: skip

_CATALOG_PROVIDER = full(
    id=STR, name=STR, alias=STR, format=STR, base_url=STR, auth=STR, local=BOOL,
    docs=nullable(STR), models=arr(obj(["id", "context", "max_output", "price"], id=STR,
                                       **_MODEL_INFO)),
)  # fmt: skip

MODELS: list[Operation] = [
    op("GET", "/api/models", "Every model string a client may ask for", tag=_T_MODELS,
       ok=full(models=arr(ref("ConfiguredModel")))),
    op("GET", "/api/models/info", "One model: configured or from the catalog", tag=_T_MODELS,
       params=[query("id", STR, "provider/model, a combo or an alias", required=True)],
       ok=ref("ConfiguredModel")),
    op("GET", "/api/models/catalog", "The bundled provider and model catalog", tag=_T_MODELS,
       params=[query("provider", STR, "only this catalog provider")],
       ok=full(providers=arr(_CATALOG_PROVIDER))),
    op("GET", "/api/models/alias", "List model aliases", tag=_T_MODELS,
       ok=full(aliases=arr(ref("Alias")))),
    op("POST", "/api/models/alias", "Create or change an alias (a name or glob pattern)",
       tag=_T_MODELS, status=201, ok={"allOf": [ref("Alias"), full(**_WARNINGS)]},
       body=json_body(obj(["alias", "target"], closed=True, alias=WORD, target=WORD))),
    op("DELETE", "/api/models/alias/{alias}", "Remove an alias", tag=_T_MODELS,
       ok=ref("Alias"), path_params={"alias": {"type": "string", "pattern": "^.+$"}}),
    op("GET", "/api/models/availability", "Which configured models can be served now",
       tag=_T_MODELS, ok=full(available=INT, unavailable=INT, models=arr(full(
           id=STR, provider=STR, available=BOOL, reason=nullable(STR))))),
    op("POST", "/api/models/availability", "Check models with one real request each",
       tag=_T_MODELS,
       body=json_body(obj(closed=True, model=STR, models={**STRS, "maxItems": 20})),
       ok=full(results=arr({"allOf": [_CHECK, obj(["id", "available"], id=STR,
                                                   available=BOOL)]}))),
    op("GET", "/api/provider-models", "List custom models", tag=_T_MODELS,
       params=[query("provider", STR, "only this provider's")],
       ok=full(models=arr(ref("CustomModel")))),
    op("POST", "/api/provider-models", "Add custom models to a provider", tag=_T_MODELS,
       status=201, ok=full(models=arr(ref("CustomModel"))),
       body=json_body(obj(["provider"], closed=True, provider=STR, model=STR, models=STRS))),
    op("DELETE", "/api/provider-models", "Remove a custom model", tag=_T_MODELS,
       params=[query("provider", STR, "the provider", required=True),
               query("model", STR, "the model id", required=True)],
       ok=full(provider=STR, model=STR, id=STR)),
]  # fmt: skip

_COMBO = ref("Combo")
COMBOS: list[Operation] = [
    op("GET", "/api/combos", "List combos", tag=_T_COMBOS, ok=full(combos=arr(_COMBO))),
    op("POST", "/api/combos", "Create a combo (a named fallback chain)", tag=_T_COMBOS,
       status=201, ok=_COMBO,
       body=json_body(obj(["name", "steps"], closed=True, name=NAME, steps=WORDS, strategy=STR,
                          config=ANY_OBJ))),
    op("GET", "/api/combos/{name}", "Show a combo", tag=_T_COMBOS, ok=_COMBO),
    op("PUT", "/api/combos/{name}", "Edit a combo", tag=_T_COMBOS, ok=_COMBO,
       body=json_body(obj(closed=True, steps=WORDS, strategy=STR, config=ANY_OBJ))),
    op("DELETE", "/api/combos/{name}", "Remove a combo", tag=_T_COMBOS, ok=_COMBO),
]  # fmt: skip

_KEY = ref("ApiKey")
_KEY_EDIT = json_body(obj(closed=True, enabled=BOOL, **_KEY_FIELDS))
KEYS: list[Operation] = [
    op("GET", "/api/keys", "List API keys (never the keys themselves)", tag=_T_KEYS,
       ok=full(keys=arr(_KEY))),
    op("POST", "/api/keys", "Create an API key (the key is in this answer only)", tag=_T_KEYS,
       status=201, ok={"allOf": [_KEY, full(key=STR)]},
       body=json_body(obj(["name"], closed=True, **_KEY_FIELDS))),
    op("GET", "/api/keys/{key_id}", "Show an API key", tag=_T_KEYS, ok=_KEY),
    op("PATCH", "/api/keys/{key_id}", "Edit an API key", tag=_T_KEYS, ok=_KEY, body=_KEY_EDIT),
    op("PUT", "/api/keys/{key_id}", "Edit an API key", tag=_T_KEYS, ok=_KEY, body=_KEY_EDIT),
    op("DELETE", "/api/keys/{key_id}", "Revoke an API key for good", tag=_T_KEYS, ok=_KEY),
]  # fmt: skip

_LOGIN_VIEW = full(requireLogin=BOOL, anonymousLoopback=BOOL, note=nullable(STR))
_KEY_VIEW = full(requireApiKey=BOOL, setting=BOOL, config=BOOL)
AUTH: list[Operation] = [
    op("POST", "/api/auth/login", "Log in: sets the auth_token cookie", tag=_T_AUTH,
       security=PUBLIC, body=json_body(obj(["password"], closed=True, password=STR)),
       ok=full(authenticated={"const": True}, token=STR, expires_at=STR),
       description="Five failures from one address within 15 minutes lock it out for 15 "
       "minutes (429 with Retry-After)."),
    op("POST", "/api/auth/logout", "End the session", tag=_T_AUTH, security=PUBLIC,
       ok=full(authenticated={"const": False}, ended=BOOL)),
    op("GET", "/api/auth/status", "Whether this caller is logged in", tag=_T_AUTH,
       security=PUBLIC, ok=full(authenticated=BOOL, method=nullable(STR), access=BOOL,
                                requireLogin=BOOL, passwordSet=BOOL, loopbackListener=BOOL)),
    op("POST", "/api/auth/password", "Set the admin password", tag=_T_AUTH,
       body=json_body(obj(["password"], closed=True, password={**STR, "minLength": 8},
                          current=STR)),
       ok=full(passwordSet={"const": True})),
    op("GET", "/api/settings/require-login", "The require-login toggle", tag=_T_AUTH,
       ok=_LOGIN_VIEW),
    op("PUT", "/api/settings/require-login", "Set the require-login toggle", tag=_T_AUTH,
       ok=_LOGIN_VIEW, body=json_body(obj(["requireLogin"], closed=True, requireLogin=BOOL))),
    op("GET", "/api/settings/require-api-key", "The require-API-key toggle", tag=_T_AUTH,
       ok=_KEY_VIEW),
    op("PUT", "/api/settings/require-api-key", "Set the require-API-key toggle", tag=_T_AUTH,
       ok=_KEY_VIEW,
       body=json_body(obj(["requireApiKey"], closed=True, requireApiKey=BOOL))),
    op("GET", "/api/policies", "Addresses with failed logins, and their lockouts",
       tag=_T_AUTH, ok=full(lockouts=arr(ref("Lockout")))),
    op("DELETE", "/api/policies/{ip}", "Clear an address's failed logins", tag=_T_AUTH,
       ok=full(ip=STR, unlocked={"const": True})),
]  # fmt: skip

OPERATIONS: list[Operation] = [*PROVIDERS, *MODELS, *COMBOS, *KEYS, *AUTH]
