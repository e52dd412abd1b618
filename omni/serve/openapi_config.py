"""OpenAPI descriptions of the management routes for settings, backups, usage and cost,
the cache, resilience, telemetry and the system (``omni/serve/routes/{settings,backups,
usage,cache,resilience,telemetry,monitoring,compliance,system}.py`` and the proxy setting
in ``provider_ops.py``)."""

from __future__ import annotations

from omni.serve.openapi_schemas import (
    ANY_OBJ,
    BOOL,
    INT,
    METRICS,
    NUM,
    PUBLIC,
    STR,
    STRS,
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

_SERIES = full(
    count=INT, errors=INT, p50_ms=nullable(NUM), p95_ms=nullable(NUM), p99_ms=nullable(NUM),
    ttft_p50_ms=nullable(NUM), ttft_p95_ms=nullable(NUM), input_tokens=INT, output_tokens=INT,
    cost_usd=NUM,
)  # fmt: skip
_COOLDOWN = full(account_id=INT, provider=STR, account=STR, cooling_s=NUM)

SCHEMAS: dict[str, Schema] = {
    "Backup": full(
        name=STR, size=INT, created=STR, reason=nullable(STR), schema_version=nullable(INT)
    ),
    "Replaced": obj(
        ["schema_version", "migrated", "backup_before"], schema_version=INT, migrated=STRS,
        backup_before=STR,
    ),
    "Budget": obj(
        ["keyId", "keyName", "limit", "period", "warnAt", "spent", "remaining",
         "periodStart", "resetsAt"],
        keyId=INT, keyName=nullable(STR), limit=NUM, period=STR, warnAt=NUM, spent=NUM,
        remaining=NUM, reserved=NUM, periodStart=NUM, resetsAt=NUM,
    ),
    "RequestLog": obj(
        ["id", "ts", "request_id", "endpoint", "status", "stream", "route"], id=INT, ts=NUM,
        request_id=STR, endpoint=STR, client_dialect=STR, requested_model=nullable(STR),
        provider_id=nullable(STR), account_id=nullable(INT), model=nullable(STR),
        stream=BOOL, status=INT, input_tokens=nullable(INT), output_tokens=nullable(INT),
        latency_ms=nullable(NUM), ttft_ms=nullable(NUM), error=nullable(STR),
        attempts=INT, combo=nullable(STR), cost_usd=nullable(NUM),
        api_key_id=nullable(INT),
        route=arr(full(provider=STR, account=STR, outcome=STR)),
    ),
    "CacheSettings": full(enabled=BOOL, ttl_s=NUM, max_entries=INT, max_mb=NUM),
    "IpFilter": full(mode=enum("off", "allow", "deny"), allow=STRS, deny=STRS),
    "ThinkingBudget": full(mode=enum("passthrough", "auto", "custom", "adaptive"), budget=INT),
    "SystemPrompt": full(enabled=BOOL, prompt=STR, position=enum("prefix", "suffix")),
    "GeneralSettings": obj(
        auto_backup=BOOL, backup_keep=INT, auto_backup_interval_min=INT
    ),
    "Resilience": full(
        settings=ANY_OBJ,
        profiles=map_of(full(failures=INT, open_s=NUM)),
        breakers=map_of(full(state=STR, failures=INT, retry_in_s=NUM)),
        cooldowns=arr(_COOLDOWN),
    ),
    "Prices": full(
        prices=map_of(obj(["input", "output", "source"], input=NUM, output=NUM,
                          cached_input=nullable(NUM), cache_write=nullable(NUM), source=STR)),
        overrides=ANY_OBJ,
    ),
}  # fmt: skip

_GENERAL_BODY = obj(
    closed=True,
    auto_backup=BOOL,
    backup_keep={"type": "integer", "minimum": 1, "maximum": 1000},
    auto_backup_interval_min={"type": "integer", "minimum": 0, "maximum": 10080},
)
_T_SET, _T_BACKUP, _T_USAGE, _T_MON, _T_SYS = (
    "Settings", "Backups", "Usage", "Monitoring", "System",
)  # fmt: skip


def _get_put(path: str, what: str, schema: Schema, body: Schema) -> list[Operation]:
    return [
        op("GET", path, f"The {what}", tag=_T_SET, ok=schema),
        op("PUT", path, f"Change the {what}", tag=_T_SET, ok=schema, body=json_body(body)),
    ]


SETTINGS: list[Operation] = [
    *_get_put("/api/settings", "general settings", ref("GeneralSettings"), _GENERAL_BODY),
    *_get_put("/api/settings/ip-filter", "IP filter (allow/deny CIDR lists)", ref("IpFilter"),
              obj(closed=True, mode=enum("off", "allow", "deny"), allow=STRS, deny=STRS)),
    *_get_put("/api/settings/thinking-budget", "thinking budget", ref("ThinkingBudget"),
              obj(closed=True, mode=enum("passthrough", "auto", "custom"),
                  budget={"type": "integer", "minimum": 0, "maximum": 1_000_000})),
    *_get_put("/api/settings/system-prompt", "system prompt added to every request",
              ref("SystemPrompt"), obj(closed=True, enabled=BOOL, prompt=STR)),
    op("GET", "/api/settings/proxy", "The global outbound proxy (password masked)",
       tag=_T_SET, ok=full(url=nullable(STR))),
    op("PUT", "/api/settings/proxy", "Set or clear (null) the global outbound proxy",
       tag=_T_SET, ok=full(url=nullable(STR)),
       body=json_body(obj(["url"], closed=True, url=nullable(STR)))),
    op("POST", "/api/settings/proxy/test", "Send one GET through a proxy", tag=_T_SET,
       body=json_body(obj(closed=True, url=STR, target=STR), required=False),
       ok=full(proxy=STR, target=STR, ok=BOOL, status=nullable(INT), latency_ms=NUM,
               error=nullable(STR))),
]  # fmt: skip

_SQLITE = {
    "application/vnd.sqlite3": {
        "schema": {"type": "string", "contentMediaType": "application/vnd.sqlite3"}
    }
}
_UPLOAD = {
    "required": True,
    "content": {
        "application/vnd.sqlite3": {"schema": {"type": "string"}},
        "application/octet-stream": {"schema": {"type": "string"}},
        "multipart/form-data": {"schema": obj(["file"], file={"type": "string"})},
    },
}  # fmt: skip
BACKUPS: list[Operation] = [
    op("GET", "/api/db-backups", "List backups", tag=_T_BACKUP,
       ok=full(backups=arr(ref("Backup")))),
    op("PUT", "/api/db-backups", "Take a backup now", tag=_T_BACKUP, status=201,
       ok=ref("Backup")),
    op("POST", "/api/db-backups", "Restore a backup (a pre-restore backup is taken first)",
       tag=_T_BACKUP, body=json_body(obj(closed=True, name=STR, backupId=STR)),
       ok={"allOf": [ref("Replaced"), full(restored=STR)]}),
    op("GET", "/api/db-backups/export", "Download a consistent .sqlite snapshot",
       tag=_T_BACKUP, content=_SQLITE),
    op("POST", "/api/db-backups/import", "Replace the database with an uploaded .sqlite",
       tag=_T_BACKUP, body=_UPLOAD,
       params=[query("name", STR, "a label for the upload (its file name)")],
       ok={"allOf": [ref("Replaced"), full(imported=STR)]},
       description="The file must be an omni database of a known schema version that "
       "passes integrity_check; anything else is refused and the live data is untouched."),
    op("GET", "/api/db-backups/exportAll", "Download the full export (.tar.gz, no secrets)",
       tag=_T_BACKUP, content={"application/gzip": {"schema": {"type": "string"}}}),
]  # fmt: skip

_INT_Q = {"type": "integer"}
USAGE: list[Operation] = [
    op("GET", "/api/usage/request-logs", "The request log, newest first", tag=_T_USAGE,
       params=[query("limit", {"type": "integer", "minimum": 1, "maximum": 1000},
                     "rows (1-1000, default 100)"),
               query("before", _INT_Q, "rows older than this id"),
               query("model", STR, "requested or served model"),
               query("provider", STR, "provider id"),
               query("failed", BOOL, "only failed requests")],
       ok=full(requests=arr(ref("RequestLog")))),
    op("GET", "/api/pricing", "Prices per model (catalog and overrides)", tag=_T_USAGE,
       ok=ref("Prices")),
    op("PUT", "/api/pricing", "Replace the price overrides", tag=_T_USAGE, ok=ref("Prices"),
       body=json_body(map_of(obj(["input", "output"], input=NUM, output=NUM,
                                 cached_input=NUM, cache_write=NUM)))),
    op("GET", "/api/usage/budget", "Spending limits per API key, with what is spent",
       tag=_T_USAGE, ok=full(budgets=arr(ref("Budget")))),
    op("POST", "/api/usage/budget", "Set a key's spending limit", tag=_T_USAGE,
       ok=ref("Budget"),
       body=json_body(obj(["keyId", "limit"], closed=True, keyId={"type": ["integer", "string"]},
                          limit={"type": "number", "minimum": 0},
                          period=enum("daily", "weekly", "monthly"),
                          warnAt={"type": "number", "exclusiveMinimum": 0, "maximum": 1}))),
    op("DELETE", "/api/usage/budget/{key_id}", "Remove a key's spending limit", tag=_T_USAGE,
       ok=full(keyId=INT, removed=BOOL)),
    op("GET", "/api/compliance/audit-log", "The audit log, newest first", tag=_T_USAGE,
       params=[query("action", STR, "action prefix, such as 'key.'"),
               query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "entries"),
               query("before", _INT_Q, "entries older than this id")],
       ok=full(next_before=nullable(INT), entries=arr(full(
           id=INT, ts=STR, actor=STR, action=STR, target=nullable(STR), ip=nullable(STR),
           outcome=STR, detail=ANY_OBJ)))),
]  # fmt: skip

