"""Queries over areas and sites."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, null, select, update
from sqlalchemy.orm import Session

from sharpeyes.core.areas import Area, AreaLevel, SiteType
from sharpeyes.store.models import AreaRow, SiteRow


@dataclass(frozen=True, slots=True)
class Site:
    id: int
    name: str
    type: SiteType
    area_code: str
    longitude: float | None
    latitude: float | None


class AreaRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def all(self, *, with_boundaries: bool = True) -> list[Area]:
        """Every area; without boundaries (which can be large) when only the tree is wanted."""
        boundary = AreaRow.boundary if with_boundaries else null()
        rows = self._db.execute(select(AreaRow.code, AreaRow.name, AreaRow.level, AreaRow.parent_code, boundary))
        return [Area(code, name, _LEVELS[level], parent, shape) for code, name, level, parent, shape in rows]

    def codes(self) -> set[str]:
        return set(self._db.scalars(select(AreaRow.code)))

    def get(self, code: str) -> Area | None:
        row = self._db.get(AreaRow, code)
        return _to_area(row) if row is not None else None

    def children(self, parent_code: str | None) -> list[Area]:
        condition = AreaRow.parent_code.is_(None) if parent_code is None else AreaRow.parent_code == parent_code
        return [_to_area(row) for row in self._db.scalars(select(AreaRow).where(condition).order_by(AreaRow.code))]

    def add_many(self, areas: Sequence[Area]) -> None:
        if areas:
            self._db.execute(cast(Table, AreaRow.__table__).insert(), [_area_values(area) for area in areas])

    def update_many(self, areas: Sequence[Area]) -> None:
        for area in areas:
            values = _area_values(area)
            del values["code"]
            self._db.execute(update(AreaRow).where(AreaRow.code == area.code).values(**values))


class SiteRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def all(self) -> list[Site]:
        query = select(SiteRow.id, SiteRow.name, SiteRow.type, SiteRow.area_code, SiteRow.longitude, SiteRow.latitude)
        return [
            Site(i, name, _SITE_TYPES[kind], area, lon, lat)
            for i, name, kind, area, lon, lat in self._db.execute(query)
        ]

    def get(self, site_id: int) -> Site | None:
        row = self._db.get(SiteRow, site_id)
        return _to_site(row) if row is not None else None

    def get_many(self, site_ids: Iterable[int]) -> dict[int, Site]:
        ids = sorted(set(site_ids))
        found: dict[int, Site] = {}
        for start in range(0, len(ids), 900):
            for row in self._db.scalars(select(SiteRow).where(SiteRow.id.in_(ids[start : start + 900]))):
                found[row.id] = _to_site(row)
        return found

    def find(self, area_code: str, name: str) -> Site | None:
        row = self._db.scalars(select(SiteRow).where(SiteRow.area_code == area_code, SiteRow.name == name)).first()
        return _to_site(row) if row is not None else None

    def add(
        self, name: str, site_type: SiteType, area_code: str, longitude: float | None, latitude: float | None
    ) -> Site:
        row = SiteRow(name=name, type=site_type.value, area_code=area_code, longitude=longitude, latitude=latitude)
        self._db.add(row)
        self._db.flush()
        return _to_site(row)

    def update(self, site: Site) -> None:
        values = {"type": site.type.value, "longitude": site.longitude, "latitude": site.latitude}
        self._db.execute(update(SiteRow).where(SiteRow.id == site.id).values(**values))

    def in_area(self, area_code: str | None) -> list[Site]:
        query = select(SiteRow).order_by(SiteRow.area_code, SiteRow.name)
        if area_code is not None:
            query = query.where(SiteRow.area_code == area_code)
        return [_to_site(row) for row in self._db.scalars(query)]


_LEVELS = {level.value: level for level in AreaLevel}
_SITE_TYPES = {site_type.value: site_type for site_type in SiteType}


def _area_values(area: Area) -> dict[str, str | None]:
    return {
        "code": area.code,
        "name": area.name,
        "level": area.level.value,
        "parent_code": area.parent_code,
        "boundary": area.boundary,
    }


def _to_area(row: AreaRow) -> Area:
    return Area(row.code, row.name, AreaLevel(row.level), row.parent_code, row.boundary)


def _to_site(row: SiteRow) -> Site:
    return Site(row.id, row.name, SiteType(row.type), row.area_code, row.longitude, row.latitude)
