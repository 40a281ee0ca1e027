"""Aggregate queries for coverage accounting, and the daily figures kept for trends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from sharpeyes.store.models import CameraRow, CoverageDailyRow


@dataclass(frozen=True, slots=True)
class AreaCounts:
    cameras: int
    networked: int


@dataclass(frozen=True, slots=True)
class DailyFigures:
    area_code: str
    day: date
    cameras: int
    networked: int
    online: int


class CoverageRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def counts_by_area(self) -> dict[str | None, AreaCounts]:
        """Cameras and networked cameras (with a source) placed directly in each area."""
        query = select(CameraRow.area_code, func.count(), func.count(CameraRow.source_url)).group_by(
            CameraRow.area_code
        )
        return {code: AreaCounts(total, networked) for code, total, networked in self._db.execute(query)}

    def counts_by_site(self) -> dict[int, int]:
        query = (
            select(CameraRow.site_id, func.count()).where(CameraRow.site_id.is_not(None)).group_by(CameraRow.site_id)
        )
        return {site_id: count for site_id, count in self._db.execute(query) if site_id is not None}

    def replace_day(self, day: date, figures: Sequence[DailyFigures]) -> None:
        self._db.execute(delete(CoverageDailyRow).where(CoverageDailyRow.day == day))
        if figures:
            self._db.execute(
                insert(CoverageDailyRow),
                [
                    {
                        "area_code": f.area_code,
                        "day": f.day,
                        "cameras": f.cameras,
                        "networked": f.networked,
                        "online": f.online,
                    }
                    for f in figures
                ],
            )

    def has_day(self, day: date) -> bool:
        return self._db.scalar(select(func.count()).where(CoverageDailyRow.day == day)) != 0

    def history(self, area_code: str, since: date) -> list[DailyFigures]:
        query = (
            select(CoverageDailyRow)
            .where(CoverageDailyRow.area_code == area_code, CoverageDailyRow.day >= since)
            .order_by(CoverageDailyRow.day)
        )
        return [DailyFigures(r.area_code, r.day, r.cameras, r.networked, r.online) for r in self._db.scalars(query)]
