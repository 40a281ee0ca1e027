"""Queries over the events timeline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sharpeyes.core.clock import as_utc
from sharpeyes.core.events import Event, EventType
from sharpeyes.store.models import EventRow


class EventRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def add(self, event: Event) -> int:
        row = EventRow(
            type=event.type.value,
            at=event.at,
            camera_id=event.camera_id,
            detail=event.detail[:1000],
            data=event.data,
        )
        self._db.add(row)
        self._db.flush()
        return row.id

    def get(self, event_id: int) -> Event | None:
        row = self._db.get(EventRow, event_id)
        return _to_event(row) if row is not None else None

    def find(
        self,
        *,
        start: datetime,
        end: datetime,
        camera_id: str | None = None,
        types: list[EventType] | None = None,
        limit: int = 1000,
    ) -> list[Event]:
        """Newest first."""
        query = select(EventRow).where(EventRow.at >= start, EventRow.at < end)
        if camera_id is not None:
            query = query.where(EventRow.camera_id == camera_id)
        if types:
            query = query.where(EventRow.type.in_([t.value for t in types]))
        query = query.order_by(EventRow.at.desc(), EventRow.id.desc()).limit(limit)
        return [_to_event(row) for row in self._db.scalars(query)]


def _to_event(row: EventRow) -> Event:
    return Event(EventType(row.type), as_utc(row.at), row.detail, row.camera_id, dict(row.data), row.id)
