"""Tracks kept for search: the record in the store, the best picture as a JPEG beside it, its appearance embedding
in the record; and the tracks that look most like a picture."""

from __future__ import annotations

import io
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.analytics.embedder import Embedder
from sharpeyes.core.errors import NotFoundError, UnavailableError
from sharpeyes.core.tracks import TrackFilter, TrackRecord
from sharpeyes.store.tracks import TrackRepository

logger = logging.getLogger(__name__)

MOST_COMPARED = 200_000
"""Search by example compares the newest tracks that pass the filters, this many at most (bounded work: their
embeddings are held as float16, 2.5 KB each, and scored in chunks)."""
SCORED_AT_ONCE = 20_000


class TrackService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        tracks_dir: Path,
        embedder: Callable[[], Embedder | None] = lambda: None,
    ) -> None:
        """``embedder`` opens the appearance embedder when first needed; None from it: not installed."""
        self._sessions = sessions
        self._dir = tracks_dir
        self._open_embedder = embedder
        self._embedder: Embedder | None = None
        self._embedder_tried = False
        self._embedder_lock = threading.Lock()

    def keep(self, record: TrackRecord, picture: np.ndarray | None) -> int:
        """Store a track with its best picture (BGR; a JPEG under ``CAMERA/YYYYMMDD/``, and its embedding); its id."""
        name, embedding = None, None
        if picture is not None and picture.size:
            name = self._save(record, picture)
            embedder = self._embedder_or_none()
            embedding = embedder.embed([picture])[0] if embedder is not None else None
        with self._sessions.begin() as db:
            return TrackRepository(db).add(replace(record, thumbnail=name, embedding=embedding))

    def find(self, wanted: TrackFilter) -> list[TrackRecord]:
        with self._sessions() as db:
            return TrackRepository(db).find(wanted)

    def get(self, track_id: int) -> TrackRecord:
        with self._sessions() as db:
            record = TrackRepository(db).get(track_id)
        if record is None:
            raise NotFoundError(f"no track {track_id} / 找不到该轨迹", code="track_not_found")
        return record

    def appearance(self, picture: np.ndarray) -> np.ndarray:
        """The embedding of a picture (BGR), to search by."""
        embedder = self._embedder_or_none()
        if embedder is None:
            raise UnavailableError(
                "the appearance model is not installed: run `sharpeyes models install` / 外观模型未安装",
                code="model_missing",
            )
        return np.asarray(embedder.embed([picture])[0])

    def most_alike(self, vector: np.ndarray, wanted: TrackFilter) -> list[tuple[TrackRecord, float]]:
        """The ``wanted.limit`` tracks passing the filters that look most like ``vector``, best first."""
        with self._sessions() as db:
            repository = TrackRepository(db)
            ids, vectors = repository.appearances(wanted, MOST_COMPARED, len(vector))
            if len(ids) == 0:
                return []
            query = vector.astype(np.float32)
            scores = np.concatenate(
                [
                    vectors[i : i + SCORED_AT_ONCE].astype(np.float32) @ query
                    for i in range(0, len(vectors), SCORED_AT_ONCE)
                ]
            )
            best = np.argsort(-scores)[: wanted.limit]
            records = repository.get_many([int(ids[i]) for i in best])
        by_id = {int(ids[i]): float(scores[i]) for i in best}
        return [(record, by_id[record.id or 0]) for record in records]

    def thumbnail(self, track_id: int) -> bytes:
        record = self.get(track_id)
        path = (self._dir / record.thumbnail).resolve() if record.thumbnail else None
        if path is None or self._dir.resolve() not in path.parents or not path.is_file():
            raise NotFoundError(f"track {track_id} has no picture", code="no_thumbnail")
        return path.read_bytes()

    def _save(self, record: TrackRecord, picture: np.ndarray) -> str | None:
        name = f"{record.camera_id}/{record.start:%Y%m%d}/{uuid.uuid4().hex}.jpg"
        out = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(picture[:, :, ::-1])).save(out, format="JPEG", quality=85)
        path = self._dir / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(out.getvalue())
        except OSError as err:  # a full disk loses the picture, not the track
            logger.warning("track picture not kept for camera %s: %s", record.camera_id, err)
            return None
        return name

    def _embedder_or_none(self) -> Embedder | None:
        with self._embedder_lock:  # analysis workers keep tracks from several threads
            if not self._embedder_tried:  # once: a missing model is said once, not at every track
                self._embedder = self._open_embedder()
                self._embedder_tried = True
        return self._embedder
