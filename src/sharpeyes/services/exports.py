"""Evidence exports: a camera's recording of a time range, packaged for a case with everything a court or an
auditor needs to trust it — the clip as MP4 (the camera's own packets, remuxed; encoded again only to paint in
privacy masks or a visible watermark, which the manifest then says), a manifest naming the camera, the times,
the recorded segments it was cut from (with their SHA-256), who exported it and why, and the audit records of its
making, the SHA-256 of every file, and the platform's Ed25519 signature over the manifest (``store.evidence``).
The segments used are put under legal hold: retention never deletes them. Creating and downloading are audited."""

from __future__ import annotations

import logging
import secrets
import shutil
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.clock import check_range, utcnow
from sharpeyes.core.errors import InvalidInputError, NotFoundError, SharpEyesError
from sharpeyes.core.masks import MaskPolygon
from sharpeyes.services.audit_log import AuditTrail
from sharpeyes.services.camera_rules import require_camera
from sharpeyes.services.recordings import RecordingService
from sharpeyes.store.evidence import fingerprint, sha256_of, write_package
from sharpeyes.store.keys import PlatformKey
from sharpeyes.store.recordings import RecordingRepository

logger = logging.getLogger(__name__)

MOST_JOBS = 1_000
"""Export jobs remembered (finished packages stay on disk; only the list of jobs is bounded)."""


@dataclass(frozen=True, slots=True)
class ExportRequest:
    camera_id: str
    start: datetime
    end: datetime
    reason: str
    case_id: str | None = None
    masks: tuple[MaskPolygon, ...] = ()
    """Privacy masks painted into the clip (none: shown unmasked, or the camera has none)."""
    watermark: bool = False
    """Paint the exporter and the time of export into every picture."""


@dataclass(frozen=True, slots=True)
class ExportJob:
    id: str
    request: ExportRequest
    username: str
    status: str
    """running, done or failed."""
    created_at: datetime
    detail: str = ""
    """Why it failed."""
    package_bytes: int = 0
    package_sha256: str = ""


class ExportService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        recordings: RecordingService,
        audit: AuditTrail,
        key: PlatformKey,
        exports_dir: Path,
        platform_id: str,
    ) -> None:
        self._sessions = sessions
        self._recordings = recordings
        self._audit = audit
        self._key = key
        self._dir = exports_dir
        self._platform_id = platform_id
        self._lock = threading.Lock()
        self._jobs: dict[str, ExportJob] = {}

    def create(self, username: str, request: ExportRequest) -> ExportJob:
        """Start packaging (in the background); the job to follow."""
        request = _checked(request)
        with self._sessions() as db:
            require_camera(db, request.camera_id)
        job = ExportJob(secrets.token_urlsafe(12), request, username, "running", utcnow())
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > MOST_JOBS:
                del self._jobs[next(iter(self._jobs))]
        threading.Thread(target=self._run, args=(job,), name=f"export-{job.id}", daemon=True).start()
        return job

    def get(self, username: str, job_id: str) -> ExportJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.username != username:
            raise NotFoundError("no such export (it is someone else's, or was never made)", code="export_not_found")
        return job

    def package(self, username: str, job_id: str) -> Path:
        """The finished package's file (the download is audited)."""
        job = self.get(username, job_id)
        path = self._path(job.id)
        if job.status != "done" or not path.exists():
            raise NotFoundError(f"the export is {job.status}: no package to download", code="export_not_ready")
        self._audit.write(username, "export.download", "ok", {"export_id": job.id, **_particulars(job.request)})
        return path

    def _run(self, job: ExportJob) -> None:
        request = job.request
        work = self._dir / f"{job.id}.work"
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            work.mkdir()
            with self._sessions() as db:
                camera = require_camera(db, request.camera_id)
                segments = RecordingRepository(db).segments(request.camera_id, request.start, request.end)
            watermark = _watermark(job.username, job.created_at, request.case_id) if request.watermark else None
            clip = self._recordings.clip(
                request.camera_id, request.start, request.end, masks=request.masks, watermark=watermark
            )
            shutil.move(clip, work / "clip.mp4")
            shutil.rmtree(clip.parent, ignore_errors=True)
            record = self._audit.write(job.username, "export.create", "ok", {"export_id": job.id,
                                                                             **_particulars(request)})  # fmt: skip
            with self._sessions.begin() as db:
                for segment in segments:
                    RecordingRepository(db).set_hold(segment.id, True)
            manifest = {
                "platform": {"id": self._platform_id, "key_sha256": fingerprint(self._key.public_pem())},
                "camera": {"id": camera.id, "name": camera.name, "area_code": camera.area_code},
                "start": request.start.isoformat(),
                "end": request.end.isoformat(),
                "exported_at": utcnow().isoformat(),
                "exported_by": job.username,
                "case_id": request.case_id,
                "reason": request.reason,
                "re_encoded": bool(request.masks or watermark),
                "privacy_masks": [[list(point) for point in mask.points] for mask in request.masks],
                "watermark": watermark,
                "source_segments": [
                    {
                        "id": s.id,
                        "start": s.start.isoformat(),
                        "end": s.end.isoformat(),
                        "sha256": sha256_of(self._recordings.segment_path(s.storage_key)),
                    }
                    for s in segments
                ],
                "custody": [
                    {
                        "seq": record.seq,
                        "at": record.at.isoformat(),
                        "by": record.username,
                        "action": record.action,
                        "audit_hash": record.hash,
                    }
                ],
            }
            write_package(self._path(job.id), manifest, {"clip.mp4": work / "clip.mp4"}, self._key)
            done = replace(job, status="done", package_bytes=self._path(job.id).stat().st_size,
                           package_sha256=sha256_of(self._path(job.id)))  # fmt: skip
        except SharpEyesError as err:
            done = replace(job, status="failed", detail=err.message)
            self._audit.write(job.username, "export.create", "failed", {"export_id": job.id, "error": err.code,
                                                                         **_particulars(request)})  # fmt: skip
        except Exception as err:  # a bug fails this export, not the platform
            logger.exception("export %s failed", job.id)
            done = replace(job, status="failed", detail=f"internal error: {type(err).__name__}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        with self._lock:
            self._jobs[job.id] = done

    def _path(self, job_id: str) -> Path:
        return self._dir / f"{job_id}.zip"


def _checked(request: ExportRequest) -> ExportRequest:
    check_range(request.start, request.end)
    reason = request.reason.strip()
    if not reason or len(reason) > 500:
        raise InvalidInputError("reason: say why (1–500 characters) / 请填写导出事由", code="no_reason", field="reason")
    case_id = (request.case_id or "").strip() or None
    if case_id is not None and len(case_id) > 64:
        raise InvalidInputError("case_id: at most 64 characters", code="bad_case_id", field="case_id")
    return replace(request, reason=reason, case_id=case_id)


def _particulars(request: ExportRequest) -> dict[str, Any]:
    return {
        "camera_id": request.camera_id,
        "start": request.start.isoformat(),
        "end": request.end.isoformat(),
        "case_id": request.case_id,
        "reason": request.reason,
        "masked": bool(request.masks),
        "watermark": request.watermark,
    }


def _watermark(username: str, at: datetime, case_id: str | None) -> str:
    """The line painted into an export's pictures: who exported it, when (UTC), for which case."""
    case = f"  {case_id}" if case_id else ""
    return f"{username}  {at:%Y-%m-%d %H:%M} UTC{case}"
