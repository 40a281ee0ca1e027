"""The administrative area tree: import from spreadsheets, browse by parent."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import IO

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.areas import Area, AreaLevel, area_code_problem, parent_problem
from sharpeyes.core.errors import NotFoundError
from sharpeyes.services.audit_log import AuditTrail
from sharpeyes.services.imports import ImportReport, record_import
from sharpeyes.services.tables import TableRow, read_table
from sharpeyes.store.areas import AreaRepository

AREA_COLUMNS = {
    "code": "code",
    "区划编码": "code",
    "编码": "code",
    "name": "name",
    "名称": "name",
    "level": "level",
    "级别": "level",
    "层级": "level",
    "parent_code": "parent_code",
    "上级编码": "parent_code",
    "上级区划编码": "parent_code",
    "boundary": "boundary",
    "边界": "boundary",
}
REQUIRED_AREA_COLUMNS = frozenset({"code", "name", "level"})
LEVEL_WORDS = {
    **{level.value: level for level in AreaLevel},
    "市": AreaLevel.CITY,
    "区": AreaLevel.DISTRICT,
    "县": AreaLevel.DISTRICT,
    "区县": AreaLevel.DISTRICT,
    "乡": AreaLevel.TOWNSHIP,
    "镇": AreaLevel.TOWNSHIP,
    "街道": AreaLevel.TOWNSHIP,
    "乡镇": AreaLevel.TOWNSHIP,
    "乡镇/街道": AreaLevel.TOWNSHIP,
    "村": AreaLevel.VILLAGE,
    "社区": AreaLevel.VILLAGE,
    "村/社区": AreaLevel.VILLAGE,
}
BOUNDARY_TYPES = frozenset({"Polygon", "MultiPolygon"})
MAX_AREA_NAME_LENGTH = 100


class AreaService:
    def __init__(self, sessions: sessionmaker[Session], audit: AuditTrail | None = None) -> None:
        """``audit``: where imports are recorded."""
        self._sessions = sessions
        self._audit = audit

    def children(self, parent_code: str | None) -> list[Area]:
        with self._sessions() as db:
            repository = AreaRepository(db)
            if parent_code is not None and repository.get(parent_code) is None:
                raise area_not_found(parent_code)
            return repository.children(parent_code)

    def get(self, code: str) -> Area:
        with self._sessions() as db:
            area = AreaRepository(db).get(code)
        if area is None:
            raise area_not_found(code)
        return area

    def import_table(
        self,
        stream: IO[bytes],
        *,
        dry_run: bool = False,
        source_name: str = "file",
        progress: Callable[[int], None] | None = None,
        by: str = "",
    ) -> ImportReport:
        """Add or update areas from a CSV/XLSX table; parents may come later in the file than their children."""
        report = ImportReport(dry_run=dry_run)
        rows = list(read_table(stream, AREA_COLUMNS, REQUIRED_AREA_COLUMNS, source_name))
        parsed = [p for p in (_parse(row, report) for row in rows) if p is not None]
        parsed.sort(key=lambda item: (item[1].level.rank, item[0]))  # parents first
        with self._sessions() as db:
            repository = AreaRepository(db)
            known = {area.code: area for area in repository.all()}
            seen: dict[str, int] = {}
            new: list[Area] = []
            changed: list[Area] = []
            for row_number, parsed_area in parsed:
                if not _accept(row_number, parsed_area, known, seen, report):
                    continue
                previous = known.get(parsed_area.code)
                area = parsed_area
                if area.boundary is None and previous is not None:
                    area = replace(area, boundary=previous.boundary)  # a file without boundaries keeps them
                known[area.code] = area
                if previous is None:
                    new.append(area)
                elif previous != area:
                    changed.append(area)
                else:
                    report.unchanged += 1
            report.imported, report.updated = len(new), len(changed)
            repository.add_many(new)
            repository.update_many(changed)
            db.rollback() if dry_run else db.commit()
        if progress is not None:
            progress(len(rows))
        report.rejected.sort(key=lambda rejected: rejected.row)
        record_import(self._audit, by, "areas", source_name, report)
        return report


def _parse(row: TableRow, report: ImportReport) -> tuple[int, Area] | None:
    if row.problem is not None:
        report.reject(row.number, *row.problem)
        return None
    values = row.values
    level = LEVEL_WORDS.get(values.get("level", "").lower())
    if level is None:
        report.reject(
            row.number, "level", f"level {values.get('level')!r} is not one of city, district, township, village"
        )
        return None
    code = values.get("code", "")
    problem = area_code_problem(code, level)
    if problem is not None:
        report.reject(row.number, "code", problem)
        return None
    name = values.get("name", "")
    if not name or len(name) > MAX_AREA_NAME_LENGTH:
        report.reject(row.number, "name", f"give a name of 1 to {MAX_AREA_NAME_LENGTH} characters")
        return None
    boundary = values.get("boundary") or None
    if boundary is not None and not _is_boundary(boundary):
        report.reject(row.number, "boundary", "boundary must be a GeoJSON Polygon or MultiPolygon")
        return None
    return row.number, Area(code, name, level, values.get("parent_code") or None, boundary)


def _accept(row: int, area: Area, known: dict[str, Area], seen: dict[str, int], report: ImportReport) -> bool:
    if area.code in seen:
        report.reject(row, "code", f"duplicate code {area.code}: first given in row {seen[area.code]}")
        return False
    parent = known.get(area.parent_code) if area.parent_code else None
    if area.parent_code and parent is None:
        report.reject(row, "parent_code", f"unknown parent area {area.parent_code}")
        return False
    problem = parent_problem(area.code, area.level, parent)
    if problem is not None:
        report.reject(row, "parent_code", problem)
        return False
    existing = known.get(area.code)
    if existing is not None and existing.level is not area.level:
        report.reject(row, "level", f"area {area.code} is a {existing.level.value} already")
        return False
    seen[area.code] = row
    return True


def _is_boundary(text: str) -> bool:
    try:
        geometry = json.loads(text)
    except ValueError:
        return False
    return isinstance(geometry, dict) and geometry.get("type") in BOUNDARY_TYPES and "coordinates" in geometry


def area_not_found(code: str) -> NotFoundError:
    return NotFoundError(f"no area with code {code!r} / 找不到该区划", code="area_not_found")
