"""Pointing a coding tool at omni, showing the change first, and undoing it.

:func:`plan_setup` reads the tool's files and asks its writer for their new text; a
:class:`Plan` shows itself as a unified diff with secrets masked (``--dry-run``).
:func:`apply` backs up every file it is about to change, then writes (atomically; a new
file is private to the user, an existing one keeps its mode). Backups live in the data
dir under ``tool-backups/<tool>/<time>/`` with a ``manifest.json`` (what each file was
before and after); the newest 5 are kept, plus the last one taken before omni was first
set up.

:func:`reset` puts back exactly what was there (byte for byte, deleting files setup
created) when the files are still as omni left them. When the user changed them since,
it only takes omni's entries out, keeping their edits.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from omni.errors import InvalidInputError, NotFoundError
from omni.tools.formats import ToolFileError
from omni.tools.writers import WRITERS, Places, Target, Texts, Writer

KEEP = 5
_SECRET = re.compile(
    r'(?P<name>"?[A-Za-z0-9_.$-]*(?:key|token|secret|password)[A-Za-z0-9_.-]*"?\s*[:=]\s*)'
    r'(?P<quote>"?)(?P<value>[^"\n,]+)',
    re.IGNORECASE,
)


def writer(tool_id: str) -> Writer:
    found = WRITERS.get(tool_id)
    if found is None:
        raise NotFoundError(
            f"omni cannot set up '{tool_id}'",
            hint=f"choose one of: {', '.join(WRITERS)}",
        )
    return found


def _sha(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ToolFileError(f"{path} is a folder, not a file") from None
    except OSError as exc:
        raise ToolFileError(f"cannot read {path}: {exc.strerror}") from None


def _text(path: Path, data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolFileError(f"{path} is not UTF-8 text; omni will not rewrite it") from None


def read_texts(paths: dict[str, Path]) -> Texts:
    return {role: _text(path, _read(path)) for role, path in paths.items()}


def mask(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """``text`` with secret-looking values (keys, tokens) and the given secrets masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _SECRET.sub(
        lambda m: f"{m['name']}{m['quote']}***" if m["value"].strip() else m[0], text
    )


@dataclass(frozen=True, slots=True)
class FileChange:
    role: str
    path: Path
    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True, slots=True)
class Plan:
    """The change to one tool's files."""

    tool: str
    changes: tuple[FileChange, ...]

    @property
    def changed(self) -> bool:
        return any(c.changed for c in self.changes)

    def diff(self, secrets: list[str] | tuple[str, ...] = ()) -> str:
        """A unified diff of every file that changes, secrets masked."""
        out: list[str] = []
        for change in self.changes:
            if not change.changed:
                continue
            before = (change.before or "").splitlines(keepends=True)
            after = (change.after or "").splitlines(keepends=True)
            old = str(change.path) if change.before is not None else "/dev/null"
            new = str(change.path) if change.after is not None else "/dev/null"
            for line in difflib.unified_diff(before, after, old, new):
                out.append(line if line.endswith("\n") else line + "\n")
        return mask("".join(out), secrets)


def plan_setup(tool_id: str, places: Places, target: Target) -> Plan:
    tool = writer(tool_id)
    paths = tool.paths(places)
    texts = read_texts(paths)
    after = tool.configure(paths, texts, target)
    return Plan(tool_id, tuple(FileChange(r, p, texts[r], after.get(r)) for r, p in paths.items()))


def inspect(tool_id: str, places: Places) -> dict[str, Any]:
    """The tool's files and whether they point at omni (``url``, ``model``; never the
    key), read-only."""
    tool = writer(tool_id)
    paths = tool.paths(places)
    answer: dict[str, Any] = {
        "files": {role: str(path) for role, path in paths.items()},
        "configured": None,
        "error": None,
    }
    try:
        found = tool.inspect(paths, read_texts(paths))
    except ToolFileError as exc:
        answer["error"] = exc.message
    else:
        if found is not None:
            answer["configured"] = {"url": found.get("url"), "model": found.get("model")}
    return answer


def configured_key(tool_id: str, places: Places) -> str | None:
    """The key the tool sends to omni now, if it is set up for omni (to reuse it)."""
    tool = writer(tool_id)
    paths = tool.paths(places)
    try:
        found = tool.inspect(paths, read_texts(paths))
    except ToolFileError:
        return None
    key = found.get("key") if found else None
    return key if isinstance(key, str) and key else None


# -- backups -------------------------------------------------------------------------------


class Backups:
    """Backups of tool files, one folder per change, under ``root/<tool>/``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def manifests(self, tool_id: str) -> list[dict[str, Any]]:
        """Every backup of ``tool_id``, newest first (``dir`` added: where it is)."""
        folder = self.root / tool_id
        found = []
        for entry in sorted(folder.glob("*/manifest.json"), reverse=True):
            try:
                manifest = json.loads(entry.read_text("utf-8"))
            except (OSError, ValueError):
                continue
            manifest["dir"] = str(entry.parent)
            found.append(manifest)
        return found

    def record(
        self, plan: Plan, action: str, pristine: bool, key_id: int | None, created: list[str]
    ) -> dict[str, Any]:
        """Copy every file of ``plan`` as it is now and write the manifest."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        folder = self.root / plan.tool / f"{stamp}-{action}"
        self.root.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        for level in (self.root, self.root / plan.tool, folder):  # each private, not just the last
            level.mkdir(mode=0o700, exist_ok=level != folder)
        files = []
        for number, change in enumerate(plan.changes):
            data = _read(change.path)
            copy = None
            if data is not None:
                copy = str(number)
                fd = os.open(folder / copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
            after = None if change.after is None else change.after.encode("utf-8")
            files.append(
                {
                    "role": change.role,
                    "path": str(change.path),
                    "existed": data is not None,
                    "mode": change.path.stat().st_mode & 0o777 if data is not None else None,
                    "before_sha": _sha(data),
                    "after_sha": _sha(after),
                    "copy": copy,
                }
            )
        manifest = {
            "tool": plan.tool,
            "action": action,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "pristine": pristine,
            "key_id": key_id,
            "created_dirs": created,
            "files": files,
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), "utf-8")
        self._prune(plan.tool)
        return {**manifest, "dir": str(folder)}

    def _prune(self, tool_id: str) -> None:
        manifests = self.manifests(tool_id)
        chain = _chain(manifests)
        keep = {m["dir"] for m in manifests[:KEEP]} | {m["dir"] for m in chain}
        for manifest in manifests:
            if manifest["dir"] not in keep:
                shutil.rmtree(manifest["dir"], ignore_errors=True)


