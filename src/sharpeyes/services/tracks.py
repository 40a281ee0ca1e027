"""Tracks kept for search: the record in the store, the best picture as a file beside it."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.errors import NotFoundError
from sharpeyes.core.tracks import TrackFilter, TrackRecord
from sharpeyes.store.tracks import TrackRepository

logger = logging.getLogger(__name__)


class TrackService:
    def __init__(self, sessions: sessionmaker[Session], tracks_dir: Path) -> None:
        self._sessions = sessions
        self._dir = tracks_dir

    def keep(self, record: TrackRecord, thumbnail: bytes | None) -> int:
        """Store a track (and its picture under ``CAMERA/YYYYMMDD/``); its id."""
        name = None
        if thumbnail is not None:
            name = f"{record.camera_id}/{record.start:%Y%m%d}/{uuid.uuid4().hex}.jpg"
            path = self._dir / name
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(thumbnail)
            except OSError as err:  # a full disk loses the picture, not the track
                logger.warning("track picture not kept for camera %s: %s", record.camera_id, err)
                name = None
        with self._sessions.begin() as db:
            return TrackRepository(db).add(replace(record, thumbnail=name))

    def find(self, wanted: TrackFilter) -> list[TrackRecord]:
        with self._sessions() as db:
            return TrackRepository(db).find(wanted)

    def thumbnail(self, track_id: int) -> bytes:
        with self._sessions() as db:
            record = TrackRepository(db).get(track_id)
        path = (self._dir / record.thumbnail).resolve() if record is not None and record.thumbnail else None
        if path is None or self._dir.resolve() not in path.parents or not path.is_file():
            raise NotFoundError(f"track {track_id} has no picture", code="no_thumbnail")
        return path.read_bytes()
