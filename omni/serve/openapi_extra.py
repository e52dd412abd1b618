"""OpenAPI descriptions of the remaining management routes: the document itself, evals
and configuration sync (``omni/serve/routes/{openapi,evals,sync}.py``)."""

from __future__ import annotations

from typing import Any

from omni.serve.openapi_schemas import (
    ANY_OBJ,
    BOOL,
    INT,
    NUM,
    PUBLIC,
    STR,
    STRS,
    SYNC,
    WORD,
    Operation,
    Schema,
    arr,
    full,
    json_body,
    nullable,
    obj,
    op,
    query,
    ref,
)

_CONTAINS = {"anyOf": [{"type": "string", "minLength": 1},
                       {"type": "array", "items": {"type": "string", "minLength": 1},
                        "minItems": 1}]}  # fmt: skip
_CASE = obj(
    ["prompt", "expected"], closed=True,
    name=STR, prompt={"type": "string", "minLength": 1}, system=STR,
    max_tokens={"type": "integer", "minimum": 1},
    expected=obj(closed=True, exact=STR, contains=_CONTAINS, regex={"type": "string",
                 "minLength": 1}, ignore_case=BOOL),
)  # fmt: skip
_RUN_HEAD: dict[str, Any] = {
    "id": INT, "model": STR, "started_at": STR, "finished_at": STR, "total": INT,
    "passed": INT, "pass_rate": NUM, "latency_ms": nullable(NUM),
}  # fmt: skip
_SUITE_HEAD: dict[str, Any] = {
    "id": INT, "name": STR, "model": STR, "description": nullable(STR), "case_count": INT,
    "created_at": STR, "updated_at": STR,
}  # fmt: skip
_SECTION = full(added=STRS, changed=STRS, unchanged=STRS, kept=STRS)
_TOKEN = full(prefix=STR, withKeys=BOOL, created_at=STR, last_used_at=nullable(STR))

SCHEMAS: dict[str, Schema] = {
    "EvalCase": _CASE,
    "EvalRunSummary": full(**_RUN_HEAD),
    "EvalRun": full(
        **_RUN_HEAD, suite_id=INT,
        results=arr(full(index=INT, name=STR, passed=BOOL, latency_ms=NUM, output=STR,
                         error=nullable(STR),
                         checks=arr(full(check=STR, value=STR, passed=BOOL)))),
    ),
    "EvalSuite": full(**_SUITE_HEAD, cases=arr(ANY_OBJ), last_run=nullable(ref("EvalRun")),
                      runs=arr(ref("EvalRunSummary"))),
    "SyncBundle": obj(
        ["format", "etag", "with_keys", "providers", "combos", "aliases", "settings",
         "pricing"],
        format={"const": "omni-sync-v1"}, omni_version=STR, schema_version=INT, etag=STR,
        with_keys=BOOL, providers=arr(obj(["id", "format", "accounts"], id=STR, format=STR,
                                          accounts=arr(ANY_OBJ))),
        combos=arr(ANY_OBJ), aliases=arr(ANY_OBJ), settings=ANY_OBJ, pricing=ANY_OBJ,
    ),
}  # fmt: skip

