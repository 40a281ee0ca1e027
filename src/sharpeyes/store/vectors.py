"""Appearance embeddings in sqlite-vec: a SQLite file of their own, opened through apsw (this CPython's ``sqlite3``
cannot load extensions). Vectors are kept as int8 (unit vectors × 127) with each track's camera, class and times as
metadata columns, so sqlite-vec checks a filter while it scans. The scan is exact and quick up to a few hundred
thousand vectors; past that an IVF index (``store.ivf``) built from this file answers, and this file stays the record
it is built from."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import apsw
import numpy as np
import sqlite_vec

from sharpeyes.core.tracks import AppearanceFilter, TrackRecord

SCALE = 127.0
"""A unit vector's values times this, rounded, are its int8 form."""
MOST_AT_ONCE = 4096
"""sqlite-vec answers at most this many neighbours a query."""
READ_BATCH = 50_000
LOOKED_UP = 20_000
"""Vectors newer than a point are read by id up to this many ids (a scan reads them all, ~140,000 a second)."""


@dataclass(frozen=True, slots=True)
class VectorBatch:
    """Tracks as an appearance index holds them: columns of equal length."""

    ids: np.ndarray  # int64
    camera_ids: list[str]
    classes: list[str]
    start_s: np.ndarray  # int64 Unix seconds
    end_s: np.ndarray
    vectors: np.ndarray  # int8, one row a track

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def of(cls, tracks: Sequence[TrackRecord]) -> VectorBatch:
        """The tracks that have an id and an embedding."""
        kept = [t for t in tracks if t.id is not None and t.embedding is not None]
        size = len(kept[0].embedding) if kept else 0  # type: ignore[arg-type]
        vectors = np.array([t.embedding for t in kept], np.float32).reshape(len(kept), size)
        return cls(
            ids=np.array([t.id for t in kept], np.int64),
            camera_ids=[t.camera_id for t in kept],
            classes=[t.class_name for t in kept],
            start_s=np.array([int(t.start.timestamp()) for t in kept], np.int64),
            end_s=np.array([int(t.end.timestamp()) + 1 for t in kept], np.int64),  # a track's last second counts
            vectors=quantize(vectors),
        )


def quantize(vectors: np.ndarray) -> np.ndarray:
    scaled = np.rint(np.asarray(vectors, np.float32) * SCALE)
    return np.asarray(np.clip(scaled, -127, 127), np.int8)


