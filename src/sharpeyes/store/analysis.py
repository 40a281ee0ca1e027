"""Queries over the per-camera analysis plans."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sharpeyes.core.analysis_plan import AnalysisPlan
from sharpeyes.store.models import AnalysisPlanRow


class AnalysisRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def plan(self, camera_id: str) -> AnalysisPlan | None:
        row = self._db.get(AnalysisPlanRow, camera_id)
        return _to_plan(row) if row is not None else None

    def enabled(self) -> dict[str, AnalysisPlan]:
        rows = self._db.scalars(select(AnalysisPlanRow).where(AnalysisPlanRow.enabled.is_(True)))
        return {row.camera_id: _to_plan(row) for row in rows}

    def set_plan(self, camera_id: str, plan: AnalysisPlan) -> None:
        row = self._db.get(AnalysisPlanRow, camera_id) or AnalysisPlanRow(camera_id=camera_id)
        row.enabled, row.fps, row.min_height_px, row.document = (
            plan.enabled,
            plan.fps,
            plan.min_height_px,
            plan.document,
        )
        self._db.add(row)


def _to_plan(row: AnalysisPlanRow) -> AnalysisPlan:
    document = row.document or {}
    return AnalysisPlan(
        enabled=row.enabled,
        fps=row.fps,
        min_height_px=row.min_height_px,
        zones=list(document.get("zones", [])),
        rules=list(document.get("rules", [])),
    )
