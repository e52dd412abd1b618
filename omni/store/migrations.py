"""Append-only schema migrations, tracked in ``schema_migrations``.

Never edit a migration that has shipped: add ``m00N_…`` at the end of :data:`MIGRATIONS`.
Each runs in its own transaction. A database whose newest migration is unknown to this
version of omni was written by a newer omni and is refused rather than touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from omni.errors import StoreError
from omni.store.driver import Connection

# Tables whose changes the server must notice (written by the CLI in another process).
CONFIG_TABLES = ("providers", "accounts", "provider_models")  # as of m001


def _version_triggers(table: str) -> str:
    bump = "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'config_version';"
    return "\n".join(
        f"CREATE TRIGGER {table}_{op.lower()}_version AFTER {op} ON {table} BEGIN {bump} END;"
        for op in ("INSERT", "UPDATE", "DELETE")
    )


M001_INITIAL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('config_version', '0');

-- A provider clients address as '<id>/<model>': a catalog provider or a custom one.
CREATE TABLE providers (
    id          TEXT PRIMARY KEY,
    catalog_id  TEXT,                      -- catalog entry it uses; NULL for a custom provider
    format      TEXT NOT NULL,             -- wire format: openai|responses|anthropic|gemini|ollama
    base_url    TEXT,                      -- NULL: the catalog's (or config's) base URL
    headers     TEXT NOT NULL DEFAULT '{}',
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Credentials for a provider; several per provider.
CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    provider_id TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    auth_type   TEXT NOT NULL DEFAULT 'api_key',   -- api_key | env | none
    secret      TEXT,                      -- encrypted ('enc:v1:…'), never plain text
    secret_env  TEXT,                      -- environment variable that holds the key
    base_url    TEXT,                      -- per-account override
    priority    INTEGER NOT NULL DEFAULT 0,
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (provider_id, name)
);

-- Models a provider serves (synced from its /models or added by the user).
CREATE TABLE provider_models (
    provider_id TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    model_id    TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT 'sync',      -- sync | user
    created_at  TEXT NOT NULL,
    PRIMARY KEY (provider_id, model_id)
) WITHOUT ROWID;

-- One row per request the gateway answered, success or failure.
CREATE TABLE usage_log (
    id                 INTEGER PRIMARY KEY,
    ts                 REAL NOT NULL,           -- unix seconds when the request arrived
    request_id         TEXT NOT NULL,
    endpoint           TEXT NOT NULL,
    client_dialect     TEXT NOT NULL,
    requested_model    TEXT,
    provider_id        TEXT,
    account_id         INTEGER,
    model              TEXT,
    stream             INTEGER NOT NULL DEFAULT 0,
    status             INTEGER NOT NULL,
    input_tokens       INTEGER,
    output_tokens      INTEGER,
    cache_read_tokens  INTEGER,
    cache_write_tokens INTEGER,
    reasoning_tokens   INTEGER,
    latency_ms         REAL,
    ttft_ms            REAL,
    error              TEXT
);
CREATE INDEX usage_log_ts ON usage_log (ts);
""" + "\n".join(_version_triggers(t) for t in CONFIG_TABLES)


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: a numeric id, a name and SQL (or a function for data moves)."""

    id: int
    name: str
    sql: str | Callable[[Connection], None]


M002_COMBOS = """
-- Named fallback chains: clients ask for the combo's name as the model.
CREATE TABLE combos (
    name        TEXT PRIMARY KEY,
    strategy    TEXT NOT NULL DEFAULT 'priority',
    steps       TEXT NOT NULL,             -- JSON array of targets, in order
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
-- How many targets a request tried, the combo it asked for, and (when anything was
-- skipped or failed) the route taken: JSON [[provider, account, outcome], ...].
ALTER TABLE usage_log ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE usage_log ADD COLUMN combo TEXT;
ALTER TABLE usage_log ADD COLUMN route TEXT;
""" + _version_triggers("combos")

M003_SETTINGS = """
-- Settings changed at run time through the API (JSON values), e.g. 'require_login'.
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,             -- JSON
    updated_at  TEXT NOT NULL
);
-- Every management action: who did what to which object, from where, and how it went.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    ts          TEXT NOT NULL,
    actor       TEXT NOT NULL,             -- 'admin', 'cli', 'key:<prefix>', 'anonymous'
    action      TEXT NOT NULL,             -- e.g. 'login', 'key.create', 'provider.remove'
    target      TEXT,
    ip          TEXT,
    outcome     TEXT NOT NULL,             -- 'ok' | 'failed' | 'denied'
    detail      TEXT                       -- JSON, never a secret
);
CREATE INDEX audit_log_ts ON audit_log (ts);
-- Provider circuit breakers that were open, so a restart does not hammer a sick provider.
CREATE TABLE breaker_state (
    provider_id TEXT PRIMARY KEY,
    failures    INTEGER NOT NULL,
    open_until  REAL NOT NULL              -- Unix time
);
""" + _version_triggers("settings")

M004_API_KEYS = """
-- Local API keys clients send to /v1/*: only a SHA-256 hash and a display prefix are kept.
CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL,             -- the key's first characters, for display
    key_hash    TEXT NOT NULL UNIQUE,      -- hex SHA-256 of the whole key
    scopes      TEXT NOT NULL,             -- JSON array: 'chat', 'admin'
    models      TEXT NOT NULL DEFAULT '[]',-- JSON array of glob patterns; empty: every model
    expires_at  TEXT,                      -- ISO 8601 UTC; NULL: never
    enabled     INTEGER NOT NULL DEFAULT 1,
    revoked_at  TEXT,                      -- set once, never cleared
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
-- The key a request authenticated with (last use of a key is read from here).
ALTER TABLE usage_log ADD COLUMN api_key_id INTEGER;
CREATE INDEX usage_log_api_key ON usage_log (api_key_id, ts) WHERE api_key_id IS NOT NULL;
-- Failed admin logins per client address, and the lockout they led to.
CREATE TABLE login_lockouts (
    ip              TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    first_failed_at REAL NOT NULL,         -- Unix time; the window starts here
    last_failed_at  REAL NOT NULL,
    locked_until    REAL                   -- Unix time; NULL: not locked
);
""" + _version_triggers("api_keys")

M005_ALIASES_NODES = """
-- User model aliases: an exact model name or a glob pattern ('claude-*') and the model
-- string it stands for ('anthropic/claude-*': a '*' takes what the pattern matched).
CREATE TABLE model_aliases (
    alias       TEXT PRIMARY KEY,
    target      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
-- Custom provider nodes are providers (catalog_id NULL) marked node = 1; any custom
-- provider may override the chat path and the model-list path under its base URL.
ALTER TABLE providers ADD COLUMN node INTEGER NOT NULL DEFAULT 0;
ALTER TABLE providers ADD COLUMN chat_path TEXT;
ALTER TABLE providers ADD COLUMN models_path TEXT;
-- Outbound HTTP proxy for a provider and for one account (encrypted when it holds a
-- password); the global one is the setting 'proxy'.
ALTER TABLE providers ADD COLUMN proxy TEXT;
ALTER TABLE accounts ADD COLUMN proxy TEXT;
""" + _version_triggers("model_aliases")

M007_COMBO_CONFIG = """
-- A combo's options: retries, first-byte timeout, attempt cap, per-step weight/account/...
ALTER TABLE combos ADD COLUMN config TEXT NOT NULL DEFAULT '{}';
"""

M008_COST = """
-- What each request cost at list prices (NULL: the model's price is unknown).
ALTER TABLE usage_log ADD COLUMN cost_usd REAL;
"""

M012_BUDGETS = """
-- Spending limits per API key and period (USD at list prices).
CREATE TABLE budgets (
    key_id      INTEGER PRIMARY KEY REFERENCES api_keys(id) ON DELETE CASCADE,
    limit_usd   REAL NOT NULL,
    period      TEXT NOT NULL,             -- daily | weekly | monthly (UTC)
    warn_at     REAL NOT NULL DEFAULT 0.8, -- fraction of the limit that raises a warning
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
""" + _version_triggers("budgets")

M013_RESPONSE_CACHE = """
-- Whole answers kept for identical deterministic requests (the exact cache's store tier).
CREATE TABLE response_cache (
    key         TEXT PRIMARY KEY,          -- hash of dialect, API key and normalised request
    body        BLOB NOT NULL,             -- the answer as the client's dialect writes it
    provider    TEXT NOT NULL,
    model       TEXT NOT NULL,
    cost        REAL,                      -- what it cost when it was made (USD)
    created     REAL NOT NULL,
    expires     REAL NOT NULL
);
CREATE INDEX response_cache_expires ON response_cache (expires);
"""

M016_USAGE_DAILY = """
-- Usage older than the retention window, summed per UTC day (usage_log stays bounded).
CREATE TABLE usage_daily (
    day             TEXT NOT NULL,         -- YYYY-MM-DD (UTC)
    provider_id     TEXT NOT NULL DEFAULT '',
    model           TEXT NOT NULL DEFAULT '',
    api_key_id      INTEGER NOT NULL DEFAULT 0,
    requests        INTEGER NOT NULL,
    errors          INTEGER NOT NULL,
    input_tokens    INTEGER NOT NULL,
    output_tokens   INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    cost_usd        REAL NOT NULL,
    PRIMARY KEY (day, provider_id, model, api_key_id)
);
"""

M009_OAUTH = """
-- Subscription accounts signed in with OAuth (auth_type 'oauth'): 'secret' holds the
-- encrypted credential (JSON: access and refresh tokens, expiry, provider data); these
-- columns can be read without the key (listings, the refresh schedule).
ALTER TABLE accounts ADD COLUMN expires_at REAL;        -- the access token's expiry, Unix time
ALTER TABLE accounts ADD COLUMN login_state TEXT;       -- NULL: usable; 'needs_login'
ALTER TABLE accounts ADD COLUMN login_error TEXT;       -- why it needs a new login
ALTER TABLE accounts ADD COLUMN source TEXT;            -- 'login' or 'import:<tool>'
"""

M017_SESSION = """
-- The conversation a request belonged to, as its client named it (Codex prompt_cache_key,
-- Claude Code metadata.user_id, OpenAI user), for the sessions view.
ALTER TABLE usage_log ADD COLUMN session TEXT;
"""

M015_SEMANTIC_CACHE = """
-- The semantic cache: an embedding of each kept prompt (float32, sqlite-vec's vector form)
-- beside the key of its answer in response_cache; it goes when that answer goes.
CREATE TABLE semantic_cache (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL REFERENCES response_cache(key) ON DELETE CASCADE,
    namespace   TEXT NOT NULL,             -- the API key's id ('-' without a key)
    model       TEXT NOT NULL,             -- the model or combo the client asked for
    dialect     TEXT NOT NULL,             -- the client's dialect (the answer is written in it)
    shape       TEXT NOT NULL,             -- hash of the request's parameters but the prompt
    source      TEXT NOT NULL,             -- the embedder that made the vector
    dims        INTEGER NOT NULL,
    embedding   BLOB NOT NULL,
    created     REAL NOT NULL,
    expires     REAL NOT NULL,
    UNIQUE (key, source)
);
CREATE INDEX semantic_cache_partition
    ON semantic_cache (namespace, model, dialect, shape, source, expires);

"""

M014_EVALS_SYNC = """
-- Eval suites: cases (JSON [{name, prompt, system, expected: {exact|contains|regex}}])
-- run against a model or combo through the gateway; each run keeps its per-case results.
CREATE TABLE eval_suites (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    model       TEXT NOT NULL,             -- model string, combo or alias it runs against
    description TEXT,
    cases       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE TABLE eval_runs (
    id          INTEGER PRIMARY KEY,
    suite_id    INTEGER NOT NULL REFERENCES eval_suites(id) ON DELETE CASCADE,
    model       TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    total       INTEGER NOT NULL,
    passed      INTEGER NOT NULL,
    pass_rate   REAL NOT NULL,             -- passed / total, 0..1
    latency_ms  REAL,                      -- mean over the cases that got an answer
    results     TEXT NOT NULL              -- JSON, one object per case
);
CREATE INDEX eval_runs_suite ON eval_runs (suite_id, id);
-- The token another omni pulls this one's configuration bundle with (stored as a hash).
CREATE TABLE sync_tokens (
    id           INTEGER PRIMARY KEY,
    prefix       TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,     -- hex SHA-256 of the whole token
    with_keys    INTEGER NOT NULL DEFAULT 0,  -- 1: may pull upstream keys (secrets) too
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
"""

M018_LOGIN_SESSIONS = """
-- Admin login sessions, shared by every server process and kept across restarts. Only the
-- token's hash is stored; a backup restore keeps the live rows (see admin/backups.py) and
-- the full export empties the table.
CREATE TABLE login_sessions (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,      -- hex SHA-256 of the session token
    ip          TEXT,                      -- the address that logged in
    created_at  REAL NOT NULL,             -- Unix time
    expires_at  REAL NOT NULL              -- Unix time; purged after it
);
CREATE INDEX login_sessions_expiry ON login_sessions (expires_at);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "m001_initial", M001_INITIAL),
    Migration(2, "m002_combos_and_attempts", M002_COMBOS),
    Migration(3, "m003_settings_audit_breakers", M003_SETTINGS),
    Migration(4, "m004_api_keys_and_lockouts", M004_API_KEYS),
    Migration(5, "m005_aliases_nodes", M005_ALIASES_NODES),
    Migration(7, "m007_combo_config", M007_COMBO_CONFIG),
    Migration(8, "m008_usage_cost", M008_COST),
    Migration(9, "m009_oauth_accounts", M009_OAUTH),
    Migration(12, "m012_budgets", M012_BUDGETS),
    Migration(13, "m013_response_cache", M013_RESPONSE_CACHE),
    Migration(14, "m014_evals_sync", M014_EVALS_SYNC),
    Migration(15, "m015_semantic_cache", M015_SEMANTIC_CACHE),
    Migration(16, "m016_usage_daily", M016_USAGE_DAILY),
    Migration(17, "m017_usage_session", M017_SESSION),
    Migration(18, "m018_login_sessions", M018_LOGIN_SESSIONS),
)
LATEST = MIGRATIONS[-1].id


def applied_ids(conn: Connection) -> set[int]:
    """Ids of the migrations already applied (empty for a new database)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    return {int(row[0]) for row in conn.execute("SELECT id FROM schema_migrations")}


def pending(conn: Connection) -> list[Migration]:
    """Migrations still to run; refuses a database written by a newer omni."""
    done = applied_ids(conn)
    if done and max(done) > LATEST:
        raise StoreError(
            f"the database has schema version {max(done)}, newer than this omni knows ({LATEST})",
            hint="upgrade omni, or point OMNI_HOME at another data folder",
        )
    return [m for m in MIGRATIONS if m.id not in done]


def migrate(conn: Connection) -> list[str]:
    """Apply every pending migration, each in its own transaction; return their names."""
    names = []
    for migration in pending(conn):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if callable(migration.sql):
                migration.sql(conn)
            else:
                for statement in _statements(migration.sql):
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)",
                (migration.id, migration.name, datetime.now(UTC).isoformat()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        names.append(migration.name)
    return names


def _statements(sql: str) -> list[str]:
    """Split a script into statements, keeping trigger bodies whole."""
    from omni.store.driver import sqlite

    statements, current = [], ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
