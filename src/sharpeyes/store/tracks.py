"""Queries over the tracks kept for search: attribute filters on indexed columns, newest first."""

from __future__ import annotations

from datetime import UTC
from typing import TypeVar

import numpy as np
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from sharpeyes.core.clock import as_utc
from sharpeyes.core.tracks import TrackFilter, TrackRecord
from sharpeyes.store.models import CameraRow, SiteRow, TrackRow

SelectT = TypeVar("SelectT", bound=Select)  # type: ignore[type-arg]


class TrackRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def add(self, track: TrackRecord) -> int:
        row = TrackRow(
            camera_id=track.camera_id,
            class_name=track.class_name,
            start=track.start,
            end=track.end,
            upper_colour=track.upper_colour,
            lower_colour=track.lower_colour,
            carried=",".join(sorted(track.carried)),
            zones="".join(f",{zone}" for zone in sorted(track.zones)) + ("," if track.zones else ""),
            height_px=track.height_px,
            direction=track.direction,
            score=track.score,
            thumbnail=track.thumbnail,
            embedding=track.embedding.astype(np.float16).tobytes() if track.embedding is not None else None,
        )
        self._db.add(row)
        self._db.flush()
        return row.id

    def get(self, track_id: int) -> TrackRecord | None:
        row = self._db.get(TrackRow, track_id)
        return _record(row) if row is not None else None

    def find(self, wanted: TrackFilter) -> list[TrackRecord]:
        query = self._filtered(select(TrackRow), wanted)
        query = query.order_by(TrackRow.start.desc(), TrackRow.id.desc()).limit(wanted.limit)
        return [_record(row) for row in self._db.scalars(query)]

    def with_appearance_after(self, after: int, size: int, most: int) -> list[TrackRecord]:
        """Up to ``most`` tracks with ids above ``after`` that have an embedding of ``size`` values, by id."""
        query = select(TrackRow).where(TrackRow.id > after, func.length(TrackRow.embedding) == 2 * size)
        return [_record(row) for row in self._db.scalars(query.order_by(TrackRow.id).limit(most))]

    def cameras(self, wanted: TrackFilter) -> frozenset[str] | None:
        """The ids of the cameras the filter's places name, or None when it names none (every camera)."""
        query = _cameras(wanted)
        return frozenset(self._db.scalars(query)) if query is not None else None

    def get_many(self, track_ids: list[int]) -> list[TrackRecord]:
        """The tracks with these ids, in the order given."""
        rows = {row.id: row for row in self._db.scalars(select(TrackRow).where(TrackRow.id.in_(track_ids)))}
        return [_record(rows[i]) for i in track_ids if i in rows]

    def _filtered(self, query: SelectT, wanted: TrackFilter) -> SelectT:
        start, end = wanted.start.astimezone(UTC), wanted.end.astimezone(UTC)  # SQLite compares the stored UTC text
        query = query.where(TrackRow.end >= start, TrackRow.start <= end)
        if wanted.classes:
            query = query.where(TrackRow.class_name.in_(sorted(wanted.classes)))
        if wanted.upper_colours:
            query = query.where(TrackRow.upper_colour.in_(sorted(wanted.upper_colours)))
        if wanted.lower_colours:
            query = query.where(TrackRow.lower_colour.in_(sorted(wanted.lower_colours)))
        for colour in sorted(wanted.any_colours):
            query = query.where(or_(TrackRow.upper_colour == colour, TrackRow.lower_colour == colour))
        for bag in sorted(wanted.carried):
            query = query.where(TrackRow.carried.contains(bag, autoescape=True))
        for zone in sorted(wanted.zones):
            query = query.where(TrackRow.zones.contains(f",{zone},", autoescape=True))
        cameras = _cameras(wanted)
        if cameras is not None:
            query = query.where(TrackRow.camera_id.in_(cameras))
        return query


def _cameras(wanted: TrackFilter) -> Select[str] | None:
    """The cameras the filter's places name (every condition holds), or None when it names none."""
    query = select(CameraRow.id)
    if wanted.camera_ids is not None:
        query = query.where(CameraRow.id.in_(sorted(wanted.camera_ids)))
    if wanted.site_ids is not None:
        query = query.where(CameraRow.site_id.in_(sorted(wanted.site_ids)))
    if wanted.site_types:
        query = query.where(
            CameraRow.site_id.in_(select(SiteRow.id).where(SiteRow.type.in_(sorted(wanted.site_types))))
        )
    if wanted.area_code is not None:
        query = query.where(CameraRow.area_code.startswith(wanted.area_code, autoescape=True))
    return query if query.whereclause is not None else None


def _record(row: TrackRow) -> TrackRecord:
    return TrackRecord(
        camera_id=row.camera_id,
        class_name=row.class_name,
        start=as_utc(row.start),
        end=as_utc(row.end),
        upper_colour=row.upper_colour,
        lower_colour=row.lower_colour,
        carried=tuple(bag for bag in row.carried.split(",") if bag),
        zones=tuple(zone for zone in row.zones.split(",") if zone),
        height_px=row.height_px,
        direction=row.direction,
        score=row.score,
        thumbnail=row.thumbnail,
        embedding=np.frombuffer(row.embedding, np.float16).astype(np.float32) if row.embedding else None,
        id=row.id,
    )
