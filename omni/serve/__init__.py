"""The server: aiohttp app factory, middlewares and thin route handlers.

Handlers turn HTTP into calls on the gateway (``omni.gateway``) or the admin services
(``omni.admin``) and write the answer back in the caller's dialect. State lives in typed
app keys (:mod:`omni.serve.keys`), never in module globals; nothing runs at import time.
"""
