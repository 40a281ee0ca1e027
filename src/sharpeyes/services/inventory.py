"""Camera inventory import: spreadsheets of thousands of cameras, row by row, idempotent, all or nothing.

Every valid row is imported in one transaction; every invalid one is reported with its row, column and reason.
A row with an id updates the camera with that id; a row without one updates the camera of the same name in
the same area. Rows are handled in batches so memory grows with the number of cameras, not the file size.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import IO

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.areas import SiteType
from sharpeyes.core.cameras import Camera, new_camera_id
from sharpeyes.core.clock import utcnow
from sharpeyes.core.errors import InvalidInputError
from sharpeyes.services.audit_log import AuditTrail
from sharpeyes.services.camera_rules import CameraDraft, checked
from sharpeyes.services.imports import ImportReport, record_import
from sharpeyes.services.sites import SITE_TYPE_WORDS
from sharpeyes.services.tables import TableRow, read_table
from sharpeyes.store.areas import AreaRepository, Site, SiteRepository
from sharpeyes.store.cameras import CameraRepository

CAMERA_COLUMNS = {
    "id": "id",
    "编号": "id",
    "设备编码": "id",
    "name": "name",
    "名称": "name",
    "area_code": "area_code",
    "区划编码": "area_code",
    "site_name": "site_name",
    "点位名称": "site_name",
    "site_type": "site_type",
    "点位类型": "site_type",
    "longitude": "longitude",
    "经度": "longitude",
    "latitude": "latitude",
    "纬度": "latitude",
    "source_url": "source_url",
    "取流地址": "source_url",
    "sub_source_url": "sub_source_url",
    "子码流地址": "sub_source_url",
    "rtsp_transport": "rtsp_transport",
    "传输协议": "rtsp_transport",
}
REQUIRED_CAMERA_COLUMNS = frozenset({"name", "area_code"})
BATCH_ROWS = 2000


@dataclass(frozen=True, slots=True)
class _Candidate:
    row: int
    draft: CameraDraft


class InventoryService:
    def __init__(self, sessions: sessionmaker[Session], audit: AuditTrail | None = None) -> None:
        """``audit``: where imports are recorded."""
        self._sessions = sessions
        self._audit = audit

    def import_table(
        self,
        stream: IO[bytes],
        *,
        dry_run: bool = False,
        source_name: str = "file",
        progress: Callable[[int], None] | None = None,
        by: str = "",
    ) -> ImportReport:
        report = ImportReport(dry_run=dry_run)
        rows = read_table(stream, CAMERA_COLUMNS, REQUIRED_CAMERA_COLUMNS, source_name)
        with self._sessions() as db:
            run = _ImportRun(db, report)
            for batch in _batches(rows):
                run.import_batch(batch)
                if progress is not None:
                    progress(len(batch))
            db.rollback() if dry_run else db.commit()
        report.rejected.sort(key=lambda rejected: rejected.row)
        record_import(self._audit, by, "cameras", source_name, report)
        return report


def _batches(rows: Iterator[TableRow]) -> Iterator[list[TableRow]]:
    while batch := list(itertools.islice(rows, BATCH_ROWS)):
        yield batch


class _ImportRun:
    """State of one import: known areas and sites, and which camera each earlier row wrote."""

    def __init__(self, db: Session, report: ImportReport) -> None:
        self._db = db
        self._report = report
        self._cameras = CameraRepository(db)
        self._site_repository = SiteRepository(db)
        self._areas = AreaRepository(db).codes()
        self._sites = {(site.area_code, site.name): site for site in self._site_repository.all()}
        self._written: dict[str, int] = {}
        self._now = utcnow()

    def import_batch(self, rows: list[TableRow]) -> None:
        candidates = [c for c in (self._candidate(row) for row in rows) if c is not None]
        by_id = self._cameras.get_many(c.draft.id for c in candidates if c.draft.id)
        by_name = self._cameras.find_many_by_name((c.draft.area_code or "", c.draft.name) for c in candidates)
        new: dict[str, Camera] = {}
        changed: dict[str, Camera] = {}
        for candidate in candidates:
            camera = self._match(candidate, by_id, by_name)
            if camera is None:
                continue
            previous = by_id.get(camera.id) or by_name.get((camera.area_code or "", camera.name))
            if previous is None or previous.id != camera.id:
                new[camera.id] = camera
                self._report.imported += 1
            elif replace(camera, created_at=previous.created_at) != previous:
                changed[camera.id] = replace(camera, created_at=previous.created_at)
                self._report.updated += 1
            else:
                self._report.unchanged += 1
            by_name[(camera.area_code or "", camera.name)] = camera
        self._cameras.add_many(list(new.values()))
        self._cameras.update_many(list(changed.values()))

    def _candidate(self, row: TableRow) -> _Candidate | None:
        if row.problem is not None:
            self._report.reject(row.number, *row.problem)
            return None
        try:
            draft = checked(_draft(row.values))
        except InvalidInputError as err:
            self._report.reject(row.number, err.field or "*", err.message)
            return None
        if draft.area_code not in self._areas:
            reason = f"unknown area {draft.area_code} (import the area tree first)" if draft.area_code else "required"
            self._report.reject(row.number, "area_code", reason)
            return None
        return _Candidate(row.number, draft)

    def _match(
        self, candidate: _Candidate, by_id: dict[str, Camera], by_name: dict[tuple[str, str], Camera]
    ) -> Camera | None:
        draft, row = candidate.draft, candidate.row
        area_code = draft.area_code or ""
        named = by_name.get((area_code, draft.name))
        if draft.id is not None and named is not None and named.id != draft.id:
            self._report.reject(
                row, "name", f"camera {named.id} in area {area_code} already has the name {draft.name!r}"
            )
            return None
        camera_id = draft.id or (named.id if named is not None else new_camera_id())
        if camera_id in self._written:
            self._report.reject(row, "id" if draft.id else "name", f"duplicate of row {self._written[camera_id]}")
            return None
        site = self._site(candidate)
        if site is None and draft.site_name is not None:
            return None
        self._written[camera_id] = row
        return Camera(
            id=camera_id,
            name=draft.name,
            source_url=draft.source_url,
            rtsp_transport=draft.rtsp_transport,
            created_at=self._now,
            area_code=draft.area_code,
            site_id=site.id if site is not None else None,
            longitude=draft.longitude,
            latitude=draft.latitude,
            sub_source_url=draft.sub_source_url,
        )

    def _site(self, candidate: _Candidate) -> Site | None:
        draft = candidate.draft
        if draft.site_name is None or draft.area_code is None:
            return None
        key = (draft.area_code, draft.site_name)
        site = self._sites.get(key)
        if site is None:
            site_type = draft.site_type or SiteType.OTHER
            site = self._site_repository.add(
                draft.site_name, site_type, draft.area_code, draft.longitude, draft.latitude
            )
            self._sites[key] = site
        elif draft.site_type is not None and draft.site_type is not site.type:
            self._report.reject(
                candidate.row, "site_type", f"site {site.name!r} is a {site.type.value}, not a {draft.site_type.value}"
            )
            return None
        return site


def _draft(values: dict[str, str]) -> CameraDraft:
    site_type_text = values.get("site_type", "")
    site_type = SITE_TYPE_WORDS.get(site_type_text.lower()) if site_type_text else None
    if site_type_text and site_type is None:
        raise InvalidInputError(
            f"site type {site_type_text!r} is not one of {', '.join(t.value for t in SiteType)}", field="site_type"
        )
    transport = values.get("rtsp_transport", "").lower() or "tcp"
    if transport not in ("tcp", "udp"):
        raise InvalidInputError(f"transport {transport!r} is not tcp or udp", field="rtsp_transport")
    return CameraDraft(
        name=values.get("name", ""),
        source_url=values.get("source_url") or None,
        sub_source_url=values.get("sub_source_url") or None,
        rtsp_transport="udp" if transport == "udp" else "tcp",
        id=values.get("id") or None,
        area_code=values.get("area_code") or None,
        site_name=values.get("site_name") or None,
        site_type=site_type,
        longitude=_number(values, "longitude"),
        latitude=_number(values, "latitude"),
    )


def _number(values: dict[str, str], column: str) -> float | None:
    text = values.get(column, "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInputError(f"{text!r} is not a number", field=column) from None
