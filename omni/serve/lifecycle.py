"""Asking the running server to stop or restart from inside (``/api/shutdown``, ``/api/restart``).

The runner waits on :attr:`Lifecycle.stopping`; signals and the system endpoints set it,
so a shutdown through the API takes exactly the path SIGTERM takes (stop accepting, let
in-flight requests finish, flush writes). :attr:`restart` tells the process to start
itself again afterwards, on the same address.
"""

from __future__ import annotations

import asyncio


class Lifecycle:
    """A stop request, and whether the process should come back after it."""

    def __init__(self) -> None:
        self.stopping = asyncio.Event()
        self.restart = False
        self.managed = False  # True when a runner waits on this (not in in-process tests)

    def stop(self) -> None:
        self.stopping.set()

    def request_restart(self) -> None:
        self.restart = True
        self.stopping.set()
