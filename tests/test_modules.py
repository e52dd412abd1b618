"""Every module says what it is for and stays small enough to read."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 600


def _modules() -> list[Path]:
    return sorted([*(ROOT / "omni").rglob("*.py"), *(ROOT / "tests").rglob("*.py")])


def test_every_package_module_has_a_docstring() -> None:
    missing = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "omni").rglob("*.py")
        if not ast.get_docstring(ast.parse(p.read_text("utf-8")))
    ]
    assert missing == []


def test_no_module_over_the_limit() -> None:
    too_long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}
