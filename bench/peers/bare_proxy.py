"""The practical ceiling for a Python gateway on this harness: a featureless proxy.

aiohttp server + one pooled aiohttp client + uvloop + orjson, nothing else: no auth, no
routing, no usage, no translation. It forwards POST /v1/chat/completions to the upstream
(streaming the answer when the request asks for a stream). Run by bench/peers/bare.sh.
"""

import os
import sys

import aiohttp
import orjson
import uvloop
from aiohttp import web

UPSTREAM = os.environ.get("BARE_UPSTREAM", "http://127.0.0.1:18080/v1") + "/chat/completions"
HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer sk-mock-upstream"}


async def chat(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    stream = orjson.loads(body).get("stream") is True
    upstream = await request.app["http"].post(UPSTREAM, data=body, headers=HEADERS)
    if not stream:
        data = await upstream.read()
        return web.Response(body=data, status=upstream.status, content_type="application/json")
    reply = web.StreamResponse(status=upstream.status)
    reply.content_type = "text/event-stream"
    await reply.prepare(request)
    async for chunk in upstream.content.iter_any():
        await reply.write(chunk)
    await reply.write_eof()
    return reply


async def client(app: web.Application):  # a cleanup context
    app["http"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    yield
    await app["http"].close()


app = web.Application()
app.cleanup_ctx.append(client)
app.router.add_post("/v1/chat/completions", chat)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, loop=uvloop.new_event_loop())
