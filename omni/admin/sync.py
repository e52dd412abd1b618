"""Configuration sync between omni instances.

One instance creates a sync token (``POST /api/sync/initialize``; ``with_keys`` lets the
token pull upstream secrets too) and serves its bundle (:mod:`omni.admin.sync_bundle`) to
whoever presents it. Another pulls the bundle and applies it here with :meth:`SyncService.
apply`: a merge where the pulled side wins every conflict (same provider, account, combo,
alias or setting), local-only entries are kept, and a dry run reports the same plan
without writing. Everything pulled is validated as if a user had typed it; one bad entry
refuses the whole bundle and nothing changes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets as random
from datetime import UTC, datetime
from typing import Any

from omni.admin import AdminContext
from omni.admin.combos import _check_graph, _check_steps, _check_strategy
from omni.admin.providers import check_api_key, check_headers, check_path, guard_url, seal_proxy
from omni.admin.sync_bundle import FORMAT, PRICING, SETTINGS, content, etag_of
from omni.errors import InvalidInputError
from omni.gateway.aliases import check_alias
from omni.gateway.cost import parse_overrides
from omni.gateway.policy import parse_combo_config
from omni.providers.catalog import FORMATS, load_catalog
from omni.providers.proxy import check_proxy_url
from omni.store import aliases as alias_repo
from omni.store import audit
from omni.store import combos as combo_repo
from omni.store import providers as repo
from omni.store import settings as settings_repo
from omni.store import sync as token_repo
from omni.store.driver import Connection

TOKEN_PREFIX = "oms-"  # noqa: S105 - the prefix of sync tokens, not a token
LAST_PULL = "sync_last_pull"
SECTIONS = ("providers", "combos", "aliases", "settings")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_AUTH = re.compile(r"^[a-z_]{1,32}$")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def _fail(where: str, message: str) -> InvalidInputError:
    return InvalidInputError(f"bundle refused: {where}: {message}")


def _opt_str(where: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _fail(where, "must be a string or null")
    return value or None


def _flag(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, "must be true or false")
    return value


class SyncService:
    """The sync token, the bundle, and applying a pulled bundle."""

    def __init__(self, ctx: AdminContext, actor: str = "cli", ip: str | None = None) -> None:
        self.ctx = ctx
        self.actor = actor
        self.ip = ip

    # -- the token ---------------------------------------------------------------------

    def initialize(self, with_keys: bool = False) -> dict[str, Any]:
        """Create the sync token, replacing any earlier one (shown this once)."""
        if not isinstance(with_keys, bool):
            raise InvalidInputError("'withKeys' must be true or false")
        token = TOKEN_PREFIX + random.token_urlsafe(32)
        with self.ctx.db.transaction() as conn:
            row = token_repo.replace_token(conn, token[:12], token_digest(token), with_keys)
            audit.record(conn, self.actor, "sync.token", ip=self.ip,
                         detail={"prefix": row.prefix, "with_keys": with_keys})  # fmt: skip
        return {"token": token, **self._token_view(row)}

    def revoke(self) -> dict[str, Any]:
        with self.ctx.db.transaction() as conn:
            removed = token_repo.delete_all(conn)
            if removed:
                audit.record(conn, self.actor, "sync.revoke", ip=self.ip)
        return {"revoked": removed}

    def status(self) -> dict[str, Any]:
        with self.ctx.db.session() as conn:
            row = token_repo.current(conn)
            last = settings_repo.get_setting(conn, LAST_PULL)
        return {
            "token": self._token_view(row) if row else None,
            "last_pull": last if isinstance(last, dict) else None,
        }

    def authorize(self, token: str) -> bool | None:
        """Whether ``token`` is the sync token: None if not, else whether it may pull keys."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        digest = token_digest(token)
        with self.ctx.db.transaction() as conn:
            row = token_repo.current(conn)
            if row is None or not hmac.compare_digest(row.token_hash, digest):
                return None
            token_repo.mark_used(conn, row.id)
        return row.with_keys

    @staticmethod
    def _token_view(row: token_repo.SyncTokenRow) -> dict[str, Any]:
        return {"prefix": row.prefix, "withKeys": row.with_keys, "created_at": row.created_at,
                "last_used_at": row.last_used_at}  # fmt: skip

    # -- applying a pulled bundle ------------------------------------------------------

    def apply(
        self, bundle: Any, dry_run: bool = False, source: str | None = None
    ) -> dict[str, Any]:
        """Merge ``bundle`` into this instance (pulled wins); with ``dry_run`` only say what
        would change."""
        pulled, warnings = _validate(self.ctx, bundle)
        local = content(self.ctx, with_keys=bool(bundle.get("with_keys")))
        plan = {name: _diff(local, pulled, name) for name in SECTIONS}
        needs_key = [
            {"provider": p["id"], "account": a["name"]}
            for p in pulled["providers"] if p["id"] in plan["providers"]["added"]
            or p["id"] in plan["providers"]["changed"]
            for a in p["accounts"] if a.get("secret_omitted") and not self._has_secret(
                p["id"], a["name"])
        ]  # fmt: skip
        result: dict[str, Any] = {
            "dry_run": dry_run,
            "applied": False,
            "etag": etag_of(bundle),
            "source": source,
            **plan,
            "needs_key": needs_key,
            "warnings": warnings,
        }
        if not dry_run:
            self._write(pulled, plan, result)
            result["applied"] = True
        return result

    def _has_secret(self, provider_id: str, account: str) -> bool:
        with self.ctx.db.session() as conn:
            found = repo.list_accounts(conn, provider_id)
        return any(a.name == account and a.secret for a in found)

    def _write(self, pulled: dict[str, Any], plan: dict[str, Any], result: dict[str, Any]) -> None:
        changed = {s: set(plan[s]["added"]) | set(plan[s]["changed"]) for s in SECTIONS}
        _ = self.ctx.secrets  # opened (and its key checked) before the write lock is taken
        with self.ctx.db.transaction() as conn:
            for provider in pulled["providers"]:
                if provider["id"] in changed["providers"]:
                    self._write_provider(conn, provider)
            for combo in pulled["combos"]:
                if combo["name"] in changed["combos"]:
                    combo_repo.upsert_combo(
                        conn, combo["name"], combo["strategy"], combo["steps"], combo["config"]
                    )
            graph = {c.name: c.steps for c in combo_repo.list_combos(conn)}
            for name in sorted(changed["combos"]):
                _check_graph(graph, name)
            for alias in pulled["aliases"]:
                if alias["alias"] in changed["aliases"]:
                    if combo_repo.get_combo(conn, alias["alias"]) is not None:
                        raise _fail(f"alias '{alias['alias']}'", "a combo has that name")
                    alias_repo.upsert_alias(conn, alias["alias"], alias["target"])
            for key in sorted(changed["settings"]):
                value = pulled[PRICING] if key == PRICING else pulled["settings"][key]
                settings_repo.set_setting(conn, key, value)
            settings_repo.set_setting(conn, LAST_PULL, {
                "source": result["source"], "etag": result["etag"],
                "pulled_at": datetime.now(UTC).isoformat(timespec="seconds"),
            })  # fmt: skip
            audit.record(conn, self.actor, "sync.apply", target=result["source"], ip=self.ip,
                         detail={s: len(changed[s]) for s in SECTIONS})  # fmt: skip

    def _write_provider(self, conn: Connection, provider: dict[str, Any]) -> None:
        pid = provider["id"]
        existing = repo.get_provider(conn, pid)
        headers = dict(provider["headers"])
        for name in provider.get("headers_omitted", []):  # keep this instance's value
            if existing is not None and name in existing.headers:
                headers[name] = existing.headers[name]
        repo.upsert_provider(conn, pid, catalog_id=provider["catalog_id"],
                             format=provider["format"], base_url=provider["base_url"],
                             headers=headers)  # fmt: skip
        proxy = (existing.proxy if existing else None) if provider.get("proxy_omitted") else (
            seal_proxy(self.ctx, provider["proxy"]))  # fmt: skip
        repo.update_provider(conn, pid, enabled=provider["enabled"], node=provider["node"],
                             chat_path=provider["chat_path"], models_path=provider["models_path"],
                             proxy=proxy)  # fmt: skip
        for source, models in provider["models"].items():
            repo.replace_models(conn, pid, models, source)
        accounts = {a.name: a for a in repo.list_accounts(conn, pid)}
        for account in provider["accounts"]:
            mine = accounts.get(account["name"])
            secret: str | None
            if "secret" in account:
                secret = self.ctx.secrets.encrypt(account["secret"])
            else:
                secret = mine.secret if mine is not None and account.get("secret_omitted") else None
            repo.upsert_account(
                conn, pid, account["name"], auth_type=account["auth_type"], secret=secret,
                secret_env=account["secret_env"], base_url=account["base_url"],
                priority=account["priority"],
            )  # fmt: skip
            proxy = (mine.proxy if mine else None) if account.get("proxy_omitted") else (
                seal_proxy(self.ctx, account["proxy"]))  # fmt: skip
            keyless = account.get("secret_omitted") and secret is None
            repo.update_account(conn, pid, account["name"], proxy=proxy,
                                enabled=account["enabled"] and not keyless)  # fmt: skip


