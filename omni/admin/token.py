"""The local admin token: how the CLI and TUI on this machine authenticate to the server.

A random token in a 0600 file in the data dir, created by whichever side needs it first.
Anyone who can read the file is the user who owns the installation, so a local user never
types a password; remote callers log in instead.
"""

from __future__ import annotations

import secrets

from omni.paths import Paths, write_private


def read_admin_token(paths: Paths) -> str | None:
    try:
        token = paths.admin_token_file.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token or None


def ensure_admin_token(paths: Paths) -> str:
    """The token, created on first use."""
    token = read_admin_token(paths)
    if token is None:
        token = secrets.token_urlsafe(32)
        write_private(paths.admin_token_file, token.encode("ascii") + b"\n")
    return token
