"""Subscription providers reached with OAuth: sign-in flows, tokens, refresh, imports.

- :mod:`omni.oauth.specs`: what omni knows about each provider (client ids, endpoints,
  scopes, the headers its API wants) and where every URL can be overridden;
- :mod:`omni.oauth.tokens`: the stored credential and the token endpoint (refresh, the
  Copilot token exchange, finishing a login);
- :mod:`omni.oauth.flows`: PKCE authorization code (callback listener or pasted code)
  and the device code flow (RFC 8628);
- :mod:`omni.oauth.keeper`: the server's token keeper (proactive refresh, one refresh at
  a time per account, refresh-and-retry on a 401, "needs login");
- :mod:`omni.oauth.importers`: reading (and writing back) the CLI tools' own files.

HTTP calls here are synchronous (httpx): the CLI runs them directly, the server on a
worker thread. Nothing here logs or returns a token.
"""
