"""``omni backup`` without a running server (on the store directly)."""

from __future__ import annotations

import json
import stat
import tarfile
from pathlib import Path

from typer.testing import CliRunner

from omni.cli import app
from omni.store.driver import sqlite

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _combos() -> list[str]:
    code, out, err = _run("combos", "list", "--json")
    assert code == 0, err
    return [c["name"] for c in json.loads(out)]


def test_create_list_restore(omni_home: Path) -> None:
    code, out, err = _run("backup", "list")
    assert code == 0 and out == "" and "omni backup create" in err
    _run("combos", "create", "first", "a/b")

    code, out, err = _run("backup", "create", "--json")
    assert code == 0, err
    made = json.loads(out)
    assert made["reason"] == "manual" and made["name"].startswith("omni-")
    code, _, err = _run("backup", "create")
    assert code == 0 and "created backup omni-" in err and "via local store" in err

    code, out, _ = _run("backup", "list", "--json")
    listed = json.loads(out)
    assert len(listed) == 2 and made["name"] in [b["name"] for b in listed]
    assert set(listed[0]) == {"name", "size", "created", "reason", "schema_version"}
    code, out, _ = _run("backup", "list")
    assert code == 0 and made["name"][:20] in out and "manual" in out

    _run("combos", "rm", "first")
    _run("combos", "create", "second", "c/d")
    code, _, err = _run("backup", "restore", made["name"])
    assert code == 0, err
    assert f"restored {made['name']}" in err and "state before is saved as omni-" in err
    assert _combos() == ["first"]

    code, _, err = _run("backup", "restore", "omni-20000101-000000.sqlite")
    assert code == 1 and err.startswith("omni: no backup named")
    code, _, err = _run("backup", "restore", "../../etc/passwd")
    assert code == 1 and "is not a backup name" in err


def test_export_and_import(omni_home: Path, tmp_path: Path) -> None:
    _run("combos", "create", "kept", "a/b")
    target = tmp_path / "out.sqlite"
    code, out, err = _run("backup", "export", str(target), "--json")
    assert code == 0, err
    assert json.loads(out)["size"] == target.stat().st_size
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    code, _, err = _run("backup", "export", str(target))
    assert code == 1 and "already exists" in err
    code, _, err = _run("backup", "export", str(target), "--force")
    assert code == 0 and f"exported the database to {target}" in err

    _run("combos", "rm", "kept")
    code, _, err = _run("backup", "import", str(target))
    assert code == 0, err
    assert f"imported {target}" in err and "state before is saved as" in err
    assert _combos() == ["kept"]

    foreign = tmp_path / "notes.sqlite"
    conn = sqlite.connect(str(foreign))
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    _run("combos", "create", "after", "x/y")
    code, out, err = _run("backup", "import", str(foreign))
    assert code == 1
    assert err.startswith("omni: import refused: the file is not an omni database")
    assert "Traceback" not in out + err
    assert _combos() == ["after", "kept"]
    code, _, err = _run("backup", "import", str(tmp_path / "missing.sqlite"))
    assert code == 1 and "is not a file" in err

    full = tmp_path / "all.tar.gz"
    code, _, err = _run("backup", "export", str(full), "--all")
    assert code == 0, err
    with tarfile.open(full) as archive:
        assert "metadata.json" in archive.getnames()
