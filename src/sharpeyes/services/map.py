"""Cameras on the map as GeoJSON: points when few, grid clusters when many."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.errors import InvalidInputError
from sharpeyes.media.manager import StreamManager
from sharpeyes.store.cameras import BBox, CameraMapRepository

CLUSTER_CELLS_PER_SIDE = 48


@dataclass(frozen=True, slots=True)
class MapLayer:
    """A GeoJSON FeatureCollection plus whether it was clustered and how many cameras the box holds."""

    features: list[dict[str, Any]]
    clustered: bool
    total: int


def parse_bbox(text: str) -> BBox:
    """``west,south,east,north`` in WGS-84 degrees."""
    try:
        west, south, east, north = (float(part) for part in text.split(","))
    except ValueError:
        raise InvalidInputError(
            "bbox: give west,south,east,north in degrees, e.g. 118.6,31.9,119.0,32.2", code="bad_bbox", field="bbox"
        ) from None
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise InvalidInputError(
            "bbox: need west ≤ east and south ≤ north within ±180/±90", code="bad_bbox", field="bbox"
        )
    return BBox(west, south, east, north)


SCOPED_MOST = 100_000
"""Cameras looked through in a box for a scoped user."""


class MapService:
    def __init__(self, sessions: sessionmaker[Session], streams: StreamManager | None) -> None:
        self._sessions = sessions
        self._streams = streams

    def cameras(self, box: BBox, *, limit: int, only: set[str] | None = None) -> MapLayer:
        """The cameras in ``box`` (clustered past ``limit``); ``only``: just these (a scoped user's), never
        clustered, so that no count reveals the others — the first ``limit`` of them."""
        with self._sessions() as db:
            repository = CameraMapRepository(db)
            if only is not None:
                points = [p for p in repository.points_in(box, SCOPED_MOST) if p.id in only]
                total, points = len(points), points[:limit]
            else:
                total = repository.count_in(box)
            if only is None and total > limit:
                clusters = repository.clusters_in(box, CLUSTER_CELLS_PER_SIDE)
                features = [_feature(c.longitude, c.latitude, {"cluster": True, "count": c.count}) for c in clusters]
                return MapLayer(features, clustered=True, total=total)
            if only is None:
                points = repository.points_in(box, limit)
        features = [
            _feature(
                p.longitude,
                p.latitude,
                {"id": p.id, "name": p.name, "status": self._status(p.id, p.networked), "site_type": p.site_type},
            )
            for p in points
        ]
        return MapLayer(features, clustered=False, total=total)

    def _status(self, camera_id: str, networked: bool) -> str:
        if not networked:
            return "not_networked"
        state = self._streams.state(camera_id) if self._streams is not None else None
        return state.status.value if state is not None else "connecting"


def _feature(longitude: float, latitude: float, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [longitude, latitude]},
        "properties": properties,
    }
