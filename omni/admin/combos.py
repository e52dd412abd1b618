"""Combo management: named fallback chains that a client asks for as its model.

A combo's steps are model strings (``provider/model``, an alias, or another combo's
name) tried in order by the gateway according to the combo's strategy. The name shares
the model namespace, so it may not contain ``/`` nor shadow a configured or catalog
provider. Combos may nest (a step naming another combo) up to :data:`MAX_DEPTH` levels,
never in a cycle; both rules are checked over all stored combos with the change applied.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from omni.admin import CLI, Actor, AdminContext
from omni.errors import ConflictError, InvalidInputError, NotFoundError
from omni.gateway.policy import parse_combo_config
from omni.providers.catalog import load_catalog
from omni.store import audit
from omni.store import combos as repo
from omni.store import providers as providers_repo
from omni.store.driver import Connection

STRATEGIES = (
    "priority",
    "weighted",
    "round-robin",
    "random",
    "strict-random",
    "least-used",
    "cost-optimized",
    "fill-first",
    "p2c",
    "lkgp",
    "context-optimized",
)
MAX_DEPTH = 3  # a combo of plain models is 1 deep; one naming such a combo is 2 deep …

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def _describe(row: repo.ComboRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "strategy": row.strategy,
        "steps": list(row.steps),
        "config": row.config,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _check_strategy(strategy: object) -> str:
    if not isinstance(strategy, str) or strategy not in STRATEGIES:
        raise InvalidInputError(
            f"unknown strategy {strategy!r}: use one of {', '.join(STRATEGIES)}"
        )
    return strategy


def _check_steps(name: str, steps: object) -> list[str]:
    if not isinstance(steps, Sequence) or isinstance(steps, str) or not steps:
        raise InvalidInputError(
            f"combo '{name}' needs at least one step: a model such as 'provider/model' "
            "or another combo's name"
        )
    cleaned: list[str] = []
    for step in steps:
        if not isinstance(step, str) or not step.strip():
            raise InvalidInputError(f"every step must be a non-empty model name, not {step!r}")
        cleaned.append(step.strip())
    if name in cleaned:
        raise InvalidInputError(
            f"combo '{name}' cannot name itself as a step; list the models it should try"
        )
    return cleaned


def _depth(graph: Mapping[str, Sequence[str]], name: str, path: tuple[str, ...]) -> int:
    """How many combo levels ``name`` spans; raises on a cycle through ``path``."""
    if name in path:
        cycle = " -> ".join((*path[path.index(name) :], name))
        raise InvalidInputError(
            f"combos would form a cycle ({cycle}); remove one of these steps to break it"
        )
    inner = [_depth(graph, s, (*path, name)) for s in graph[name] if s in graph]
    return 1 + max(inner, default=0)


def _check_graph(graph: Mapping[str, Sequence[str]], changed: str) -> None:
    """No cycle anywhere and no combo deeper than :data:`MAX_DEPTH` after the change."""
    for name in sorted(graph, key=lambda n: n != changed):  # report the changed one first
        depth = _depth(graph, name, ())
        if depth > MAX_DEPTH:
            raise InvalidInputError(
                f"combo '{name}' would nest {depth} combos deep (at most {MAX_DEPTH}); "
                "list models directly instead of another combo"
            )


class ComboService:
    """Create, edit, list, show and remove combos."""

    def __init__(self, ctx: AdminContext, actor: Actor = CLI) -> None:
        self.ctx = ctx
        self.actor = actor

    def create(
        self,
        name: str,
        steps: list[str],
        strategy: str = "priority",
        config: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if not isinstance(name, str) or not _NAME.match(name):
            raise InvalidInputError(
                f"invalid combo name {name!r}: use 1-64 lower-case letters, digits, '.', '_' "
                "or '-' (no '/': clients ask for the name as their model)"
            )
        cleaned = _check_steps(name, steps)
        checked = _check_strategy(strategy)
        options = parse_combo_config(config, cleaned)
        spec = load_catalog().get(name)
        if spec is not None:
            raise InvalidInputError(
                f"'{name}' is the catalog provider '{spec.id}'; choose another combo name"
            )
        with self.ctx.db.transaction() as conn:
            if providers_repo.get_provider(conn, name) is not None:
                raise InvalidInputError(
                    f"'{name}' is a configured provider; choose another combo name"
                )
            if repo.get_combo(conn, name) is not None:
                raise ConflictError(
                    f"combo '{name}' already exists",
                    hint=f"change it with 'omni combos edit {name}' or remove it first",
                )
            self._save(conn, name, checked, cleaned, options)
            self._audit(conn, "combo.create", name)
            return self._get(conn, name)

    def edit(
        self,
        name: str,
        steps: list[str] | None = None,
        strategy: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Change a combo; ``config`` replaces its options. With new ``steps``, the
        options of steps that are gone are dropped."""
        if steps is None and strategy is None and config is None:
            raise InvalidInputError("nothing to change: give new steps, a strategy or options")
        with self.ctx.db.transaction() as conn:
            row = self._row(conn, name)
            new_steps = list(row.steps) if steps is None else _check_steps(name, steps)
            options = dict(row.config if config is None else config)
            if steps is not None and isinstance(options.get("steps"), dict):
                options["steps"] = {k: v for k, v in options["steps"].items() if k in new_steps}
            self._save(
                conn,
                name,
                row.strategy if strategy is None else _check_strategy(strategy),
                new_steps,
                parse_combo_config(options, new_steps),
            )
            self._audit(conn, "combo.edit", name)
            return self._get(conn, name)

    def get(self, name: str) -> dict[str, Any]:
        with self.ctx.db.session() as conn:
            return self._get(conn, name)

    def list_all(self) -> list[dict[str, Any]]:
        with self.ctx.db.session() as conn:
            return [_describe(row) for row in repo.list_combos(conn)]

    def remove(self, name: str) -> dict[str, Any]:
        with self.ctx.db.transaction() as conn:
            removed = self._get(conn, name)
            users = [c.name for c in repo.list_combos(conn) if c.name != name and name in c.steps]
            if users:
                raise ConflictError(
                    f"combo '{name}' is a step of {', '.join(repr(u) for u in users)}",
                    hint=f"take it out of their steps first ('omni combos edit {users[0]} "
                    "--steps …'), then remove it",
                )
            repo.delete_combo(conn, name)
            self._audit(conn, "combo.remove", name)
        return removed

    def _audit(self, conn: Connection, action: str, name: str) -> None:
        audit.record(conn, self.actor.name, action, target=name, ip=self.actor.ip)

    @staticmethod
    def _save(
        conn: Connection, name: str, strategy: str, steps: list[str], config: dict[str, Any]
    ) -> None:
        graph: dict[str, Sequence[str]] = {c.name: c.steps for c in repo.list_combos(conn)}
        graph[name] = steps
        _check_graph(graph, name)
        repo.upsert_combo(conn, name, strategy, steps, config)

    @staticmethod
    def _row(conn: Connection, name: str) -> repo.ComboRow:
        row = repo.get_combo(conn, name)
        if row is None:
            raise NotFoundError(f"no combo named '{name}'", hint="see 'omni combos list'")
        return row

    def _get(self, conn: Connection, name: str) -> dict[str, Any]:
        return _describe(self._row(conn, name))