MONITORING: list[Operation] = [
    op("GET", "/api/monitoring/health", "Liveness (no login needed)", tag=_T_MON,
       security=PUBLIC,
       ok=full(status=STR, version=STR, pid=INT, uptime_s=NUM, providers=INT,
               config_version=INT)),
    op("GET", "/api/telemetry/summary", "Counts, latency percentiles, tokens and cost",
       tag=_T_MON, ok=full(since=NUM, providers=map_of(_SERIES), models=map_of(_SERIES))),
    op("GET", "/metrics", "Prometheus metrics (admin token needed off loopback)", tag=_T_MON,
       security=METRICS, content={"text/plain": {"schema": STR}}),
    op("GET", "/api/cache", "Response cache statistics", tag=_T_MON,
       ok=obj(["semanticCache", "idempotency"],
              semanticCache=full(memorySize=INT, memoryMaxSize=INT, dbSize=INT, hitRate=NUM),
              idempotency=full(activeKeys=INT, windowMs=INT), exact=ANY_OBJ)),
    op("DELETE", "/api/cache", "Forget every cached answer", tag=_T_MON,
       ok=full(cleared=INT)),
    op("GET", "/api/cache/settings", "Response cache settings", tag=_T_MON,
       ok=ref("CacheSettings")),
    op("PUT", "/api/cache/settings", "Change response cache settings", tag=_T_MON,
       ok=ref("CacheSettings"),
       body=json_body(obj(closed=True, enabled=BOOL, semantic=ANY_OBJ,
                          ttl_s={"type": "number", "exclusiveMinimum": 0},
                          max_entries={"type": "integer", "minimum": 1},
                          max_mb={"type": "number", "exclusiveMinimum": 0}))),
    op("GET", "/api/resilience", "Breakers, cooldowns and the resilience policy", tag=_T_MON,
       ok=ref("Resilience")),
    op("PUT", "/api/resilience", "Replace the resilience policy", tag=_T_MON,
       ok=ref("Resilience"), body=json_body(ANY_OBJ)),
    op("POST", "/api/resilience/reset", "Close every breaker, end every cooldown",
       tag=_T_MON, ok=full(reset=BOOL)),
    op("GET", "/api/rate-limit", "The operator caps policy", tag=_T_MON, ok=ANY_OBJ),
    op("PUT", "/api/rate-limit", "Replace the operator caps policy", tag=_T_MON, ok=ANY_OBJ,
       body=json_body(ANY_OBJ)),
    op("GET", "/api/rate-limits", "Caps in use, cooldowns and the queue", tag=_T_MON,
       ok=full(cooldowns=arr(_COOLDOWN), queue=full(waiting=INT, depth=INT, wait_s=NUM),
               caps=arr(full(scope=STR, rpm=nullable(INT), tpm=nullable(INT),
                             concurrency=nullable(INT), requests_last_minute=INT,
                             tokens_last_minute=INT, in_flight=INT)))),
    op("GET", "/api/sessions", "Active conversations, their use and pinned account",
       tag=_T_MON,
       ok=full(sessions=arr(full(
           session=STR, keyId=nullable(INT), model=STR, requests=INT, tokens=INT,
           costUsd=NUM, firstSeen=NUM, lastSeen=NUM,
           pinned=arr(full(session=STR, provider=STR, account_id=INT, expires_in_s=INT)))))),
    op("GET", "/api/route/explain", "How a model would be routed now", tag=_T_MON,
       params=[query("model", {"type": "string", "minLength": 1}, "the model", required=True)],
       ok=full(model=STR, combo=nullable(STR), error=nullable(STR), targets=arr(full(
           provider=STR, account=STR, model=STR, format=STR, base_url=STR, status=STR)))),
]  # fmt: skip

SYSTEM: list[Operation] = [
    op("GET", "/api/init", "First-run state", tag=_T_SYS,
       ok=full(version=STR, data_dir=STR, has_password=BOOL, providers=INT, combos=INT,
               first_run=BOOL, started_at=NUM)),
    op("POST", "/api/shutdown", "Stop gracefully (in-flight requests finish)", tag=_T_SYS,
       status=202, ok=full(status={"const": "stopping"})),
    op("POST", "/api/restart", "Restart gracefully on the same address", tag=_T_SYS,
       status=202, ok=full(status={"const": "restarting"})),
]  # fmt: skip

OPERATIONS: list[Operation] = [*SETTINGS, *BACKUPS, *USAGE, *MONITORING, *SYSTEM]
