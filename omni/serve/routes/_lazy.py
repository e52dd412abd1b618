"""Route modules imported on their first request, so start-up does not wait for them.

:class:`LazyRoutes` is one aiohttp resource standing for every route of some route
modules under a path prefix (the management API's areas under ``/api``). The router
reaches it only for a path under the prefix that no eagerly registered route answers;
the first time, it imports the modules and lets each ``setup`` register its routes on a
router of its own, then resolves there, now and for every later request. Matching,
``405`` with the allowed methods, ``404``, handlers and middlewares behave as if the
routes had been registered on the application itself; ``app.router.routes()`` lists them
too (loading the modules when asked).

A lazy module's ``setup`` may only add routes: it gets an object whose one attribute is
``router`` (state and start-up hooks belong in a module registered eagerly).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractResource, AbstractRoute

if TYPE_CHECKING:
    from yarl import URL


class _RoutesOnly:
    """What a lazy module's ``setup(app)`` receives: a router, nothing else."""

    __slots__ = ("router",)

    def __init__(self) -> None:
        self.router = web.UrlDispatcher()


class LazyRoutes(AbstractResource):
    """The routes of ``modules`` (each with a ``setup(app)``), under ``prefix``."""

    def __init__(self, prefix: str, modules: Sequence[str]) -> None:
        super().__init__()
        self._prefix = prefix.rstrip("/")
        self._modules = tuple(modules)
        self._router: web.UrlDispatcher | None = None

    @property
    def loaded(self) -> bool:
        return self._router is not None

    def load(self) -> web.UrlDispatcher:
        """The modules' router (imports them and runs their ``setup`` the first time)."""
        router = self._router
        if router is None:
            holder = _RoutesOnly()
            for name in self._modules:
                importlib.import_module(name).setup(holder)
            holder.router.freeze()
            router = self._router = holder.router
        return router

    @property
    def canonical(self) -> str:
        return self._prefix

    async def resolve(self, request: web.Request) -> tuple[Any, set[str]]:
        if not request.rel_url.path_safe.startswith(self._prefix + "/"):
            return None, set()
        match = await self.load().resolve(request)
        error = match.http_exception
        if error is None:
            return match, set()
        return None, set(getattr(error, "allowed_methods", ()))

    def url_for(self, **kwargs: str) -> URL:
        raise NotImplementedError("routes under a lazy prefix have no names")

    def add_prefix(self, prefix: str) -> None:
        raise NotImplementedError("lazy routes cannot move into a sub-application")

    def get_info(self) -> Any:
        return {"prefix": self._prefix, "modules": self._modules}

    def raw_match(self, path: str) -> bool:
        return False

    def __len__(self) -> int:
        return len(self.load().routes())

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(self.load().routes())

    def __repr__(self) -> str:
        state = "loaded" if self.loaded else "not loaded yet"
        return f"<LazyRoutes {self._prefix}/* ({len(self._modules)} modules, {state})>"
