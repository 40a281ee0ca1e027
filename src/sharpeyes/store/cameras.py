"""Queries over the camera table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, func, select
from sqlalchemy.orm import Session

from sharpeyes.core.cameras import Camera, RtspTransport
from sharpeyes.core.clock import as_utc
from sharpeyes.store.models import CameraRow, SiteRow

CAMERA_COLUMNS = (
    "id",
    "name",
    "source_url",
    "rtsp_transport",
    "created_at",
    "area_code",
    "site_id",
    "longitude",
    "latitude",
    "sub_source_url",
)
_SQL_PARAMS_PER_QUERY = 900


class CameraRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def all(self) -> Sequence[Camera]:
        return self.page(limit=None, offset=0)

    def page(self, *, limit: int | None, offset: int) -> Sequence[Camera]:
        """Cameras by name; ``limit`` None for all of them."""
        query = select(*_COLUMNS).order_by(CameraRow.name, CameraRow.id).offset(offset).limit(limit)
        return [_row_to_camera(row) for row in self._db.execute(query)]

    def list_networked(self) -> Sequence[Camera]:
        rows = self._db.scalars(select(CameraRow).where(CameraRow.source_url.is_not(None)))
        return [_to_camera(row) for row in rows]

    def get(self, camera_id: str) -> Camera | None:
        row = self._db.get(CameraRow, camera_id)
        return _to_camera(row) if row is not None else None

    def find_by_name(self, name: str, area_code: str | None) -> Camera | None:
        row = self._db.scalars(
            select(CameraRow).where(CameraRow.name == name, _same_area(area_code)).order_by(CameraRow.id)
        ).first()
        return _to_camera(row) if row is not None else None

    def get_many(self, camera_ids: Iterable[str]) -> dict[str, Camera]:
        found: dict[str, Camera] = {}
        for chunk in _chunks(list(camera_ids)):
            for row in self._db.execute(select(*_COLUMNS).where(CameraRow.id.in_(chunk))):
                found[row.id] = _row_to_camera(row)
        return found

    def find_many_by_name(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Camera]:
        """Cameras by (area code, name): one query per chunk of names, areas matched here."""
        wanted = set(keys)
        found: dict[tuple[str, str], Camera] = {}
        for chunk in _chunks(sorted({name for _area, name in wanted})):
            for row in self._db.execute(select(*_COLUMNS).where(CameraRow.name.in_(chunk))):
                key = (row.area_code or "", row.name)
                if key in wanted:
                    found[key] = _row_to_camera(row)
        return found

    def add(self, camera: Camera) -> None:
        self.add_many([camera])

    def add_many(self, cameras: Sequence[Camera]) -> None:
        if cameras:  # Core executemany: the ORM's bulk path costs several times more per row
            self._db.execute(_CAMERAS.insert(), [_to_values(camera) for camera in cameras])

    def update_many(self, cameras: Sequence[Camera]) -> None:
        """Rewrite every column but ``created_at`` of each camera (matched by id), in one executemany."""
        if cameras:
            table = _CAMERAS
            changes: dict[str, Any] = {c: bindparam(f"new_{c}") for c in CAMERA_COLUMNS if c not in _FIXED}
            statement = table.update().where(table.c.id == bindparam("match_id")).values(changes)
            rows = [_update_values(camera) for camera in cameras]
            self._db.execute(statement, rows)

    def areas_of(self, camera_ids: Iterable[str]) -> dict[str, str | None]:
        """Area code of each camera (by id)."""
        found: dict[str, str | None] = {}
        for chunk in _chunks(list(camera_ids)):
            for camera_id, area_code in self._db.execute(
                select(CameraRow.id, CameraRow.area_code).where(CameraRow.id.in_(chunk))
            ):
                found[camera_id] = area_code
        return found

    def places_of(self, camera_ids: Iterable[str] | None = None) -> dict[str, tuple[str | None, int | None]]:
        """(area code, site id) of each camera by id; ``None``: of every camera."""
        found: dict[str, tuple[str | None, int | None]] = {}
        columns = select(CameraRow.id, CameraRow.area_code, CameraRow.site_id)
        chunks = [None] if camera_ids is None else _chunks(list(camera_ids))
        for chunk in chunks:
            query = columns if chunk is None else columns.where(CameraRow.id.in_(chunk))
            for camera_id, area_code, site_id in self._db.execute(query):
                found[camera_id] = (area_code, site_id)
        return found

    def delete(self, camera_id: str) -> bool:
        row = self._db.get(CameraRow, camera_id)
        if row is None:
            return False
        self._db.delete(row)
        self._db.flush()
        return True


def _same_area(area_code: str | None) -> Any:
    return CameraRow.area_code.is_(None) if area_code is None else CameraRow.area_code == area_code


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _SQL_PARAMS_PER_QUERY):
        yield items[start : start + _SQL_PARAMS_PER_QUERY]


_CAMERAS = cast(Table, CameraRow.__table__)
_FIXED = frozenset({"id", "created_at"})


def _update_values(camera: Camera) -> dict[str, Any]:
    values = {f"new_{column}": getattr(camera, column) for column in CAMERA_COLUMNS if column not in _FIXED}
    values["match_id"] = camera.id
    return values


def _to_values(camera: Camera) -> dict[str, Any]:
    return {column: getattr(camera, column) for column in CAMERA_COLUMNS}


_COLUMNS = tuple(getattr(CameraRow, column) for column in CAMERA_COLUMNS)


def _row_to_camera(row: Any) -> Camera:
    """From a Core result row of ``_COLUMNS`` (no ORM object: bulk reads stay cheap)."""
    return Camera(
        id=row.id,
        name=row.name,
        source_url=row.source_url,
        rtsp_transport=row.rtsp_transport,
        created_at=as_utc(row.created_at),
        area_code=row.area_code,
        site_id=row.site_id,
        longitude=row.longitude,
        latitude=row.latitude,
        sub_source_url=row.sub_source_url,
    )


def _to_camera(row: CameraRow) -> Camera:
    return Camera(
        id=row.id,
        name=row.name,
        source_url=row.source_url,
        rtsp_transport=cast(RtspTransport, row.rtsp_transport),
        created_at=as_utc(row.created_at),
        area_code=row.area_code,
        site_id=row.site_id,
        longitude=row.longitude,
        latitude=row.latitude,
        sub_source_url=row.sub_source_url,
    )


@dataclass(frozen=True, slots=True)
class BBox:
    """A WGS-84 box: west, south, east, north."""

    west: float
    south: float
    east: float
    north: float


@dataclass(frozen=True, slots=True)
class CameraPoint:
    id: str
    name: str
    longitude: float
    latitude: float
    site_type: str | None
    networked: bool


@dataclass(frozen=True, slots=True)
class ClusterPoint:
    longitude: float
    latitude: float
    count: int


class CameraMapRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def count_in(self, box: BBox) -> int:
        return int(self._db.scalar(select(func.count()).where(*_inside(box))) or 0)

    def points_in(self, box: BBox, limit: int) -> list[CameraPoint]:
        query = (
            select(
                CameraRow.id,
                CameraRow.name,
                CameraRow.longitude,
                CameraRow.latitude,
                SiteRow.type,
                CameraRow.source_url.is_not(None),
            )
            .outerjoin(SiteRow, SiteRow.id == CameraRow.site_id)
            .where(*_inside(box))
            .order_by(CameraRow.id)
            .limit(limit)
        )
        return [
            CameraPoint(camera_id, name, float(lon or 0), float(lat or 0), site_type, bool(networked))
            for camera_id, name, lon, lat, site_type, networked in self._db.execute(query)
        ]

    def clusters_in(self, box: BBox, cells_per_side: int) -> list[ClusterPoint]:
        """Cameras grouped on a square grid over ``box``: one point (their mean position) per non-empty cell."""
        cell_x = (box.east - box.west) / cells_per_side or 1e-9
        cell_y = (box.north - box.south) / cells_per_side or 1e-9
        column = func.cast((CameraRow.longitude - box.west) / cell_x, Integer)
        row = func.cast((CameraRow.latitude - box.south) / cell_y, Integer)
        query = (
            select(func.avg(CameraRow.longitude), func.avg(CameraRow.latitude), func.count())
            .where(*_inside(box))
            .group_by(column, row)
        )
        return [ClusterPoint(float(lon), float(lat), int(n)) for lon, lat, n in self._db.execute(query)]


def _inside(box: BBox) -> tuple[Any, ...]:
    return (
        CameraRow.longitude.between(box.west, box.east),
        CameraRow.latitude.between(box.south, box.north),
    )
