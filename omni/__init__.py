"""omni: a local-first AI gateway for the terminal.

The package is layered (see docs/ARCHITECTURE.md of the project): faces (``omni.cli``,
``omni.commands``, ``omni.tui``) talk to the admin client (``omni.client``), which talks to
the server (``omni.serve``) or in-process to the service layer (``omni.admin``); the engine
(``omni.gateway``) drives the wire layer (``omni.translate``, ``omni.providers``) and the
state layer (``omni.store``). Importing this package does no work.
"""

__version__ = "0.1.0"
