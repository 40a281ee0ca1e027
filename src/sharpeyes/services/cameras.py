"""The camera registry and what its stream sessions report."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.cameras import CAMERA_ID_PATTERN, Camera, CameraStatus, RtspTransport, new_camera_id
from sharpeyes.core.clock import utcnow
from sharpeyes.core.errors import ConflictError, InvalidInputError, NotFoundError
from sharpeyes.core.urls import redact_url
from sharpeyes.media.manager import StreamManager
from sharpeyes.protocols.sources import check_source_url
from sharpeyes.store.cameras import CameraRepository

MAX_NAME_LENGTH = 200


@dataclass(frozen=True, slots=True)
class CameraDraft:
    name: str
    source_url: str
    rtsp_transport: RtspTransport = "tcp"
    id: str | None = None


@dataclass(frozen=True, slots=True)
class CameraView:
    """A camera as people see it: the source URL has its password redacted."""

    id: str
    name: str
    source_url: str
    rtsp_transport: RtspTransport
    created_at: datetime
    status: CameraStatus | None
    status_reason: str
    status_since: datetime | None
    last_frame_at: datetime | None


@dataclass(frozen=True, slots=True)
class SnapshotImage:
    jpeg: bytes
    frame_at: datetime


class CameraService:
    """``streams`` is None where no sessions run (command-line administration): status is then unknown."""

    def __init__(self, sessions: sessionmaker[Session], streams: StreamManager | None) -> None:
        self._sessions = sessions
        self._streams = streams

    def add(self, draft: CameraDraft) -> CameraView:
        camera = _validate(draft)
        try:
            with self._sessions.begin() as db:
                repository = CameraRepository(db)
                _check_unique(repository, camera)
                repository.add(camera)
        except IntegrityError as err:  # a concurrent add won the race
            raise ConflictError(f"camera {camera.name!r} exists already", code="camera_exists") from err
        if self._streams is not None:
            self._streams.ensure(camera)
        return self._view(camera)

    def list(self) -> list[CameraView]:
        with self._sessions() as db:
            return [self._view(camera) for camera in CameraRepository(db).list()]

    def get(self, camera_id: str) -> CameraView:
        return self._view(self._load(camera_id))

    def remove(self, camera_id: str) -> None:
        with self._sessions.begin() as db:
            if not CameraRepository(db).delete(camera_id):
                raise _not_found(camera_id)
        if self._streams is not None:
            self._streams.stop(camera_id)

    def snapshot(self, camera_id: str) -> SnapshotImage:
        self._load(camera_id)
        if self._streams is None:
            raise RuntimeError("snapshots need running stream sessions")
        snapshot = self._streams.snapshot(camera_id)
        age = timedelta(seconds=max(0.0, time.monotonic() - snapshot.received_s))
        return SnapshotImage(snapshot.jpeg, utcnow() - age)

    def sync_sessions(self) -> None:
        """Run a session for every camera in the store and none for cameras no longer there."""
        if self._streams is None:
            return
        with self._sessions() as db:
            cameras = {camera.id: camera for camera in CameraRepository(db).list()}
        for camera in cameras.values():
            self._streams.ensure(camera)
        for camera_id in self._streams.camera_ids() - cameras.keys():
            self._streams.stop(camera_id)

    def _load(self, camera_id: str) -> Camera:
        with self._sessions() as db:
            camera = CameraRepository(db).get(camera_id)
        if camera is None:
            raise _not_found(camera_id)
        return camera

    def _view(self, camera: Camera) -> CameraView:
        state = self._streams.state(camera.id) if self._streams is not None else None
        return CameraView(
            id=camera.id,
            name=camera.name,
            source_url=redact_url(camera.source_url),
            rtsp_transport=camera.rtsp_transport,
            created_at=camera.created_at,
            status=state.status if state else None,
            status_reason=state.reason if state else "",
            status_since=state.since if state else None,
            last_frame_at=state.last_frame_at if state else None,
        )


def _validate(draft: CameraDraft) -> Camera:
    name = draft.name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError(f"name: give 1 to {MAX_NAME_LENGTH} characters", code="bad_camera_name")
    if draft.id is not None and not CAMERA_ID_PATTERN.fullmatch(draft.id):
        raise InvalidInputError("id: use 1 to 64 letters, digits, '-' or '_'", code="bad_camera_id")
    if draft.rtsp_transport not in ("tcp", "udp"):
        raise InvalidInputError("rtsp_transport: use 'tcp' or 'udp'", code="bad_transport")
    source_url = check_source_url(draft.source_url)
    return Camera(draft.id or new_camera_id(), name, source_url, draft.rtsp_transport, utcnow())


def _check_unique(repository: CameraRepository, camera: Camera) -> None:
    if repository.get(camera.id) is not None:
        raise ConflictError(f"a camera with id {camera.id!r} exists already", code="camera_id_taken")
    other = repository.find_by_name(camera.name)
    if other is not None:
        raise ConflictError(
            f"a camera named {camera.name!r} exists already (id {other.id}) / 摄像机名称已存在",
            code="camera_name_taken",
        )


def _not_found(camera_id: str) -> NotFoundError:
    return NotFoundError(f"no camera with id {camera_id!r} / 找不到该摄像机", code="camera_not_found")
