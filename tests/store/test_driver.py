"""The chosen SQLite driver loads sqlite-vec and answers nearest-neighbour queries."""

from __future__ import annotations

from pathlib import Path

from omni.store import vectors
from omni.store.db import open_database
from omni.store.driver import CAN_LOAD_EXTENSIONS, driver_name


def test_driver_can_load_extensions() -> None:
    assert CAN_LOAD_EXTENSIONS, driver_name()


def test_sqlite_vec_knn_in_the_omni_database(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    with db.session() as conn:
        assert vectors.load_vec(conn).startswith("v")
        vectors.create_table(conn, "vec_test", 3)
        points = {1: [1.0, 0.0, 0.0], 2: [0.0, 1.0, 0.0], 3: [0.9, 0.1, 0.0], 4: [0.0, 0.0, 1.0]}
        for rowid, point in points.items():
            conn.execute(
                "INSERT INTO vec_test (rowid, embedding) VALUES (?, ?)",
                (rowid, vectors.pack(point)),
            )
        nearest = vectors.nearest(conn, "vec_test", [1.0, 0.05, 0.0], k=2)
    assert [rowid for rowid, _ in nearest] == [1, 3]
    assert nearest[0][1] <= nearest[1][1]
