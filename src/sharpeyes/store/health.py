"""Queries over camera status history and health alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sharpeyes.core.clock import as_utc
from sharpeyes.store.models import CameraStatusEventRow, HealthAlertRow


@dataclass(frozen=True, slots=True)
class StatusEvent:
    at: datetime
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class HealthAlert:
    id: int
    kind: str
    raised_at: datetime
    cleared_at: datetime | None
    detail: str


class HealthRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def add_event(self, camera_id: str, at: datetime, status: str, reason: str) -> None:
        self._db.add(CameraStatusEventRow(camera_id=camera_id, at=at, status=status, reason=reason[:500]))

    def events(self, camera_id: str, since: datetime) -> list[StatusEvent]:
        query = (
            select(CameraStatusEventRow)
            .where(CameraStatusEventRow.camera_id == camera_id, CameraStatusEventRow.at >= since)
            .order_by(CameraStatusEventRow.at, CameraStatusEventRow.id)
        )
        return [StatusEvent(as_utc(r.at), r.status, r.reason) for r in self._db.scalars(query)]

    def last_event_before(self, camera_id: str, moment: datetime) -> StatusEvent | None:
        query = (
            select(CameraStatusEventRow)
            .where(CameraStatusEventRow.camera_id == camera_id, CameraStatusEventRow.at < moment)
            .order_by(CameraStatusEventRow.at.desc(), CameraStatusEventRow.id.desc())
            .limit(1)
        )
        row = self._db.scalars(query).first()
        return StatusEvent(as_utc(row.at), row.status, row.reason) if row is not None else None

    def count_events(self, camera_id: str, since: datetime) -> int:
        query = select(func.count()).where(
            CameraStatusEventRow.camera_id == camera_id, CameraStatusEventRow.at >= since
        )
        return int(self._db.scalar(query) or 0)

    def open_alert(self, camera_id: str, kind: str) -> HealthAlert | None:
        query = select(HealthAlertRow).where(
            HealthAlertRow.camera_id == camera_id, HealthAlertRow.kind == kind, HealthAlertRow.cleared_at.is_(None)
        )
        row = self._db.scalars(query).first()
        return _to_alert(row) if row is not None else None

    def cameras_with_open_alerts(self, kind: str) -> list[str]:
        query = select(HealthAlertRow.camera_id).where(HealthAlertRow.kind == kind, HealthAlertRow.cleared_at.is_(None))
        return list(self._db.scalars(query.distinct()))

    def raise_alert(self, camera_id: str, kind: str, at: datetime, detail: str) -> None:
        self._db.add(HealthAlertRow(camera_id=camera_id, kind=kind, raised_at=at, cleared_at=None, detail=detail[:500]))

    def clear_alert(self, alert_id: int, at: datetime) -> None:
        row = self._db.get(HealthAlertRow, alert_id)
        if row is not None:
            row.cleared_at = at

    def alerts(self, camera_id: str, since: datetime) -> list[HealthAlert]:
        query = (
            select(HealthAlertRow)
            .where(HealthAlertRow.camera_id == camera_id)
            .where((HealthAlertRow.cleared_at.is_(None)) | (HealthAlertRow.raised_at >= since))
            .order_by(HealthAlertRow.raised_at)
        )
        return [_to_alert(row) for row in self._db.scalars(query)]


def _to_alert(row: HealthAlertRow) -> HealthAlert:
    cleared = as_utc(row.cleared_at) if row.cleared_at is not None else None
    return HealthAlert(row.id, row.kind, as_utc(row.raised_at), cleared, row.detail)
