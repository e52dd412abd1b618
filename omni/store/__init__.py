"""State layer: the SQLite database, its migrations, repositories, secrets and vectors.

Nothing here knows about HTTP, the CLI or the TUI. Connections come from
:class:`omni.store.db.Database`; the SQLite driver is chosen once in
:mod:`omni.store.driver`.
"""
