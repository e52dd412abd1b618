"""Wire layer, upstream side: the provider catalog (data) and one executor per protocol.

All upstream I/O goes through the process's clients in :mod:`omni.providers.http`: a lean
keep-alive HTTP/1.1 pool (:mod:`omni.providers.h1`) and aiohttp's client for proxies and forms.
Adding an OpenAI-compatible provider is one entry in ``catalog.toml``.
"""