def _chain(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The setups from the newest back to the one taken before omni was set up, when each
    started from exactly what the one before it wrote; empty when there is no such chain."""
    setups = [m for m in manifests if m.get("action") == "setup"]
    chain: list[dict[str, Any]] = []
    for index, manifest in enumerate(setups):
        chain.append(manifest)
        if manifest.get("pristine"):
            return chain
        older = setups[index + 1] if index + 1 < len(setups) else None
        if older is None or not _continues(manifest, older):
            return []
    return []


def _continues(newer: dict[str, Any], older: dict[str, Any]) -> bool:
    wrote = {f["path"]: f["after_sha"] for f in older["files"]}
    return all(wrote.get(f["path"], f["before_sha"]) == f["before_sha"] for f in newer["files"])


def _write(path: Path, text: str | bytes | None, mode: int | None, created: list[str]) -> None:
    if text is None:
        path.unlink(missing_ok=True)
        return
    data = text.encode("utf-8") if isinstance(text, str) else text
    _make_dirs(path.parent, created)
    old_mode = path.stat().st_mode & 0o777 if path.exists() else None
    tmp = path.with_name(f".{path.name}.omni-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode if mode is not None else old_mode if old_mode is not None else 0o600)
    os.replace(tmp, path)


def _make_dirs(folder: Path, created: list[str]) -> None:
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700)
        created.append(str(path))


def apply(plan: Plan, backups: Backups, key_id: int | None = None) -> dict[str, Any] | None:
    """Back up the files of ``plan``, then write them; the backup's manifest (None when
    nothing changes: the tool is already set up exactly so)."""
    if not plan.changed:
        return None
    tool = writer(plan.tool)
    paths = {c.role: c.path for c in plan.changes}
    pristine = tool.inspect(paths, {c.role: c.before for c in plan.changes}) is None
    for change in plan.changes:  # refuse before touching anything if a file moved on
        if _text(change.path, _read(change.path)) != change.before:
            raise InvalidInputError(
                f"{change.path} changed while omni was preparing the setup; run it again"
            )
    created: list[str] = []
    manifest = backups.record(plan, "setup", pristine, key_id, created)
    for change in plan.changes:
        if change.changed:
            _write(change.path, change.after, None, created)
    if created:
        manifest["created_dirs"] = created
        Path(manifest["dir"], "manifest.json").write_text(
            json.dumps({k: v for k, v in manifest.items() if k != "dir"}, indent=2), "utf-8"
        )
    return manifest


def reset(tool_id: str, places: Places, backups: Backups) -> dict[str, Any]:
    """Undo omni's setup of ``tool_id``: restore the files or take omni's entries out.

    The answer says how (``restored``, ``removed`` or ``nothing``), which files changed
    and which API keys the undone setups created (for the caller to revoke).
    """
    tool = writer(tool_id)
    paths = tool.paths(places)
    texts = read_texts(paths)
    if tool.inspect(paths, texts) is None:
        return {"tool": tool_id, "mode": "nothing", "files": [], "keys": []}
    manifests = backups.manifests(tool_id)
    chain = _chain(manifests)
    now = {str(p): _sha(_read(p)) for p in paths.values()}
    current = bool(chain) and all(
        now.get(f["path"]) == f["after_sha"] for f in chain[0]["files"] if f["path"] in now
    )
    undo = Plan(tool_id, tuple(FileChange(r, p, texts[r], texts[r]) for r, p in paths.items()))
    backups.record(undo, "reset", False, None, [])
    if current:
        origin = chain[-1]
        for entry in origin["files"]:
            path = Path(entry["path"])
            if entry["existed"]:
                data = (Path(origin["dir"]) / entry["copy"]).read_bytes()
                _write(path, data, entry["mode"], [])
            else:
                path.unlink(missing_ok=True)
        for folder in sorted(origin.get("created_dirs", []), key=len, reverse=True):
            with contextlib.suppress(OSError):
                Path(folder).rmdir()
        keys = [m["key_id"] for m in chain if m.get("key_id") is not None]
        return {"tool": tool_id, "mode": "restored", "files": list(now), "keys": keys}
    after = tool.unconfigure(paths, texts)
    changed = []
    for role, path in paths.items():
        if after.get(role) != texts[role]:
            _write(path, after.get(role), None, [])
            changed.append(str(path))
    return {"tool": tool_id, "mode": "removed", "files": changed, "keys": []}


def local_url(host: str, port: int) -> str:
    """The URL a client on this machine uses to reach omni listening on ``host:port``."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - mapping a wildcard bind to loopback
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
