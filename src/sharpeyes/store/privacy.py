"""Cameras' privacy masks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from sharpeyes.core.masks import MaskPolygon
from sharpeyes.store.models import PrivacyMaskRow


class PrivacyMaskRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def masks(self, camera_id: str) -> tuple[MaskPolygon, ...]:
        row = self._db.get(PrivacyMaskRow, camera_id)
        if row is None:
            return ()
        return tuple(
            MaskPolygon(tuple((float(x), float(y)) for x, y in item["points"]), str(item.get("name", "")))
            for item in row.polygons
        )

    def put(self, camera_id: str, polygons: tuple[MaskPolygon, ...], by: str, at: datetime) -> None:
        """Replace the camera's masks (none: the row goes)."""
        row = self._db.get(PrivacyMaskRow, camera_id)
        if not polygons:
            if row is not None:
                self._db.delete(row)
            return
        stored = [{"points": [list(point) for point in p.points], "name": p.name} for p in polygons]
        if row is None:
            self._db.add(PrivacyMaskRow(camera_id=camera_id, polygons=stored, changed_by=by, changed_at=at))
        else:
            row.polygons, row.changed_by, row.changed_at = stored, by, at
