"""The semantic cache's store tier: partitions, nearest by cosine, gone with the answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from omni.store import semantic, vectors
from omni.store.db import open_database
from omni.store.driver import Connection, IntegrityError

ALICE = ("1", "fake/m", "openai", "shape", "provider:fake/embed")
BOB = ("2", "fake/m", "openai", "shape", "provider:fake/embed")


def _answer(conn: Connection, key: str) -> None:
    conn.execute(
        "INSERT INTO response_cache (key, body, provider, model, cost, created, expires) "
        "VALUES (?, x'7b7d', 'fake', 'm', NULL, 0, 100)",
        (key,),
    )


def test_nearest_stays_in_its_partition_and_rows_go_with_their_answer(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    with db.session() as conn:
        vectors.load_vec(conn)
        for key in ("a", "b", "c"):
            _answer(conn, key)
        assert semantic.insert(conn, "a", ALICE, [1.0, 0.0, 0.0], now=1, expires=100) == 1
        assert semantic.insert(conn, "b", ALICE, [0.0, 1.0, 0.0], now=1, expires=100) == 2
        assert semantic.insert(conn, "c", BOB, [1.0, 0.0, 0.0], now=1, expires=100) == 1
        match = semantic.nearest(conn, ALICE, [0.9, 0.1, 0.0], now=2)
        assert match is not None and match.key == "a" and match.similarity > 0.99
        assert semantic.nearest(conn, ALICE, [0.9, 0.1, 0.0], now=100) is None  # expired
        assert semantic.partitions(conn, now=2) == {ALICE: 2, BOB: 1}
        conn.execute("DELETE FROM response_cache WHERE key = 'a'")
        match = semantic.nearest(conn, ALICE, [0.9, 0.1, 0.0], now=2)
        assert match is not None and match.key == "b"
        with pytest.raises(IntegrityError):  # no answer, no embedding
            semantic.insert(conn, "missing", ALICE, [1.0, 0.0, 0.0], now=1, expires=100)
        assert semantic.clear(conn) == 2
