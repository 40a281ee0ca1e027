"""The camera registry and what its stream sessions report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.areas import SiteType
from sharpeyes.core.cameras import Camera, CameraStatus, Profile, RtspTransport, new_camera_id
from sharpeyes.core.clock import utcnow
from sharpeyes.core.errors import ConflictError, InvalidInputError
from sharpeyes.core.masks import MaskPolygon
from sharpeyes.core.recording import RecordingPlan
from sharpeyes.core.urls import redact_url
from sharpeyes.media.manager import StreamManager
from sharpeyes.media.overlay import paint_jpeg
from sharpeyes.services.audit_log import AuditTrail
from sharpeyes.services.camera_rules import CameraDraft, camera_not_found, checked, require_camera
from sharpeyes.store.areas import AreaRepository, Site, SiteRepository
from sharpeyes.store.cameras import CameraRepository
from sharpeyes.store.recordings import RecordingRepository

__all__ = ["CameraDraft", "CameraService", "CameraView", "SnapshotImage"]

EDITABLE_FIELDS = frozenset(
    {
        "name",
        "source_url",
        "sub_source_url",
        "rtsp_transport",
        "area_code",
        "site_name",
        "site_type",
        "longitude",
        "latitude",
    }
)


@dataclass(frozen=True, slots=True)
class CameraView:
    """A camera as people see it: the source URL has its password redacted."""

    id: str
    name: str
    source_url: str | None
    sub_source_url: str | None
    rtsp_transport: RtspTransport
    created_at: datetime
    area_code: str | None
    site_name: str | None
    site_type: SiteType | None
    longitude: float | None
    latitude: float | None
    status: CameraStatus | None
    status_reason: str
    status_since: datetime | None
    last_frame_at: datetime | None
    recording: RecordingPlan


@dataclass(frozen=True, slots=True)
class SnapshotImage:
    jpeg: bytes
    frame_at: datetime


class CameraService:
    """``streams`` is None where no sessions run (command-line administration): status is then unknown."""

    def __init__(
        self, sessions: sessionmaker[Session], streams: StreamManager | None, audit: AuditTrail | None = None
    ) -> None:
        """``audit``: where viewing a camera's picture, and every change to the registry, is recorded."""
        self._sessions = sessions
        self._streams = streams
        self._audit = audit

    def add(self, draft: CameraDraft, by: str = "") -> CameraView:
        """Register a camera (``by``: who, for the audit trail)."""
        draft = checked(draft)
        try:
            with self._sessions.begin() as db:
                camera = self._place(db, draft, new_camera_id(), utcnow())
                repository = CameraRepository(db)
                _check_unique(repository, camera)
                repository.add(camera)
                view = self._view(db, camera)
        except IntegrityError as err:  # a concurrent add won the race
            raise ConflictError(f"camera {draft.name!r} exists already", code="camera_exists") from err
        self._follow(camera)
        self._audited(by, "camera.add", camera.id, {"name": camera.name, "source_url": view.source_url})
        return view

    def update(self, camera_id: str, changes: Mapping[str, Any], by: str = "") -> CameraView:
        """Change the given fields (see ``EDITABLE_FIELDS``); None clears an optional one."""
        unknown = set(changes) - EDITABLE_FIELDS
        if unknown:
            raise InvalidInputError(f"cannot change {', '.join(sorted(unknown))}", code="not_editable")
        with self._sessions.begin() as db:
            current = require_camera(db, camera_id)
            draft = checked(replace(self._draft_of(db, current), **changes))
            camera = self._place(db, draft, current.id, current.created_at)
            if (camera.name, camera.area_code) != (current.name, current.area_code):
                _check_unique(CameraRepository(db), camera, ignore_id=True)
            CameraRepository(db).update_many([camera])
            view = self._view(db, camera)
        self._follow(camera)
        shown = {k: redact_url(v) if "url" in k and isinstance(v, str) else v for k, v in changes.items()}
        self._audited(by, "camera.update", camera.id, {"changes": shown})
        return view

    def list(self, *, limit: int = 1000, offset: int = 0) -> list[CameraView]:
        with self._sessions() as db:
            cameras = CameraRepository(db).page(limit=limit, offset=offset)
            sites = SiteRepository(db).get_many(c.site_id for c in cameras if c.site_id is not None)
            plans = RecordingRepository(db).plans()
            return [self._view_with(camera, sites, plans.get(camera.id)) for camera in cameras]

    def get(self, camera_id: str) -> CameraView:
        with self._sessions() as db:
            return self._view(db, require_camera(db, camera_id))

    def remove(self, camera_id: str, by: str = "") -> None:
        with self._sessions.begin() as db:
            if not CameraRepository(db).delete(camera_id):
                raise camera_not_found(camera_id)
        self._audited(by, "camera.remove", camera_id, {})
        if self._streams is not None:
            self._streams.forget(camera_id)

    def snapshot(
        self,
        camera_id: str,
        profile: Profile = "main",
        username: str | None = None,
        masks: tuple[MaskPolygon, ...] = (),
    ) -> SnapshotImage:
        """The camera's current picture (``masks`` painted over); seen by ``username``, the viewing is audited (once
        while it goes on: a wall refreshes it every second)."""
        with self._sessions() as db:
            require_camera(db, camera_id)
        if username is not None and self._audit is not None:
            self._audit.viewed(username, "snapshot.view", camera_id)
        if self._streams is None:
            raise RuntimeError("snapshots need running stream sessions")
        snapshot = self._streams.snapshot(camera_id, profile)
        jpeg = paint_jpeg(snapshot.jpeg, masks) if masks else snapshot.jpeg
        return SnapshotImage(jpeg, snapshot.frame_at)

    def sync_sessions(self) -> None:
        """Register every networked camera in the store with the stream manager, and no other."""
        if self._streams is None:
            return
        with self._sessions() as db:
            cameras = {camera.id: camera for camera in CameraRepository(db).list_networked()}
        for camera in cameras.values():
            self._streams.register(camera)
        for camera_id in self._streams.camera_ids() - cameras.keys():
            self._streams.forget(camera_id)

    def _audited(self, by: str, action: str, camera_id: str, data: dict[str, Any]) -> None:
        if self._audit is not None:
            self._audit.write(by or "platform", action, "ok", {"camera_id": camera_id, **data})

    def _follow(self, camera: Camera) -> None:
        if self._streams is None:
            return
        if camera.source_url is None:
            self._streams.forget(camera.id)
        else:
            self._streams.register(camera)

    def _place(self, db: Session, draft: CameraDraft, fallback_id: str, created_at: datetime) -> Camera:
        """The camera ``draft`` describes, with its area checked and its site found or created."""
        if draft.area_code is not None and AreaRepository(db).get(draft.area_code) is None:
            raise InvalidInputError(
                f"area_code: no area {draft.area_code} (import the area tree first)",
                code="unknown_area",
                field="area_code",
            )
        site = self._site(db, draft)
        return Camera(
            id=draft.id or fallback_id,
            name=draft.name,
            source_url=draft.source_url,
            rtsp_transport=draft.rtsp_transport,
            created_at=created_at,
            area_code=draft.area_code,
            site_id=site.id if site else None,
            longitude=draft.longitude,
            latitude=draft.latitude,
            sub_source_url=draft.sub_source_url,
        )

    @staticmethod
    def _site(db: Session, draft: CameraDraft) -> Site | None:
        if draft.site_name is None or draft.area_code is None:
            return None
        sites = SiteRepository(db)
        site = sites.find(draft.area_code, draft.site_name)
        if site is None:
            site_type = draft.site_type or SiteType.OTHER
            return sites.add(draft.site_name, site_type, draft.area_code, draft.longitude, draft.latitude)
        if draft.site_type is not None and draft.site_type is not site.type:
            raise InvalidInputError(
                f"site_type: site {site.name!r} is a {site.type.value}, not a {draft.site_type.value}",
                code="site_type_conflict",
                field="site_type",
            )
        return site

    @staticmethod
    def _draft_of(db: Session, camera: Camera) -> CameraDraft:
        site = SiteRepository(db).get(camera.site_id) if camera.site_id is not None else None
        return CameraDraft(
            name=camera.name,
            source_url=camera.source_url,
            rtsp_transport=camera.rtsp_transport,
            id=camera.id,
            area_code=camera.area_code,
            site_name=site.name if site else None,
            site_type=site.type if site else None,
            longitude=camera.longitude,
            latitude=camera.latitude,
            sub_source_url=camera.sub_source_url,
        )

    def _view(self, db: Session, camera: Camera) -> CameraView:
        sites = SiteRepository(db).get_many([camera.site_id] if camera.site_id is not None else [])
        return self._view_with(camera, sites, RecordingRepository(db).plan(camera.id))

    def _view_with(self, camera: Camera, sites: Mapping[int, Site], plan: RecordingPlan | None) -> CameraView:
        state = self._streams.state(camera.id) if self._streams is not None else None
        site = sites.get(camera.site_id) if camera.site_id is not None else None
        return CameraView(
            id=camera.id,
            name=camera.name,
            source_url=redact_url(camera.source_url) if camera.source_url else None,
            sub_source_url=redact_url(camera.sub_source_url) if camera.sub_source_url else None,
            rtsp_transport=camera.rtsp_transport,
            created_at=camera.created_at,
            area_code=camera.area_code,
            site_name=site.name if site else None,
            site_type=site.type if site else None,
            longitude=camera.longitude,
            latitude=camera.latitude,
            status=state.status if state else None,
            status_reason=state.reason if state else "",
            status_since=state.since if state else None,
            last_frame_at=state.last_frame_at if state else None,
            recording=plan or RecordingPlan(),
        )


def _check_unique(repository: CameraRepository, camera: Camera, *, ignore_id: bool = False) -> None:
    if not ignore_id and repository.get(camera.id) is not None:
        raise ConflictError(f"a camera with id {camera.id!r} exists already", code="camera_id_taken")
    other = repository.find_by_name(camera.name, camera.area_code)
    if other is not None and other.id != camera.id:
        where = f" in area {camera.area_code}" if camera.area_code else ""
        raise ConflictError(
            f"a camera named {camera.name!r}{where} exists already (id {other.id}) / 摄像机名称已存在",
            code="camera_name_taken",
        )