def likeness(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """How alike int8 ``vectors`` are to a unit ``query`` as sqlite-vec measures it: from the distance between the
    int8 forms, 1 − d² / 2 (≈ the cosine)."""
    difference = vectors.astype(np.float32) - quantize(query).astype(np.float32)
    squared: np.ndarray = np.einsum("ij,ij->i", difference, difference)
    return 1.0 - squared / (2 * SCALE * SCALE)


class SqliteVecStore:
    def __init__(self, path: Path, size: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.size = size
        self._table = f"appearance_{int(size)}"  # the only name put into this module's SQL, from a number
        self._lock = threading.Lock()  # one connection, used from the analysis workers and the web threads
        self._path = path
        self._db = self._connect()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {self._table} USING vec0(track_id integer primary key,"
            f" camera_id text, class_name text, start_s integer, end_s integer,"
            f" embedding int8[{size}] distance_metric=l2)"
        )
        # How many vectors and the newest id, kept beside the table: sqlite-vec answers count(*) and max() by a scan.
        self._db.execute("CREATE TABLE IF NOT EXISTS kept (size INTEGER PRIMARY KEY, count INTEGER, newest INTEGER)")
        if not self._db.execute("SELECT 1 FROM kept WHERE size = ?", (size,)).fetchall():
            (count, newest) = self._db.execute(
                f"SELECT count(*), coalesce(max(track_id), 0) FROM {self._table}"  # noqa: S608
            ).fetchall()[0]
            self._db.execute("INSERT INTO kept VALUES (?, ?, ?)", (size, count, newest))

    def _connect(self, *, readonly: bool = False) -> apsw.Connection:
        flags = apsw.SQLITE_OPEN_READONLY if readonly else apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE
        connection = apsw.Connection(str(self._path), flags=flags)
        connection.enable_load_extension(True)
        connection.load_extension(sqlite_vec.loadable_path())
        connection.enable_load_extension(False)
        connection.set_busy_timeout(30_000)
        return connection

    def add(self, batch: VectorBatch) -> None:
        rows = zip(
            batch.ids.tolist(),
            batch.camera_ids,
            batch.classes,
            batch.start_s.tolist(),
            batch.end_s.tolist(),
            (vector.tobytes() for vector in batch.vectors),
            strict=True,
        )
        with self._lock, self._db:
            self._db.executemany(
                f"INSERT INTO {self._table} (track_id, camera_id, class_name, start_s, end_s, embedding)"  # noqa: S608
                " VALUES (?, ?, ?, ?, ?, vec_int8(?))",
                rows,
            )
            self._db.execute(
                "UPDATE kept SET count = count + ?, newest = max(newest, ?) WHERE size = ?",
                (len(batch), int(batch.ids.max()), self.size),
            )

    def count(self) -> int:
        return self._kept()[0]

    def newest(self) -> int:
        return self._kept()[1]

    def _kept(self) -> tuple[int, int]:
        with self._lock:
            (count, newest) = self._db.execute(
                "SELECT count, newest FROM kept WHERE size = ?", (self.size,)
            ).fetchall()[0]
        return int(cast(int, count)), int(cast(int, newest))

    def batches(self, after: int = 0) -> Iterator[VectorBatch]:
        """Every vector of a track newer than ``after``, a batch at a time: one pass over the table on a connection
        of its own (sqlite-vec cannot seek by track id, so a pass per batch would read the table again each time)."""
        newest = self.newest()
        if newest <= after:
            return
        reader = self._connect(readonly=True)
        columns = f"SELECT track_id, camera_id, class_name, start_s, end_s, embedding FROM {self._table}"  # noqa: S608
        try:
            rows: Iterator[Any]
            if newest - after <= LOOKED_UP:  # a few newer ones (catching up): each by its id, no scan
                rows = itertools.chain.from_iterable(
                    reader.execute(f"{columns} WHERE track_id = ?", (track_id,))
                    for track_id in range(after + 1, newest + 1)
                )
            else:
                rows = reader.execute(f"{columns} WHERE track_id > ?", (after,))
            while chunk := list(itertools.islice(rows, READ_BATCH)):
                ids, cameras, classes, starts, ends, blobs = zip(*chunk, strict=True)
                yield VectorBatch(
                    ids=np.array(ids, np.int64),
                    camera_ids=list(cameras),
                    classes=list(classes),
                    start_s=np.array(starts, np.int64),
                    end_s=np.array(ends, np.int64),
                    vectors=np.frombuffer(b"".join(blobs), np.int8).reshape(len(chunk), self.size),
                )
        finally:
            reader.close()

    def nearest(self, vector: np.ndarray, wanted: AppearanceFilter, k: int) -> list[tuple[int, float]]:
        """Exact search with the filter checked by sqlite-vec; likeness from the int8 distance (≈ cosine)."""
        if wanted.camera_ids is not None and not wanted.camera_ids:
            return []
        conditions = ["embedding MATCH vec_int8(?)", "k = ?", "start_s <= ?", "end_s >= ?"]
        values: list[object] = [
            quantize(vector).tobytes(),
            max(1, min(k, MOST_AT_ONCE)),
            int(wanted.end.timestamp()),
            int(wanted.start.timestamp()),
        ]
        for column, names in (("class_name", wanted.classes), ("camera_id", wanted.camera_ids)):
            if names:
                conditions.append(f"{column} IN ({', '.join('?' * len(names))})")
                values.extend(sorted(names))
        with self._lock:
            rows = cast(
                list[tuple[int, float]],
                self._db.execute(
                    f"SELECT track_id, distance FROM {self._table} WHERE {' AND '.join(conditions)}"  # noqa: S608
                    " ORDER BY distance",
                    values,
                ).fetchall(),
            )
        return [(int(track_id), 1.0 - (float(distance) / SCALE) ** 2 / 2) for track_id, distance in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
