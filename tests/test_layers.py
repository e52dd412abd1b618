"""The layer rules of the architecture, enforced.

1. ``omni.ir`` and ``omni.translate`` do no I/O (no aiohttp, httpx, sqlite drivers).
2. The engine, wire, state and server layers never import typer, rich, textual or the TUI.
3. ``omni.tui`` never imports the server, gateway, store, admin services or wire layer:
   it is a client of the management API only (checked in the source and at run time).
4. ``omni --help`` and quick commands load neither textual nor aiohttp's server.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "omni"

RULES: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (
        ("omni.ir", "omni.translate"),
        (
            "aiohttp",
            "httpx",
            "sqlite3",
            "sqlean",
            "omni.store",
            "omni.serve",
            "omni.gateway",
            "omni.providers",
            "socket",
            "asyncio",
        ),
    ),
    (
        (
            "omni.gateway",
            "omni.providers",
            "omni.store",
            "omni.serve",
            "omni.admin",
            "omni.ir",
            "omni.translate",
            "omni.tools",
        ),
        ("typer", "rich", "textual", "omni.tui", "omni.commands", "omni.cli"),
    ),
    (
        ("omni.tui",),
        ("omni.serve", "omni.gateway", "omni.store", "omni.admin", "omni.providers", "aiohttp"),
    ),
    (("omni.store",), ("omni.serve", "omni.gateway", "aiohttp")),
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _matches(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_import_rules() -> None:
    violations = []
    for path in sorted(ROOT.rglob("*.py")):
        module = _module_name(path)
        for layer, forbidden in RULES:
            if _matches(module, layer):
                violations += [
                    f"{module} imports {name}"
                    for name in _imports(path)
                    if _matches(name, forbidden)
                ]
    assert violations == []


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["providers", "--help"],
        ["config", "path"],
        ["status", "--json"],
        ["tui", "--help"],
    ],
)
def test_quick_commands_do_not_load_heavy_modules(argv: list[str], omni_home: Path) -> None:
    code = (
        "import sys\n"
        "from omni.cli import app\n"
        "try:\n"
        f"    app({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('textual', 'aiohttp.web', 'aiohttp.web_app', 'omni.serve.app',"
        " 'omni.gateway.pipeline') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    line = [x for x in result.stderr.splitlines() if x.startswith("HEAVY=")]
    assert line == ["HEAVY="], result.stderr


def test_the_dashboard_loads_no_server_side_module() -> None:
    code = (
        "import sys\n"
        "import omni.tui.app\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[:2] in (['omni', 'serve'],"
        " ['omni', 'gateway'], ['omni', 'store'], ['omni', 'admin'], ['omni', 'providers'])"
        " or m == 'aiohttp')\n"
        "print('BAD=' + ','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert "BAD=\n" in result.stdout, result.stdout + result.stderr
