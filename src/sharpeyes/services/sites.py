"""Sites — schools, kindergartens, village squares… — registered before or with their cameras.

A school with no camera is exactly what coverage accounting must show, so sites can be imported on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import IO

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.areas import SiteType, position_problem
from sharpeyes.services.audit_log import AuditTrail
from sharpeyes.services.imports import ImportReport, record_import
from sharpeyes.services.tables import TableRow, read_table
from sharpeyes.store.areas import AreaRepository, Site, SiteRepository

SITE_TYPE_WORDS = {
    **{site_type.value: site_type for site_type in SiteType},
    "学校": SiteType.SCHOOL,
    "中小学": SiteType.SCHOOL,
    "幼儿园": SiteType.KINDERGARTEN,
    "村口广场": SiteType.VILLAGE_SQUARE,
    "广场": SiteType.VILLAGE_SQUARE,
    "道路": SiteType.ROAD,
    "路口": SiteType.ROAD,
    "集市": SiteType.MARKET,
    "市场": SiteType.MARKET,
    "其他": SiteType.OTHER,
}
SITE_COLUMNS = {
    "name": "name",
    "site_name": "name",
    "点位名称": "name",
    "名称": "name",
    "site_type": "site_type",
    "type": "site_type",
    "点位类型": "site_type",
    "area_code": "area_code",
    "区划编码": "area_code",
    "longitude": "longitude",
    "经度": "longitude",
    "latitude": "latitude",
    "纬度": "latitude",
}
REQUIRED_SITE_COLUMNS = frozenset({"name", "site_type", "area_code"})
MAX_SITE_NAME_LENGTH = 200


class SiteService:
    def __init__(self, sessions: sessionmaker[Session], audit: AuditTrail | None = None) -> None:
        """``audit``: where imports are recorded."""
        self._sessions = sessions
        self._audit = audit

    def list(self, area_code: str | None = None) -> list[Site]:
        with self._sessions() as db:
            return SiteRepository(db).in_area(area_code)

    def import_table(
        self,
        stream: IO[bytes],
        *,
        dry_run: bool = False,
        source_name: str = "file",
        progress: Callable[[int], None] | None = None,
        by: str = "",
    ) -> ImportReport:
        """Add or update sites by (area, name) from a CSV/XLSX table."""
        report = ImportReport(dry_run=dry_run)
        with self._sessions() as db:
            areas = AreaRepository(db).codes()
            repository = SiteRepository(db)
            known = {(site.area_code, site.name): site for site in repository.all()}
            seen: dict[tuple[str, str], int] = {}
            for row in read_table(stream, SITE_COLUMNS, REQUIRED_SITE_COLUMNS, source_name):
                parsed = _parse(row, areas, report)
                if parsed is not None:
                    _upsert(row.number, parsed, known, seen, repository, report)
                if progress is not None:
                    progress(1)
            db.rollback() if dry_run else db.commit()
        report.rejected.sort(key=lambda rejected: rejected.row)
        record_import(self._audit, by, "sites", source_name, report)
        return report


def _parse(row: TableRow, areas: set[str], report: ImportReport) -> Site | None:
    if row.problem is not None:
        report.reject(row.number, *row.problem)
        return None
    values = row.values
    name = values.get("name", "")
    site_type = SITE_TYPE_WORDS.get(values.get("site_type", "").lower())
    area_code = values.get("area_code", "")
    problem: tuple[str, str] | None = None
    if not name or len(name) > MAX_SITE_NAME_LENGTH:
        problem = ("name", f"give a name of 1 to {MAX_SITE_NAME_LENGTH} characters")
    elif site_type is None:
        problem = ("site_type", f"{values.get('site_type')!r} is not one of {', '.join(t.value for t in SiteType)}")
    elif area_code not in areas:
        problem = ("area_code", f"unknown area {area_code!r}")
    position: tuple[float | None, float | None] = (None, None)
    if problem is None:
        position, problem = _position(values)
    if problem is not None or site_type is None:
        report.reject(row.number, *(problem or ("site_type", "missing")))
        return None
    return Site(0, name, site_type, area_code, position[0], position[1])


def _position(values: dict[str, str]) -> tuple[tuple[float | None, float | None], tuple[str, str] | None]:
    text_lon, text_lat = values.get("longitude", ""), values.get("latitude", "")
    if not text_lon and not text_lat:
        return (None, None), None
    try:
        longitude, latitude = float(text_lon), float(text_lat)
    except ValueError:
        return (None, None), ("longitude", "give longitude and latitude as numbers, together")
    return (longitude, latitude), position_problem(longitude, latitude)


def _upsert(
    row: int,
    site: Site,
    known: dict[tuple[str, str], Site],
    seen: dict[tuple[str, str], int],
    repository: SiteRepository,
    report: ImportReport,
) -> None:
    key = (site.area_code, site.name)
    if key in seen:
        report.reject(row, "name", f"duplicate of row {seen[key]}")
        return
    seen[key] = row
    previous = known.get(key)
    if previous is None:
        known[key] = repository.add(site.name, site.type, site.area_code, site.longitude, site.latitude)
        report.imported += 1
    elif replace(site, id=previous.id) != previous:
        known[key] = replace(site, id=previous.id)
        repository.update(known[key])
        report.updated += 1
    else:
        report.unchanged += 1