_T_EVALS, _T_SYNC = "Evals", "Sync"
_SUITE = {"suite_id": {"type": "string", "description": "the suite's id or name"}}
OPERATIONS: list[Operation] = [
    # -- accounts, probes, usage history, coding tools, OAuth, the event stream -----------
    op("GET", "/api/accounts", "Every account of every provider", tag="Providers",
       ok=obj(["accounts"], accounts=arr(ANY_OBJ))),
    op("GET", "/api/providers/{provider_id}/accounts", "A provider's accounts",
       tag="Providers", ok=ANY_OBJ),
    op("POST", "/api/providers/{provider_id}/accounts", "Add an account to a provider",
       tag="Providers", status=201, ok=ANY_OBJ, body=json_body(ANY_OBJ)),
    op("DELETE", "/api/providers/{provider_id}/accounts/{account}", "Remove an account",
       tag="Providers", ok=ANY_OBJ),
    op("POST", "/api/models/test", "Send one tiny request to a model as the gateway would",
       tag="Models", ok=ANY_OBJ, body=json_body(ANY_OBJ)),
    op("POST", "/api/combos/{name}/test", "Send one tiny request through each combo step",
       tag="Combos", ok=ANY_OBJ, body=json_body(ANY_OBJ, required=False)),
    op("GET", "/api/usage/history", "Usage totals by day, provider, model or key",
       tag="Usage", ok=ANY_OBJ,
       params=[query("group", STR, "day | provider | model | key"),
               query("since", STR, "start (ISO date or e.g. 7d)"),
               query("until", STR, "end (ISO date)")]),
    op("GET", "/api/usage/{connection_id}", "What one provider account served", tag="Usage",
       ok=full(accountId=INT, provider=STR, account=STR, requests=INT, errors=INT,
               inputTokens=INT, outputTokens=INT, costUsd=NUM, lastUsed=nullable(NUM),
               byModel=arr(ANY_OBJ)),
       path_params={"connection_id": {"type": "string", "pattern": "^[0-9]{1,18}$"}}),
    op("GET", "/api/cli-tools", "Installed coding tools and where they point",
       tag="Coding tools", ok=ANY_OBJ),
    *(op("GET", f"/api/cli-tools/{tool}-settings", f"{tool}: its settings as omni sees them",
         tag="Coding tools", ok=ANY_OBJ)
      for tool in ("claude", "cline", "codex", "droid", "gemini", "openclaw", "opencode")),
    op("GET", "/api/cli-tools/runtime/{tool_id}", "Whether a coding tool can run",
       tag="Coding tools", ok=ANY_OBJ),
    op("POST", "/api/oauth/{provider}/{action}",
       "Sign a subscription in: authorize, exchange, device-code, poll, import",
       tag="Providers", ok=ANY_OBJ, body=json_body(ANY_OBJ, required=False)),
    op("GET", "/api/events", "Live request log and counters (server-sent events)",
       tag="Monitoring", content={"text/event-stream": {"schema": STR}},
       params=[query("interval", NUM, "seconds between stats events (0.2 to 60)")]),
    op("GET", "/api/openapi.json", "This document (OpenAPI 3.1)", tag="System",
       security=PUBLIC, ok={"type": "object", "required": ["openapi", "paths"]}),
    op("GET", "/api/evals", "List eval suites with their last run", tag=_T_EVALS,
       ok=full(suites=arr(full(**_SUITE_HEAD, last_run=nullable(ref("EvalRunSummary")))))),
    op("POST", "/api/evals", "Create an eval suite", tag=_T_EVALS, status=201,
       ok=ref("EvalSuite"),
       body=json_body(obj(["name", "model", "cases"], closed=True,
                          name={"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9._-]{0,63}$"},
                          model=WORD,
                          description=STR, cases=arr(ref("EvalCase"))))),
    op("GET", "/api/evals/{suite_id}", "A suite, its cases and its last results",
       tag=_T_EVALS, ok=ref("EvalSuite"), path_params=_SUITE),
    op("DELETE", "/api/evals/{suite_id}", "Remove a suite and its runs", tag=_T_EVALS,
       ok=full(**_SUITE_HEAD, removed=BOOL), path_params=_SUITE),
    op("POST", "/api/evals/{suite_id}/run", "Run a suite now through the gateway",
       tag=_T_EVALS, ok=ref("EvalRun"), path_params=_SUITE,
       body=json_body(obj(closed=True, model=STR), required=False,
                      description="model: run against this model instead of the suite's")),
    op("POST", "/api/sync/initialize", "Create or rotate the sync token (shown once)",
       tag=_T_SYNC, status=201, ok={"allOf": [_TOKEN, full(token=STR)]},
       body=json_body(obj(closed=True, withKeys=BOOL), required=False)),
    op("GET", "/api/sync/status", "The sync token and the last pull", tag=_T_SYNC,
       ok=full(token=nullable(_TOKEN), last_pull=nullable(obj(
           ["source", "etag", "pulled_at"], source=nullable(STR), etag=STR, pulled_at=STR)))),
    op("DELETE", "/api/sync/token", "Revoke the sync token", tag=_T_SYNC,
       ok=full(revoked=BOOL)),
    op("POST", "/api/sync/apply", "Merge a pulled bundle here (pulled wins; dryRun previews)",
       tag=_T_SYNC,
       body=json_body(obj(["bundle"], closed=True, bundle=ref("SyncBundle"), dryRun=BOOL,
                          source=STR)),
       ok=full(dry_run=BOOL, applied=BOOL, etag=STR, source=nullable(STR),
               providers=_SECTION, combos=_SECTION, aliases=_SECTION, settings=_SECTION,
               needs_key=arr(full(provider=STR, account=STR)), warnings=STRS)),
    *(
        op("GET", path, "The configuration bundle (ETag; 304 on If-None-Match)",
           tag=_T_SYNC, security=SYNC, ok=ref("SyncBundle"),
           params=[query("withKeys", BOOL, "include upstream keys (a token with that right)"),
                   {"name": "If-None-Match", "in": "header", "required": False,
                    "schema": STR}],
           responses={"304": {"description": "Unchanged since that ETag"}})
        for path in ("/api/sync/cloud", "/api/sync/bundle", "/api/cloud/bundle")
    ),
]  # fmt: skip
