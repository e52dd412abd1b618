"""Reading and writing the coding tools' own file formats: JSON (tolerating the comments
and trailing commas of JSONC), TOML (through tomlkit, so comments survive) and ``.env``.

A file that cannot be parsed is never overwritten: :class:`ToolFileError` says which file
and what to do.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from omni.errors import InvalidInputError


class ToolFileError(InvalidInputError):
    """A coding tool's config file that omni cannot read, so will not rewrite."""


def _strip_jsonc(text: str) -> str:
    """``text`` without // and /* */ comments (outside strings) and trailing commas."""
    out: list[str] = []
    i, n, in_string = 0, len(text), False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        else:
            out.append(c)
        i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def load_json(path: Path, text: str | None) -> dict[str, Any]:
    """The JSON object in ``text`` (``{}`` when the file does not exist or is empty)."""
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = json.loads(_strip_jsonc(text))
        except json.JSONDecodeError as exc:
            raise ToolFileError(
                f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}); omni will not "
                "rewrite it",
                hint="fix the file (or move it away) and run the command again",
            ) from None
    if not isinstance(data, dict):
        raise ToolFileError(f"{path} does not hold a JSON object; omni will not rewrite it")
    return data


def dump_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def table(data: dict[str, Any], key: str, path: Path, where: str = "") -> dict[str, Any]:
    """``data[key]`` as an object, created when missing; refuses another type."""
    value = data.setdefault(key, {})
    if not isinstance(value, dict):
        raise ToolFileError(f"{path}: '{where}{key}' is not an object; omni will not rewrite it")
    return value


def prune(data: dict[str, Any], *keys: str) -> None:
    """Delete ``data[k1][k2]…`` and then every object on the way that became empty."""
    if not keys:
        return
    head, rest = keys[0], keys[1:]
    if rest:
        inner = data.get(head)
        if isinstance(inner, dict):
            prune(inner, *rest)
            if not inner:
                del data[head]
    else:
        data.pop(head, None)


def load_toml(path: Path, text: str | None) -> Any:
    """A tomlkit document of ``text`` (empty when the file does not exist)."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        return tomlkit.parse(text or "")
    except TOMLKitError as exc:
        raise ToolFileError(
            f"{path} is not valid TOML ({exc}); omni will not rewrite it",
            hint="fix the file (or move it away) and run the command again",
        ) from None


def dump_toml(doc: Any) -> str:
    import tomlkit

    return str(tomlkit.dumps(doc))


_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")


def env_values(text: str | None) -> dict[str, str]:
    """The variables a ``.env`` text sets (surrounding quotes removed)."""
    found: dict[str, str] = {}
    for line in (text or "").splitlines():
        match = _ENV_LINE.match(line)
        if match:
            found[match[1]] = match[2].strip().strip("'\"")
    return found


def set_env(text: str | None, values: dict[str, str | None]) -> str:
    """``text`` with each variable set (or, for None, removed); other lines kept as they are."""
    lines = (text or "").splitlines()
    pending = dict(values)
    out: list[str] = []
    for line in lines:
        match = _ENV_LINE.match(line)
        if match and match[1] in pending:
            value = pending.pop(match[1])
            if value is not None:
                out.append(f"{match[1]}={value}")
            continue
        out.append(line)
    out += [f"{name}={value}" for name, value in pending.items() if value is not None]
    return "\n".join(out) + "\n" if out else ""
