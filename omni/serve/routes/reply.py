"""Writing a gateway :class:`~omni.gateway.pipeline.Reply` to the client.

JSON replies go out in one piece; streams are written chunk by chunk as the gateway
yields them (never buffered). If the client goes away mid-stream, the gateway's iterator
is closed so it stops reading upstream and records the request as closed by the client.
"""

from __future__ import annotations

from aiohttp import web

from omni.gateway.pipeline import Reply

STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def send(request: web.Request, reply: Reply) -> web.StreamResponse:
    if reply.stream is None:
        return web.Response(
            status=reply.status,
            body=reply.body,
            headers=reply.headers,
            content_type=reply.content_type,
        )
    response = web.StreamResponse(status=reply.status, headers={**reply.headers, **STREAM_HEADERS})
    response.content_type = reply.content_type
    stream = reply.stream
    try:
        await response.prepare(request)
        async for chunk in stream:
            await response.write(chunk)
        await response.write_eof()
    except (ConnectionResetError, ConnectionError):
        pass  # the client left; closing the iterator below records it
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    return response
