"""Queries over recording plans, segments and gaps."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from sharpeyes.core.clock import as_utc, utcnow
from sharpeyes.core.recording import RecordingMode, RecordingPlan, RecordingWindow
from sharpeyes.store.models import RecordingGapRow, RecordingPlanRow, SegmentRow


@dataclass(frozen=True, slots=True)
class StoredSegment:
    id: int
    camera_id: str
    start: datetime
    end: datetime
    bytes: int
    codec: str
    storage_key: str
    legal_hold: bool


@dataclass(frozen=True, slots=True)
class StoredGap:
    camera_id: str
    start: datetime
    end: datetime
    reason: str


class RecordingRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def plan(self, camera_id: str) -> RecordingPlan | None:
        row = self._db.get(RecordingPlanRow, camera_id)
        return _to_plan(row) if row is not None else None

    def plans(self) -> dict[str, RecordingPlan]:
        return {row.camera_id: _to_plan(row) for row in self._db.scalars(select(RecordingPlanRow))}

    def set_plan(self, camera_id: str, plan: RecordingPlan) -> None:
        windows = [
            {"days": sorted(w.days), "start": w.start.isoformat("minutes"), "end": w.end.isoformat("minutes")}
            for w in plan.windows
        ]
        row = self._db.get(RecordingPlanRow, camera_id) or RecordingPlanRow(camera_id=camera_id)
        if row.mode != plan.mode.value or row.windows != json.dumps(windows):
            row.since = plan.since or utcnow()  # what is planned changed: completeness counts from now
        row.mode, row.windows = plan.mode.value, json.dumps(windows)
        row.retention_days, row.priority = plan.retention_days, plan.priority
        self._db.add(row)

    def add_segment(
        self, camera_id: str, start: datetime, end: datetime, size: int, codec: str, storage_key: str
    ) -> None:
        self._db.add(
            SegmentRow(
                camera_id=camera_id,
                start=start,
                end=end,
                bytes=size,
                seconds=(end - start).total_seconds(),
                codec=codec,
                storage_key=storage_key,
                legal_hold=False,
            )
        )

    def add_gap(self, camera_id: str, start: datetime, end: datetime, reason: str) -> None:
        self._db.add(RecordingGapRow(camera_id=camera_id, start=start, end=end, reason=reason[:500]))

    def last_segment_before(self, camera_id: str, moment: datetime) -> StoredSegment | None:
        query = (
            select(SegmentRow)
            .where(SegmentRow.camera_id == camera_id, SegmentRow.start < moment)
            .order_by(SegmentRow.start.desc())
            .limit(1)
        )
        row = self._db.scalars(query).first()
        return _to_segment(row) if row is not None else None

    def segments(self, camera_id: str, start: datetime, end: datetime) -> list[StoredSegment]:
        query = (
            select(SegmentRow)
            .where(SegmentRow.camera_id == camera_id, SegmentRow.end > start, SegmentRow.start < end)
            .order_by(SegmentRow.start)
        )
        return [_to_segment(row) for row in self._db.scalars(query)]

    def segment(self, segment_id: int) -> StoredSegment | None:
        row = self._db.get(SegmentRow, segment_id)
        return _to_segment(row) if row is not None else None

    def gaps(self, camera_id: str, start: datetime, end: datetime) -> list[StoredGap]:
        query = (
            select(RecordingGapRow)
            .where(RecordingGapRow.camera_id == camera_id, RecordingGapRow.end > start, RecordingGapRow.start < end)
            .order_by(RecordingGapRow.start)
        )
        return [StoredGap(r.camera_id, as_utc(r.start), as_utc(r.end), r.reason) for r in self._db.scalars(query)]

    def expired(self, camera_id: str, before: datetime, limit: int) -> list[StoredSegment]:
        query = (
            select(SegmentRow)
            .where(SegmentRow.camera_id == camera_id, SegmentRow.end < before, SegmentRow.legal_hold.is_(False))
            .order_by(SegmentRow.start)
            .limit(limit)
        )
        return [_to_segment(row) for row in self._db.scalars(query)]

    def recorded_seconds(self, since: datetime, until: datetime) -> dict[str, float]:
        """Seconds recorded per camera in segments that started within [since, until)."""
        query = (
            select(SegmentRow.camera_id, func.sum(SegmentRow.seconds))
            .where(SegmentRow.start >= since, SegmentRow.start < until)
            .group_by(SegmentRow.camera_id)
        )
        return {camera_id: float(total or 0) for camera_id, total in self._db.execute(query)}

    def camera_ids_with_segments(self) -> list[str]:
        return list(self._db.scalars(select(SegmentRow.camera_id).distinct()))

    def oldest_unheld(self, camera_ids: Sequence[str], limit: int) -> list[StoredSegment]:
        query = (
            select(SegmentRow)
            .where(SegmentRow.camera_id.in_(camera_ids), SegmentRow.legal_hold.is_(False))
            .order_by(SegmentRow.start)
            .limit(limit)
        )
        return [_to_segment(row) for row in self._db.scalars(query)]

    def all_storage_keys(self) -> dict[str, int]:
        return {key: segment_id for segment_id, key in self._db.execute(select(SegmentRow.id, SegmentRow.storage_key))}

    def set_hold(self, segment_id: int, held: bool) -> None:
        row = self._db.get(SegmentRow, segment_id)
        if row is not None:
            row.legal_hold = held

    def delete_segments(self, segment_ids: Sequence[int]) -> None:
        if segment_ids:
            self._db.execute(delete(SegmentRow).where(SegmentRow.id.in_(segment_ids)))


def _to_plan(row: RecordingPlanRow) -> RecordingPlan:
    windows = tuple(
        RecordingWindow(frozenset(w["days"]), time.fromisoformat(w["start"]), time.fromisoformat(w["end"]))
        for w in json.loads(row.windows)
    )
    return RecordingPlan(RecordingMode(row.mode), windows, row.retention_days, row.priority, as_utc(row.since))


def _to_segment(row: SegmentRow) -> StoredSegment:
    return StoredSegment(
        row.id, row.camera_id, as_utc(row.start), as_utc(row.end), row.bytes, row.codec, row.storage_key, row.legal_hold
    )
