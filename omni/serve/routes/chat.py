"""The three chat endpoints every agent calls: one table for both ways in.

``/v1/chat/completions`` (OpenAI), ``/v1/messages`` (Anthropic) and ``/v1/responses``
(OpenAI Responses), each also under the bare and the doubled ``/v1/v1`` prefix that
misconfigured clients send. A :class:`Chat` hands the body to the gateway; the aiohttp
routes (:meth:`Chat.serve`) and the server's fast lane (:mod:`omni.serve.front`) both
call it, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass

from aiohttp import web

from omni.gateway.answers import Reply
from omni.gateway.pipeline import Gateway
from omni.ir import Dialect
from omni.serve import keys
from omni.serve.routes.reply import send

PREFIXES = ("/v1", "", "/v1/v1")


@dataclass(frozen=True, slots=True)
class Chat:
    dialect: Dialect
    endpoint: str  # as recorded in usage, whichever prefix the client used
    sse_by_accept: bool  # an ``Accept: text/event-stream`` header asks for a stream

    def call(self, gateway: Gateway, body: bytes, headers: Mapping[str, str]) -> Awaitable[Reply]:
        wants_sse = self.sse_by_accept and "text/event-stream" in headers.get("Accept", "")
        return gateway.handle(
            self.dialect, body, endpoint=self.endpoint, wants_sse=wants_sse, headers=headers
        )

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """The aiohttp handler."""
        body = await request.read()
        reply = await self.call(request.app[keys.GATEWAY], body, request.headers)
        return await send(request, reply)

    def paths(self) -> tuple[str, ...]:
        suffix = self.endpoint.removeprefix("/v1")
        return tuple(prefix + suffix for prefix in PREFIXES)


OPENAI = Chat(Dialect.OPENAI_CHAT, "/v1/chat/completions", sse_by_accept=True)
ANTHROPIC = Chat(Dialect.ANTHROPIC, "/v1/messages", sse_by_accept=False)
RESPONSES = Chat(Dialect.OPENAI_RESPONSES, "/v1/responses", sse_by_accept=True)

BY_PATH: dict[str, Chat] = {
    path: chat for chat in (OPENAI, ANTHROPIC, RESPONSES) for path in chat.paths()
}


def setup(app: web.Application, chat: Chat) -> None:
    for path in chat.paths():
        app.router.add_post(path, chat.serve)
