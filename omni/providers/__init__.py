"""Wire layer, upstream side: the provider catalog (data) and one executor per protocol.

All upstream I/O goes through one shared aiohttp ClientSession (:mod:`omni.providers.http`).
Adding an OpenAI-compatible provider is one entry in ``catalog.toml``.
"""
