"""Where omni keeps its files.

Platform directories come from platformdirs. ``OMNI_HOME`` relocates everything under one
folder (tests and portable installs rely on it); OmniRoute's ``DATA_DIR`` relocates the data
dir alone. Nothing here creates a directory until :func:`ensure_dir` is called.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "omni"


@dataclass(frozen=True, slots=True)
class Paths:
    """The folders omni uses: configuration, data (database, keys, backups), runtime (pid)."""

    config_dir: Path
    data_dir: Path
    runtime_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def database(self) -> Path:
        return self.data_dir / "omni.sqlite"

    @property
    def secret_key_file(self) -> Path:
        return self.data_dir / "secret.key"

    @property
    def admin_token_file(self) -> Path:
        return self.data_dir / "admin.token"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def server_file(self) -> Path:
        """JSON written by a running server: pid, host, port, start time."""
        return self.runtime_dir / "server.json"


def resolve_paths(env: dict[str, str] | None = None, data_dir: str | None = None) -> Paths:
    """The folders, from ``OMNI_HOME``, ``OMNI_DATA_DIR`` / ``DATA_DIR`` or the platform."""
    env = dict(os.environ) if env is None else env
    home = env.get("OMNI_HOME")
    if home:
        root = Path(home).expanduser()
        config_dir, data, runtime = root, root / "data", root / "run"
    else:
        import platformdirs

        config_dir = platformdirs.user_config_path(APP_NAME)
        data = platformdirs.user_data_path(APP_NAME)
        runtime = _runtime_dir(data)
    chosen = data_dir or env.get("OMNI_DATA_DIR") or env.get("DATA_DIR")
    if chosen:
        data = Path(chosen).expanduser()
        if not home:
            runtime = data / "run"
    return Paths(config_dir=config_dir, data_dir=data, runtime_dir=runtime)


def _runtime_dir(data: Path) -> Path:
    """The per-user runtime dir when the system provides one, else a folder in the data dir."""
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and Path(xdg).is_dir():
        return Path(xdg) / APP_NAME
    return data / "run"


def ensure_dir(path: Path, mode: int = 0o700) -> Path:
    """Create ``path`` (and parents) private to the user if missing; return it."""
    path.mkdir(parents=True, exist_ok=True, mode=mode)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only (0600), atomically."""
    ensure_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
