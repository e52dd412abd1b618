"""Custom provider nodes: user-defined OpenAI- or Anthropic-compatible endpoints.

A node is a custom provider (see :class:`~omni.admin.providers.ProviderService`) marked
as a node, with a prefix (its id: clients ask for ``<prefix>/<model>``), a base URL, an
optional chat path and model-list path under it, extra headers, an optional key and
proxy. Creating one stores the provider and its ``default`` account, then reads the
node's model list (with its headers and path) unless told not to.
"""

from __future__ import annotations

from typing import Any

from omni.admin import AdminContext
from omni.admin import upstream as upstream_calls
from omni.admin.checks import ProviderCheckService
from omni.admin.providers import (
    ProviderService,
    check_headers,
    check_path,
    guard_url,
    seal_proxy,
)
from omni.errors import ConflictError, InvalidInputError, NotFoundError
from omni.providers.catalog import load_catalog
from omni.store import providers as repo

NODE_FORMATS = ("openai", "anthropic")


class NodeService:
    """Create, list, show, edit and remove provider nodes."""

    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx
        self.providers = ProviderService(ctx)

    def list_all(self) -> list[dict[str, Any]]:
        return [p for p in self.providers.list_all() if p["node"]]

    def get(self, node_id: str) -> dict[str, Any]:
        found = self.providers.get(node_id) if self._exists(node_id) else None
        if found is None or not found["node"]:
            raise NotFoundError(f"no provider node named '{node_id}'", hint="see 'omni nodes list'")
        return found

    def create(
        self,
        prefix: str,
        base_url: str,
        *,
        format: str = "openai",
        chat_path: str | None = None,
        models_path: str | None = None,
        headers: dict[str, str] | None = None,
        api_key: str | None = None,
        api_key_env: str | None = None,
        models: list[str] | None = None,
        proxy: str | None = None,
        sync_models: bool = True,
    ) -> dict[str, Any]:
        if format not in NODE_FORMATS:
            raise InvalidInputError(
                f"a node speaks one of {', '.join(NODE_FORMATS)}, not {format!r}"
            )
        if load_catalog().get(prefix) is not None:
            raise InvalidInputError(
                f"'{prefix}' is a catalog provider; give the node another prefix"
            )
        if self._exists(prefix):
            raise ConflictError(
                f"a provider named '{prefix}' already exists",
                hint=f"change it with 'omni nodes edit {prefix}' or remove it first",
            )
        url = guard_url(self.ctx, base_url, "node URL")
        fields: dict[str, Any] = {"node": True}
        if chat_path:
            fields["chat_path"] = check_path(chat_path, "chat path")
        if models_path:
            fields["models_path"] = check_path(models_path, "models path")
        if headers:
            fields["headers"] = check_headers(headers)
        if proxy:
            fields["proxy"] = seal_proxy(self.ctx, proxy)
        self.providers.add(
            prefix, base_url=url, api_key=api_key, api_key_env=api_key_env, format=format,
            models=models, sync_models=False,
        )  # fmt: skip
        with self.ctx.db.transaction() as conn:
            repo.update_provider(conn, prefix, **fields)
        warnings = self.sync_models(prefix) if sync_models else []
        result = self.get(prefix)
        result["warnings"] = warnings
        return result

    def edit(self, node_id: str, **fields: Any) -> dict[str, Any]:
        self.get(node_id)
        if fields.get("base_url"):
            fields["base_url"] = guard_url(self.ctx, fields["base_url"], "node URL")
        return self.providers.edit(node_id, **fields)

    def remove(self, node_id: str) -> dict[str, Any]:
        self.get(node_id)
        return self.providers.remove(node_id)

    def sync_models(self, node_id: str) -> list[str]:
        """Read the node's model list into the store; problems come back as warnings."""
        row, targets = ProviderCheckService(self.ctx).targets(node_id)
        if not targets:
            return ["the node has no enabled account; its model list was not read"]
        target = targets[0]
        outcome, found = upstream_calls.fetch_models(
            row.format, target.base_url, target.headers, models_path=row.models_path,
            proxy=target.proxy,
        )  # fmt: skip
        if not outcome.ok:
            return [f"could not read the node's model list: {outcome.error}; add models "
                    "with 'omni models add'"]  # fmt: skip
        with self.ctx.db.transaction() as conn:
            repo.replace_models(conn, node_id, found, "sync")
        return []

    def _exists(self, node_id: str) -> bool:
        with self.ctx.db.session() as conn:
            return repo.get_provider(conn, node_id) is not None
