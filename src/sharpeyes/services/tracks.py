"""Tracks kept for search: the record in the store, the best picture as a JPEG beside it, its appearance embedding
in the record and in the appearance index; and the tracks that look most like a picture."""

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

from sharpeyes.analytics.embedder import Embedder, WordsEmbedder
from sharpeyes.core.errors import NotFoundError, UnavailableError
from sharpeyes.core.tracks import AppearanceFilter, AppearanceIndex, TrackFilter, TrackRecord
from sharpeyes.store.tracks import TrackRepository

logger = logging.getLogger(__name__)

LOOKED_THROUGH = 8
"""Neighbours fetched per result asked for when colours or bags are asked too (the index does not check those)."""
CATCH_UP_BATCH = 5000


class TrackService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        tracks_dir: Path,
        embedder: Callable[[], Embedder | None] = lambda: None,
        index: Callable[[int], AppearanceIndex] | None = None,
    ) -> None:
        """``embedder`` opens the appearance embedder when first needed; None from it: not installed. ``index``
        opens the appearance index for vectors of a size (None: search by example is not offered)."""
        self._sessions = sessions
        self._dir = tracks_dir
        self._open_embedder = embedder
        self._open_index = index
        self._indexes: dict[int, AppearanceIndex] = {}
        self._index_lock = threading.Lock()
        self._unopened: set[int] = set()
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
        index = self._index_or_none(len(embedding)) if embedding is not None else None  # opened before the row
        with self._sessions.begin() as db:  # is written, so its catching up cannot add the row twice
            track_id = TrackRepository(db).add(replace(record, thumbnail=name, embedding=embedding))
        if index is not None:
            try:
                index.add([replace(record, id=track_id, embedding=embedding)])
            except Exception:  # the record is kept; the index catches up from it when next opened
                logger.exception("track %d not added to the appearance index", track_id)
        return track_id

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

    def words(self, text: str) -> np.ndarray | None:
        """The embedding of a description, when the appearance model reads words (a CLIP-style model); else None."""
        embedder = self._embedder_or_none()
        return embedder.embed_text(text) if isinstance(embedder, WordsEmbedder) else None

    def most_alike(self, vector: np.ndarray, wanted: TrackFilter) -> list[tuple[TrackRecord, float]]:
        """The ``wanted.limit`` tracks passing the filters that look most like ``vector``, best first: the index
        checks times, classes and places while it searches; colours and bags are checked on what it finds."""
        with self._sessions() as db:
            cameras = TrackRepository(db).cameras(wanted)
        checked = AppearanceFilter(wanted.start, wanted.end, wanted.classes, cameras)
        also_looks = bool(wanted.upper_colours or wanted.lower_colours or wanted.any_colours or wanted.carried)
        found = self._index(len(vector)).nearest(
            vector, checked, wanted.limit * LOOKED_THROUGH if also_looks else wanted.limit
        )
        with self._sessions() as db:
            records = TrackRepository(db).get_many([track_id for track_id, _ in found])
        likeness = dict(found)
        kept = [(record, likeness[record.id or 0]) for record in records if wanted.looks_like(record)]
        return kept[: wanted.limit]

    def close(self) -> None:
        with self._index_lock:
            for index in self._indexes.values():
                index.close()
            self._indexes.clear()

    def _index(self, size: int) -> AppearanceIndex:
        """The appearance index of ``size``-value vectors, caught up with the tracks kept since it last saw one."""
        if self._open_index is None:
            raise UnavailableError("search by example is not set up / 未配置以图搜图", code="no_index")
        with self._index_lock:
            index = self._indexes.get(size)
            if index is None:
                index = self._open_index(size)
                while batch := self._kept_after(index.newest(), size):
                    index.add(batch)
                self._indexes[size] = index
            return index

    def _index_or_none(self, size: int) -> AppearanceIndex | None:
        if size in self._unopened:
            return None
        try:
            return self._index(size)
        except Exception:  # search by example goes without until a restart; tracks are still kept (and caught up)
            logger.exception("the appearance index could not be opened")
            self._unopened.add(size)
            return None

    def _kept_after(self, after: int, size: int) -> list[TrackRecord]:
        with self._sessions() as db:
            return TrackRepository(db).with_appearance_after(after, size, CATCH_UP_BATCH)

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
