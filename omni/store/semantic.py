"""Repository for the semantic cache's store tier (table ``semantic_cache``, migration 15).

Each row is the embedding of one kept prompt beside the key of its answer in
``response_cache`` (deleting an answer deletes its rows). Rows are grouped in partitions —
API-key namespace, requested model or combo, dialect, request shape, embedder — and a
lookup only ever compares vectors inside one partition.

Vectors are stored as float32 blobs, sqlite-vec's vector form, and compared with its
``vec_distance_cosine`` (so :func:`nearest` needs :func:`omni.store.vectors.load_vec` on
the connection first). A plain table rather than a ``vec0`` virtual table: embedders differ
in dimensions, and a virtual table makes the database unreadable for any connection that
has not loaded the extension (backups scrub and copy every table).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from omni.store.driver import Connection
from omni.store.vectors import pack

MAX_ROWS = 20_000

Partition = tuple[str, str, str, str, str]
"""(namespace, model, dialect, shape, source): the rows a prompt may be compared with."""


@dataclass(frozen=True, slots=True)
class Match:
    key: str
    similarity: float


def partitions(conn: Connection, now: float) -> dict[Partition, int]:
    """How many live rows each partition holds."""
    rows = conn.execute(
        "SELECT namespace, model, dialect, shape, source, COUNT(*) FROM semantic_cache "
        "WHERE expires > ? GROUP BY namespace, model, dialect, shape, source",
        (now,),
    ).fetchall()
    return {(str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])): int(r[5]) for r in rows}


def insert(
    conn: Connection,
    key: str,
    partition: Partition,
    vector: Sequence[float],
    now: float,
    expires: float,
) -> int:
    """Keep the embedding of the prompt answered by ``key``; returns the partition's size.

    Raises the driver's IntegrityError when ``response_cache`` holds no answer ``key``."""
    conn.execute(
        "INSERT INTO semantic_cache (key, namespace, model, dialect, shape, source, dims, "
        "embedding, created, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (key, source) DO UPDATE SET embedding = excluded.embedding, "
        "dims = excluded.dims, created = excluded.created, expires = excluded.expires",
        (key, *partition, len(vector), pack(vector), now, expires),
    )
    conn.execute("DELETE FROM semantic_cache WHERE expires <= ?", (now,))
    conn.execute(
        "DELETE FROM semantic_cache WHERE id IN (SELECT id FROM semantic_cache "
        "ORDER BY created DESC LIMIT -1 OFFSET ?)",
        (MAX_ROWS,),
    )
    row = conn.execute(
        "SELECT COUNT(*) FROM semantic_cache WHERE namespace = ? AND model = ? AND dialect = ? "
        "AND shape = ? AND source = ? AND expires > ?",
        (*partition, now),
    ).fetchone()
    return int(row[0])


def nearest(
    conn: Connection, partition: Partition, vector: Sequence[float], now: float
) -> Match | None:
    """The live row of ``partition`` closest to ``vector`` (cosine), if any."""
    row = conn.execute(
        "SELECT key, vec_distance_cosine(embedding, ?) AS distance FROM semantic_cache "
        "WHERE namespace = ? AND model = ? AND dialect = ? AND shape = ? AND source = ? "
        "AND dims = ? AND expires > ? ORDER BY distance LIMIT 1",
        (pack(vector), *partition, len(vector), now),
    ).fetchone()
    if row is None or row[1] is None:
        return None
    return Match(str(row[0]), 1.0 - float(row[1]))


def clear(conn: Connection) -> int:
    """Forget every row; returns how many there were."""
    return int(conn.execute("DELETE FROM semantic_cache").rowcount)
