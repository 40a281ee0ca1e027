"""Recording: plans, the segments and gaps recorders report, self-healing, playback, retention and repair."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.cameras import CameraStatus
from sharpeyes.core.clock import check_range, utcnow
from sharpeyes.core.errors import InvalidInputError, NotFoundError
from sharpeyes.core.events import Event, EventType
from sharpeyes.core.masks import MaskPolygon
from sharpeyes.core.recording import RecordingPlan
from sharpeyes.core.settings import RecordingSettings
from sharpeyes.media.manager import StreamManager
from sharpeyes.media.overlay import FramePainter
from sharpeyes.media.recorder import PARTIAL_SUFFIX, RecordedSegment, RecorderConfig
from sharpeyes.media.repaint import repaint_file, repaint_segment
from sharpeyes.media.segments import SegmentPiece, media_offset, probe_segment, write_clip
from sharpeyes.services.audit_log import AuditTrail
from sharpeyes.services.camera_rules import require_camera
from sharpeyes.services.events import EventService
from sharpeyes.store.recordings import RecordingRepository, StoredGap, StoredSegment

logger = logging.getLogger(__name__)

NOT_RUNNING = "recording was not running (the platform was stopped or restarted)"
MAX_CLIP = timedelta(hours=2)
MAX_MASKED_DOWNLOAD = timedelta(minutes=10)
"""A masked clip is encoded again while its viewer waits (1080p: about real time on two cores)."""
STALE_WRITE_S = 60.0
REPAINTED_KEPT = 8
"""Masked playback segments kept encoded (a player asks for each one's two parts, and may seek back)."""


@dataclass(frozen=True, slots=True)
class Recordings:
    segments: list[StoredSegment]
    gaps: list[StoredGap]


@dataclass(slots=True)
class RetentionReport:
    expired: int = 0
    evicted: int = 0
    freed_bytes: int = 0
    low_space: bool = False


@dataclass(slots=True)
class ConsistencyReport:
    orphan_files: list[str] = field(default_factory=list)
    partial_files: list[str] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)
    repaired: bool = False

    @property
    def consistent(self) -> bool:
        return not (self.orphan_files or self.partial_files or self.missing_files)


