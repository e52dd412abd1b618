"""The admin client's operations on models, aliases, nodes, provider checks and the proxy.

Split from :mod:`omni.client` to keep each file readable: :class:`ModelsAdmin` is part of
the :class:`~omni.client.AdminClient` protocol, :class:`LocalModelsMixin` runs the
services in-process, :class:`HttpModelsMixin` calls the running server's API. Both return
the same JSON-ready values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlencode

if TYPE_CHECKING:
    from omni.admin import AdminContext


class ModelsAdmin(Protocol):
    def edit_provider(self, name: str, **fields: Any) -> dict[str, Any]: ...
    def edit_account(self, name: str, account: str, **fields: Any) -> dict[str, Any]: ...
    def test_provider(
        self, name: str, account: str | None = None, model: str | None = None
    ) -> dict[str, Any]: ...
    def provider_models(self, name: str, refresh: bool = False) -> dict[str, Any]: ...
    def validate_provider(self, **fields: Any) -> dict[str, Any]: ...
    def list_nodes(self) -> list[dict[str, Any]]: ...
    def get_node(self, node_id: str) -> dict[str, Any]: ...
    def create_node(self, prefix: str, base_url: str, **fields: Any) -> dict[str, Any]: ...
    def edit_node(self, node_id: str, **fields: Any) -> dict[str, Any]: ...
    def remove_node(self, node_id: str) -> dict[str, Any]: ...
    def list_aliases(self) -> list[dict[str, Any]]: ...
    def set_alias(self, alias: str, target: str) -> dict[str, Any]: ...
    def remove_alias(self, alias: str) -> dict[str, Any]: ...
    def model_catalog(self, provider: str | None = None) -> list[dict[str, Any]]: ...
    def list_models(self) -> list[dict[str, Any]]: ...
    def get_model(self, model_id: str) -> dict[str, Any]: ...
    def model_availability(self) -> dict[str, Any]: ...
    def add_custom_models(self, provider: str, models: list[str]) -> list[dict[str, Any]]: ...
    def remove_custom_model(self, provider: str, model: str) -> dict[str, Any]: ...
    def get_proxy(self) -> dict[str, Any]: ...
    def set_proxy(self, url: str | None) -> dict[str, Any]: ...
    def test_proxy(self, url: str | None = None, target: str | None = None) -> dict[str, Any]: ...


def _given(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


class LocalModelsMixin:
    """In-process: the services on the store (no live cooldown or breaker state)."""

    _ctx: AdminContext

    def _checks(self) -> Any:
        from omni.admin.checks import ProviderCheckService

        return ProviderCheckService(self._ctx)

    def _models(self) -> Any:
        from omni.admin.models import ModelService

        return ModelService(self._ctx)

    def _nodes(self) -> Any:
        from omni.admin.nodes import NodeService

        return NodeService(self._ctx)

    def _aliases(self) -> Any:
        from omni.admin.aliases import AliasService

        return AliasService(self._ctx)

    def _proxy(self) -> Any:
        from omni.admin.proxy import ProxyService

        return ProxyService(self._ctx)

    def edit_provider(self, name: str, **fields: Any) -> dict[str, Any]:
        from omni.admin.providers import ProviderService

        result: dict[str, Any] = ProviderService(self._ctx).edit(name, **fields)
        return result

    def edit_account(self, name: str, account: str, **fields: Any) -> dict[str, Any]:
        from omni.admin.providers import ProviderService

        result: dict[str, Any] = ProviderService(self._ctx).edit_account(name, account, **fields)
        return result

    def test_provider(
        self, name: str, account: str | None = None, model: str | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._checks().test(name, account=account, model=model)
        return result

    def provider_models(self, name: str, refresh: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = self._checks().models(name, refresh)
        return result

    def validate_provider(self, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._checks().validate(**fields)
        return result

    def list_nodes(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._nodes().list_all()
        return result

    def get_node(self, node_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._nodes().get(node_id)
        return result

    def create_node(self, prefix: str, base_url: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._nodes().create(prefix, base_url, **fields)
        return result

    def edit_node(self, node_id: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._nodes().edit(node_id, **fields)
        return result

    def remove_node(self, node_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._nodes().remove(node_id)
        return result

    def list_aliases(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._aliases().list_all()
        return result

    def set_alias(self, alias: str, target: str) -> dict[str, Any]:
        result: dict[str, Any] = self._aliases().set(alias, target)
        return result

    def remove_alias(self, alias: str) -> dict[str, Any]:
        result: dict[str, Any] = self._aliases().remove(alias)
        return result

    def model_catalog(self, provider: str | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._models().catalog(provider)
        return result

    def list_models(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._models().configured()
        return result

    def get_model(self, model_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._models().show(model_id)
        return result

    def model_availability(self) -> dict[str, Any]:
        result: dict[str, Any] = self._models().availability()
        return result

    def add_custom_models(self, provider: str, models: list[str]) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._models().add_custom(provider, models)
        return result

    def remove_custom_model(self, provider: str, model: str) -> dict[str, Any]:
        result: dict[str, Any] = self._models().remove_custom(provider, model)
        return result

    def get_proxy(self) -> dict[str, Any]:
        result: dict[str, Any] = self._proxy().get()
        return result

    def set_proxy(self, url: str | None) -> dict[str, Any]:
        result: dict[str, Any] = self._proxy().set(url)
        return result

    def test_proxy(self, url: str | None = None, target: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._proxy().test(url=url, target=target)
        return result


class HttpModelsMixin:
    """Through the running server's management API."""

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        raise NotImplementedError  # provided by HttpAdminClient

    def _get(self, path: str, key: str | None = None) -> Any:
        data = self._call("GET", path)
        return data[key] if key else data

    def edit_provider(self, name: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PUT", f"/api/providers/{quote(name)}", fields)
        return result

    def edit_account(self, name: str, account: str, **fields: Any) -> dict[str, Any]:
        path = f"/api/providers/{quote(name)}/accounts/{quote(account)}"
        result: dict[str, Any] = self._call("PUT", path, fields)
        return result

    def test_provider(
        self, name: str, account: str | None = None, model: str | None = None
    ) -> dict[str, Any]:
        body = _given(account=account, model=model)
        result: dict[str, Any] = self._call("POST", f"/api/providers/{quote(name)}/test", body)
        return result

    def provider_models(self, name: str, refresh: bool = False) -> dict[str, Any]:
        query = "?refresh=true" if refresh else ""
        result: dict[str, Any] = self._get(f"/api/providers/{quote(name)}/models{query}")
        return result

    def validate_provider(self, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/api/providers/validate", _given(**fields))
        return result

    def list_nodes(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/api/provider-nodes", "nodes")
        return result

    def get_node(self, node_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._get(f"/api/provider-nodes/{quote(node_id)}")
        return result

    def create_node(self, prefix: str, base_url: str, **fields: Any) -> dict[str, Any]:
        body = {"prefix": prefix, "base_url": base_url, **_given(**fields)}
        result: dict[str, Any] = self._call("POST", "/api/provider-nodes", body)
        return result

    def edit_node(self, node_id: str, **fields: Any) -> dict[str, Any]:
        path = f"/api/provider-nodes/{quote(node_id)}"
        result: dict[str, Any] = self._call("PUT", path, fields)
        return result

    def remove_node(self, node_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("DELETE", f"/api/provider-nodes/{quote(node_id)}")
        return result

    def list_aliases(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/api/models/alias", "aliases")
        return result

    def set_alias(self, alias: str, target: str) -> dict[str, Any]:
        body = {"alias": alias, "target": target}
        result: dict[str, Any] = self._call("POST", "/api/models/alias", body)
        return result

    def remove_alias(self, alias: str) -> dict[str, Any]:
        path = f"/api/models/alias/{quote(alias, safe='/')}"
        result: dict[str, Any] = self._call("DELETE", path)
        return result

    def model_catalog(self, provider: str | None = None) -> list[dict[str, Any]]:
        query = f"?{urlencode({'provider': provider})}" if provider else ""
        result: list[dict[str, Any]] = self._get(f"/api/models/catalog{query}", "providers")
        return result

    def list_models(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/api/models", "models")
        return result

    def get_model(self, model_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._get(f"/api/models/info?{urlencode({'id': model_id})}")
        return result

    def model_availability(self) -> dict[str, Any]:
        result: dict[str, Any] = self._get("/api/models/availability")
        return result

    def add_custom_models(self, provider: str, models: list[str]) -> list[dict[str, Any]]:
        body = {"provider": provider, "models": models}
        result: list[dict[str, Any]] = self._call("POST", "/api/provider-models", body)["models"]
        return result

    def remove_custom_model(self, provider: str, model: str) -> dict[str, Any]:
        query = urlencode({"provider": provider, "model": model})
        result: dict[str, Any] = self._call("DELETE", f"/api/provider-models?{query}")
        return result

    def get_proxy(self) -> dict[str, Any]:
        result: dict[str, Any] = self._get("/api/settings/proxy")
        return result

    def set_proxy(self, url: str | None) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PUT", "/api/settings/proxy", {"url": url})
        return result

    def test_proxy(self, url: str | None = None, target: str | None = None) -> dict[str, Any]:
        body = _given(url=url, target=target)
        result: dict[str, Any] = self._call("POST", "/api/settings/proxy/test", body)
        return result
