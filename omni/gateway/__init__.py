"""The engine: routing, the request pipeline, usage recording. asyncio only.

It knows nothing about HTTP frameworks on the client side, the CLI or the TUI: the
server hands it parsed requests and writes out what it returns.
"""