class RecordingService:
    """Also the recorders' sink: every finished segment and every gap lands here."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: RecordingSettings,
        root: Path,
        streams: StreamManager | None,
        events: EventService,
        startup_grace_s: float = 5.0,
        audit: AuditTrail | None = None,
    ) -> None:
        """``audit``: where viewing recordings, downloading clips and deleting by retention are recorded."""
        self._sessions = sessions
        self._audit = audit
        self._events = events
        self._low_space = False
        self._startup_grace_s = startup_grace_s
        self._settings = settings
        self._root = root
        self._streams = streams
        self._zone = ZoneInfo(settings.timezone)
        self._repainted = lru_cache(maxsize=REPAINTED_KEPT)(self._repaint)

    # -- the recorders' sink -------------------------------------------------------------------------------

    def segment_done(self, segment: RecordedSegment) -> None:
        key = segment.path.relative_to(self._root).as_posix()
        with self._sessions.begin() as db:
            repository = RecordingRepository(db)
            previous = repository.last_segment_before(segment.camera_id, segment.start)
            if previous is not None:
                self._fill_unexplained(repository, segment.camera_id, previous.end, segment.start)
            repository.add_segment(segment.camera_id, segment.start, segment.end, segment.bytes, segment.codec, key)

    def _fill_unexplained(
        self, repository: RecordingRepository, camera_id: str, start: datetime, end: datetime
    ) -> None:
        """Stretches of [start, end) that no recorded gap explains and the plan wanted recorded: the platform
        (or its recorder) was not running."""
        tolerance = timedelta(seconds=max(1.0, self._settings.stall_s))
        if end - start <= tolerance:
            return
        plan = repository.plan(camera_id) or RecordingPlan()
        cursor = start
        stretches = []
        for gap in repository.gaps(camera_id, start, end):
            if gap.start > cursor:
                stretches.append((cursor, gap.start))
            cursor = max(cursor, gap.end)
        if cursor < end:
            stretches.append((cursor, end))
        for begins, ends in stretches:
            if ends - begins > tolerance and plan.active_at(begins + (ends - begins) / 2, self._zone):
                repository.add_gap(camera_id, begins, ends, NOT_RUNNING)

    def gap(self, camera_id: str, start: datetime, end: datetime, reason: str) -> None:
        logger.warning("camera %s: recording gap of %.1f s: %s", camera_id, (end - start).total_seconds(), reason)
        with self._sessions.begin() as db:
            RecordingRepository(db).add_gap(camera_id, start, end, reason)

    # -- plans and self-healing ----------------------------------------------------------------------------

    def plan(self, camera_id: str) -> RecordingPlan:
        with self._sessions() as db:
            require_camera(db, camera_id)
            return RecordingRepository(db).plan(camera_id) or RecordingPlan()

    def set_plan(self, camera_id: str, plan: RecordingPlan, by: str = "") -> RecordingPlan:
        longest = self._settings.max_retention_days
        if plan.retention_days is not None and plan.retention_days > longest:
            raise InvalidInputError(
                f"retention_days: at most {longest} (recordings.max_retention_days) / 超过最长保存期限",
                code="retention_too_long",
                field="retention_days",
            )
        with self._sessions.begin() as db:
            require_camera(db, camera_id)
            RecordingRepository(db).set_plan(camera_id, plan)
        if self._audit is not None:
            data = {"camera_id": camera_id, "mode": plan.mode.value, "retention_days": plan.retention_days}
            self._audit.write(by or "platform", "recording.plan", "ok", data)
        self.reconcile()
        return plan

    def reconcile(self, now: datetime | None = None) -> int:
        """Make every planned recording run (restarting any that stopped writing); returns how many (re)started."""
        if self._streams is None:
            return 0
        now = now or utcnow()
        with self._sessions() as db:
            plans = RecordingRepository(db).plans()
        started = 0
        config = RecorderConfig(self._root, self._settings.segment_s, self._settings.stall_s, self._startup_grace_s)
        for camera_id, plan in plans.items():
            if not plan.active_at(now, self._zone):
                self._streams.stop_recording(camera_id)
                continue
            recorder = self._streams.recorder(camera_id)
            if recorder is not None and recorder.alive and not self._stale(camera_id, recorder.last_write_s):
                continue
            if recorder is not None:
                logger.warning(
                    "camera %s: recorder %s; restarting it", camera_id, recorder.failure or "stopped writing"
                )
                self._streams.stop_recording(camera_id)
            if self._streams.record(camera_id, config, self):
                started += 1
        for camera_id in self._streams.recording_ids() - plans.keys():
            self._streams.stop_recording(camera_id)
        return started

    def _stale(self, camera_id: str, last_write_s: float) -> bool:
        """Writing stopped although the camera delivers video."""
        assert self._streams is not None
        session = self._streams.get(camera_id)
        online = session is not None and session.state.status is CameraStatus.ONLINE
        return online and time.monotonic() - last_write_s > STALE_WRITE_S

    # -- reading recordings ----------------------------------------------------------------------------------

    def recordings(self, camera_id: str, start: datetime, end: datetime) -> Recordings:
        check_range(start, end)
        with self._sessions() as db:
            require_camera(db, camera_id)
            repository = RecordingRepository(db)
            return Recordings(repository.segments(camera_id, start, end), repository.gaps(camera_id, start, end))

    def playlist(
        self,
        camera_id: str,
        start: datetime,
        end: datetime,
        segment_url: str,
        username: str | None = None,
        masked: bool = False,
    ) -> str:
        """HLS VOD (fMP4) over the segments; ``segment_url`` has ``{id}`` and ``{part}`` (init.mp4, media.m4s).
        Asked for by ``username``, the viewing is audited (``masked``: with privacy masks painted in)."""
        found = self.recordings(camera_id, start, end)
        if username is not None and self._audit is not None:
            self._audit.write(username, "playback", "ok", {**_range(camera_id, start, end), "masked": masked})
        if not found.segments:
            raise NotFoundError("nothing was recorded in that time range / 该时段无录像", code="no_recordings")
        longest = max((s.end - s.start).total_seconds() for s in found.segments)
        lines = ["#EXTM3U", "#EXT-X-VERSION:7", f"#EXT-X-TARGETDURATION:{int(longest) + 1}"]
        lines += ["#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-MEDIA-SEQUENCE:0"]
        for index, segment in enumerate(found.segments):
            if index:  # every segment file starts its own timeline at zero
                lines.append("#EXT-X-DISCONTINUITY")
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{segment.start.isoformat(timespec='milliseconds')}")
            lines.append(f'#EXT-X-MAP:URI="{segment_url.format(id=segment.id, part="init.mp4")}"')
            lines.append(f"#EXTINF:{(segment.end - segment.start).total_seconds():.3f},")
            lines.append(segment_url.format(id=segment.id, part="media.m4s"))
        lines.append("#EXT-X-ENDLIST")
        return "\n".join(lines) + "\n"

    def segment_part(self, camera_id: str, segment_id: int, part: str, masks: tuple[MaskPolygon, ...] = ()) -> bytes:
        """The initialisation part (``init.mp4``) or the media part (``media.m4s``) of one segment file; with
        ``masks``, of the segment encoded again with them painted in."""
        with self._sessions() as db:
            segment = RecordingRepository(db).segment(segment_id)
        if segment is None or segment.camera_id != camera_id or part not in ("init.mp4", "media.m4s"):
            raise NotFoundError("no such recorded segment", code="segment_not_found")
        path = self._root / segment.storage_key
        try:
            if masks:
                init, media = self._repainted(path, masks)
                return init if part == "init.mp4" else media
            data = path.read_bytes()
            split = media_offset(path)
        except (OSError, ValueError) as err:
            raise NotFoundError(f"the segment file is missing or broken: {err}", code="segment_unreadable") from err
        return data[:split] if part == "init.mp4" else data[split:]

    def _repaint(self, path: Path, masks: tuple[MaskPolygon, ...]) -> tuple[bytes, bytes]:
        return repaint_segment(path, FramePainter(masks))

    def segment_path(self, storage_key: str) -> Path:
        """Where a recorded segment's file is."""
        return self._root / storage_key

    def clip(
        self,
        camera_id: str,
        start: datetime,
        end: datetime,
        username: str | None = None,
        masks: tuple[MaskPolygon, ...] = (),
        watermark: str | None = None,
    ) -> Path:
        """An MP4 file of the range in a new temporary directory; the caller removes the directory. Downloaded by
        ``username``, it is audited. With privacy ``masks`` or a visible ``watermark`` line it is encoded again
        with them painted in; otherwise the camera's own packets are copied."""
        check_range(start, end)
        if end - start > MAX_CLIP:
            raise InvalidInputError(
                "a clip may last at most 2 hours; export longer spans as a case", code="clip_too_long"
            )
        if masks and username is not None and end - start > MAX_MASKED_DOWNLOAD:
            raise InvalidInputError(
                "a clip with privacy masks is re-encoded while you wait: at most 10 minutes; export longer spans "
                "(made in the background) / 带隐私遮挡的片段最长 10 分钟，更长请导出",
                code="clip_too_long",
            )
        found = self.recordings(camera_id, start, end)
        pieces = [SegmentPiece(self._root / s.storage_key, s.start) for s in found.segments]
        if not pieces:
            raise NotFoundError("nothing was recorded in that time range / 该时段无录像", code="no_recordings")
        out = Path(tempfile.mkdtemp(prefix="sharpeyes-clip-")) / "clip.mp4"
        try:
            written = write_clip(pieces, start, end, out)
        except BaseException:
            shutil.rmtree(out.parent, ignore_errors=True)
            raise
        if written == 0:
            shutil.rmtree(out.parent, ignore_errors=True)
            raise NotFoundError("nothing was recorded in that time range / 该时段无录像", code="no_recordings")
        if masks or watermark:
            painted = out.with_name("painted.mp4")
            try:
                repaint_file(out, painted, FramePainter(masks, watermark))
            except BaseException:
                shutil.rmtree(out.parent, ignore_errors=True)
                raise
            out = painted.replace(out)
        if username is not None and self._audit is not None:
            masked = bool(masks)
            self._audit.write(username, "clip.download", "ok", {**_range(camera_id, start, end), "masked": masked})
        return out

    # -- retention, disk space and repair -----------------------------------------------------------------

    def apply_retention(self, now: datetime | None = None) -> RetentionReport:
        """Delete expired segments, then the oldest of the lowest-priority cameras while space is short.
        Segments under legal hold are never deleted."""
        now = now or utcnow()
        report = RetentionReport()
        with self._sessions() as db:
            repository = RecordingRepository(db)
            plans = repository.plans()
            for camera_id in repository.camera_ids_with_segments():
                plan = plans.get(camera_id)
                days = plan.retention_days if plan and plan.retention_days else self._settings.retention_days
                days = min(days, self._settings.max_retention_days)  # plans kept from before a lower maximum
                expired = repository.expired(camera_id, now - timedelta(days=days), limit=100_000)
                report.expired += len(expired)
                report.freed_bytes += self._delete(repository, expired)
            db.commit()
            by_priority = sorted(
                repository.camera_ids_with_segments(), key=lambda c: plans.get(c, RecordingPlan()).priority
            )
            report.low_space = self._space_short()
            while self._space_short() and by_priority:
                lowest = plans.get(by_priority[0], RecordingPlan()).priority
                group = [c for c in by_priority if plans.get(c, RecordingPlan()).priority == lowest]
                oldest = repository.oldest_unheld(group, limit=50)
                if not oldest:
                    by_priority = [c for c in by_priority if c not in group]
                    continue
                report.evicted += len(oldest)
                report.freed_bytes += self._delete(repository, oldest)
                db.commit()
        if (report.expired or report.evicted) and self._audit is not None:
            self._audit.write("platform", "retention.delete", "ok", {"expired": report.expired,
                              "evicted": report.evicted, "freed_bytes": report.freed_bytes})  # fmt: skip
        if report.expired or report.evicted:
            logger.info(
                "retention: %d expired and %d evicted segments deleted, %.1f MB freed",
                report.expired,
                report.evicted,
                report.freed_bytes / 2**20,
            )
        if report.low_space:
            logger.warning("recordings disk below %d MB free: oldest segments evicted", self._settings.min_free_mb)
        if report.low_space and not self._low_space:
            detail = (
                f"recordings disk below {self._settings.min_free_mb} MB free; {report.evicted} oldest segments "
                f"evicted / 录像磁盘空间不足"
            )
            data = {
                "evicted": report.evicted,
                "freed_bytes": report.freed_bytes,
                "min_free_mb": self._settings.min_free_mb,
            }
            self._events.record(Event(EventType.STORAGE_LOW, utcnow(), detail, data=data))
        self._low_space = report.low_space
        return report

    def check_consistency(self, *, repair: bool = False) -> ConsistencyReport:
        """Compare the segment files with the store; with ``repair``, register complete orphan files, delete
        partial ones, and forget rows whose file is gone (a gap takes their place)."""
        report = ConsistencyReport()
        with self._sessions() as db:
            repository = RecordingRepository(db)
            known = repository.all_storage_keys()
            on_disk = (
                {p.relative_to(self._root).as_posix() for p in self._root.rglob("*.mp4")}
                if self._root.exists()
                else set()
            )
            report.orphan_files = sorted(on_disk - known.keys())
            report.missing_files = sorted(known.keys() - on_disk)
            report.partial_files = (
                sorted(p.relative_to(self._root).as_posix() for p in self._root.rglob(f"*{PARTIAL_SUFFIX}"))
                if self._root.exists()
                else []
            )
            if repair:
                self._repair(db, repository, report, known)
                report.repaired = True
        return report

    def _files(self, pattern: str) -> list[str]:
        if not self._root.exists():
            return []
        return [path.relative_to(self._root).as_posix() for path in self._root.rglob(pattern)]

    def _repair(
        self, db: Session, repository: RecordingRepository, report: ConsistencyReport, known: dict[str, int]
    ) -> None:
        for key in report.partial_files:
            (self._root / key).unlink(missing_ok=True)
        for key in report.orphan_files:
            probed = probe_segment(self._root / key)
            start = _start_from_key(key)
            if probed is None or start is None:
                (self._root / key).unlink(missing_ok=True)
                continue
            duration_s, codec = probed
            camera_id = key.split("/", 1)[0]
            size = (self._root / key).stat().st_size
            repository.add_segment(camera_id, start, start + timedelta(seconds=duration_s), size, codec, key)
        missing = [known[key] for key in report.missing_files]
        for segment_id in missing:
            segment = repository.segment(segment_id)
            if segment is not None:
                repository.add_gap(segment.camera_id, segment.start, segment.end, "segment file missing from disk")
        repository.delete_segments(missing)
        db.commit()

    def _delete(self, repository: RecordingRepository, segments: Sequence[StoredSegment]) -> int:
        freed = 0
        for segment in segments:
            path = self._root / segment.storage_key
            try:
                freed += path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                pass
        repository.delete_segments([s.id for s in segments])
        return freed

    def _space_short(self) -> bool:
        if self._settings.min_free_mb <= 0:
            return False
        self._root.mkdir(parents=True, exist_ok=True)
        return shutil.disk_usage(self._root).free < self._settings.min_free_mb * 2**20


def _start_from_key(key: str) -> datetime | None:
    """Segment files are named CAMERA/YYYY-MM-DD/HHMMSS.ffffff.mp4 in UTC."""
    try:
        _camera, day, name = key.split("/")
        return datetime.strptime(f"{day} {name.removesuffix('.mp4')}+0000", "%Y-%m-%d %H%M%S.%f%z")
    except ValueError:
        return None


def _range(camera_id: str, start: datetime, end: datetime) -> dict[str, str]:
    return {"camera_id": camera_id, "start": start.isoformat(), "end": end.isoformat()}
