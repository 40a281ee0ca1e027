"""Queries over the camera table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from sharpeyes.core.cameras import Camera, RtspTransport
from sharpeyes.core.clock import as_utc
from sharpeyes.store.models import CameraRow


class CameraRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def list(self) -> Sequence[Camera]:
        rows = self._db.scalars(select(CameraRow).order_by(CameraRow.name))
        return [_to_camera(row) for row in rows]

    def get(self, camera_id: str) -> Camera | None:
        row = self._db.get(CameraRow, camera_id)
        return _to_camera(row) if row is not None else None

    def find_by_name(self, name: str) -> Camera | None:
        row = self._db.scalars(select(CameraRow).where(CameraRow.name == name)).first()
        return _to_camera(row) if row is not None else None

    def add(self, camera: Camera) -> None:
        self._db.add(
            CameraRow(
                id=camera.id,
                name=camera.name,
                source_url=camera.source_url,
                rtsp_transport=camera.rtsp_transport,
                created_at=camera.created_at,
            )
        )
        self._db.flush()

    def delete(self, camera_id: str) -> bool:
        row = self._db.get(CameraRow, camera_id)
        if row is None:
            return False
        self._db.delete(row)
        self._db.flush()
        return True


def _to_camera(row: CameraRow) -> Camera:
    return Camera(
        id=row.id,
        name=row.name,
        source_url=row.source_url,
        rtsp_transport=cast(RtspTransport, row.rtsp_transport),
        created_at=as_utc(row.created_at),
    )