def _diff(local: dict[str, Any], pulled: dict[str, Any], section: str) -> dict[str, list[str]]:
    """Which entries of ``section`` the pull adds, changes or leaves; local-only ones kept."""
    if section == "settings":  # the price overrides count as one setting, when set
        mine = {**local["settings"], **({PRICING: local[PRICING]} if local[PRICING] else {})}
        theirs = {**pulled["settings"], **({PRICING: pulled[PRICING]} if pulled[PRICING] else {})}
    else:
        key = {"providers": "id", "combos": "name", "aliases": "alias"}[section]
        mine = {e[key]: _norm(e) for e in local[section]}
        theirs = {e[key]: _norm(e) for e in pulled[section]}
    return {
        "added": sorted(k for k in theirs if k not in mine),
        "changed": sorted(k for k in theirs if k in mine and theirs[k] != mine[k]),
        "unchanged": sorted(k for k in theirs if k in mine and theirs[k] == mine[k]),
        "kept": sorted(k for k in mine if k not in theirs),
    }


def _norm(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry for comparing: flags that are off and empty lists of omissions left out."""
    out = {k: v for k, v in entry.items() if not (k.endswith("_omitted") and not v)}
    if "models" in out:
        out["models"] = {"user": [], "sync": [], **out["models"]}
    if "accounts" in out:
        out["accounts"] = [_norm(a) for a in out["accounts"]]
    return out


def _validate(ctx: AdminContext, bundle: Any) -> tuple[dict[str, Any], list[str]]:
    """The bundle's entries checked like user input (a 400 on the first bad one), and
    warnings for what this omni skips."""
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise InvalidInputError(f"not an omni sync bundle (format {FORMAT!r} expected)")
    warnings: list[str] = []
    for section in ("providers", "combos", "aliases"):
        if not isinstance(bundle.get(section, []), list):
            raise _fail(section, "must be a list")
    if not isinstance(bundle.get("settings", {}), dict):
        raise _fail("settings", "must be an object")
    providers = []
    for entry in bundle.get("providers", []):
        checked = _provider(ctx, entry, warnings)
        if checked is not None:
            providers.append(checked)
    catalog = load_catalog()
    names = {p["id"] for p in providers}
    combos = []
    for entry in bundle.get("combos", []):
        if not isinstance(entry, dict) or not _NAME.match(str(entry.get("name", ""))):
            raise _fail("combos", f"invalid combo {entry!r:.80}")
        name = entry["name"]
        if name in names or catalog.get(name) is not None:
            raise _fail(f"combo '{name}'", "a provider has that name")
        steps = _check_steps(name, entry.get("steps"))
        config = parse_combo_config(entry.get("config"), steps)
        strategy = _check_strategy(entry.get("strategy"))
        combos.append({"name": name, "strategy": strategy, "steps": steps, "config": config})
    aliases = []
    for entry in bundle.get("aliases", []):
        try:
            alias, target = check_alias(
                *(entry.get(k) if isinstance(entry, dict) else None for k in ("alias", "target"))
            )
        except ValueError as exc:
            raise _fail("aliases", str(exc)) from None
        aliases.append({"alias": alias, "target": target})
    settings: dict[str, Any] = {}
    for key, value in bundle.get("settings", {}).items():
        check = SETTINGS.get(key)
        if check is None:
            warnings.append(f"setting '{key}' is not known here; skipped")
            continue
        check(value)
        settings[key] = value
    pricing = bundle.get(PRICING)
    if pricing is not None:
        parse_overrides(pricing)
    return {"providers": providers, "combos": combos, "aliases": aliases,
            "settings": settings, PRICING: pricing}, warnings  # fmt: skip


def _provider(ctx: AdminContext, entry: Any, warnings: list[str]) -> dict[str, Any] | None:
    if not isinstance(entry, dict) or not _NAME.match(str(entry.get("id", ""))):
        raise _fail("providers", f"invalid provider {entry!r:.80}")
    pid, where = entry["id"], f"provider '{entry['id']}'"
    catalog_id = _opt_str(where, entry.get("catalog_id"))
    if catalog_id is not None and load_catalog().get(catalog_id) is None:
        warnings.append(f"{where} uses catalog entry '{catalog_id}', unknown to this omni; "
                        "skipped (upgrade omni to take it)")  # fmt: skip
        return None
    if entry.get("format") not in FORMATS:
        raise _fail(where, f"format must be one of {', '.join(FORMATS)}")
    base_url = _opt_str(where, entry.get("base_url"))
    models = entry.get("models", {})
    if not isinstance(models, dict) or any(
        s not in ("user", "sync") or not isinstance(m, list)
        or any(not isinstance(x, str) or not x.strip() or any(c.isspace() for c in x) for x in m)
        for s, m in models.items()
    ):  # fmt: skip
        raise _fail(where, "'models' must map 'user' and 'sync' to lists of model ids")
    accounts = entry.get("accounts", [])
    if not isinstance(accounts, list):
        raise _fail(where, "'accounts' must be a list")
    omitted = entry.get("headers_omitted", [])
    if not isinstance(omitted, list) or any(not isinstance(h, str) for h in omitted):
        raise _fail(where, "'headers_omitted' must be a list of header names")
    return {
        "id": pid,
        "catalog_id": catalog_id,
        "format": entry["format"],
        "base_url": guard_url(ctx, base_url) if base_url else None,
        "enabled": _flag(f"{where} enabled", entry.get("enabled", True)),
        "node": _flag(f"{where} node", entry.get("node", False)),
        "headers": check_headers(entry.get("headers", {})),
        "headers_omitted": omitted,
        "chat_path": _path(where, entry.get("chat_path"), "chat path"),
        "models_path": _path(where, entry.get("models_path"), "models path"),
        "proxy": _proxy(where, entry.get("proxy")),
        "proxy_omitted": _flag(f"{where} proxy_omitted", entry.get("proxy_omitted", False)),
        "models": {s: list(dict.fromkeys(m)) for s, m in models.items()},
        "accounts": [_account(ctx, where, a) for a in accounts],
    }


def _path(where: str, value: Any, what: str) -> str | None:
    return check_path(value, f"{where} {what}") if _opt_str(where, value) else None


def _proxy(where: str, value: Any) -> str | None:
    return check_proxy_url(value) if _opt_str(where, value) else None


def _account(ctx: AdminContext, where: str, entry: Any) -> dict[str, Any]:
    if not isinstance(entry, dict) or not _NAME.match(str(entry.get("name", ""))):
        raise _fail(where, f"invalid account {entry!r:.80}")
    where = f"{where} account '{entry['name']}'"
    auth_type, env = entry.get("auth_type"), _opt_str(where, entry.get("secret_env"))
    if not isinstance(auth_type, str) or not _AUTH.match(auth_type):
        raise _fail(where, "'auth_type' must be a word such as api_key, env or none")
    if env is not None and not _ENV.match(env):
        raise _fail(where, f"invalid environment variable name {env!r}")
    priority = entry.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int) or abs(priority) > 10**6:
        raise _fail(where, "'priority' must be a whole number")
    checked: dict[str, Any] = {
        "name": entry["name"],
        "auth_type": auth_type,
        "secret_env": env,
        "base_url": guard_url(ctx, b) if (b := _opt_str(where, entry.get("base_url"))) else None,
        "priority": priority,
        "enabled": _flag(f"{where} enabled", entry.get("enabled", True)),
        "proxy": _proxy(where, entry.get("proxy")),
        "proxy_omitted": _flag(f"{where} proxy_omitted", entry.get("proxy_omitted", False)),
        "secret_omitted": _flag(f"{where} secret_omitted", entry.get("secret_omitted", False)),
    }
    if "secret" in entry:
        if not isinstance(entry["secret"], str) or not entry["secret"]:
            raise _fail(where, "'secret' must be a non-empty string")
        if auth_type == "api_key":
            check_api_key(entry["secret"])
        checked["secret"] = entry["secret"]
    return checked
