"""All stream sessions of this process, keyed by camera id."""

from __future__ import annotations

import threading
import time

from sharpeyes.core.cameras import Camera, CameraState, CameraStatus
from sharpeyes.core.errors import UnavailableError
from sharpeyes.core.settings import SnapshotSettings, StreamSettings
from sharpeyes.media.session import SourceOpener, StreamSession
from sharpeyes.media.snapshots import Snapshot, SnapshotTaker
from sharpeyes.protocols.sources import SourceOptions, open_source


class StreamManager:
    def __init__(
        self, streams: StreamSettings, snapshots: SnapshotSettings, opener: SourceOpener = open_source
    ) -> None:
        self._streams = streams
        self._snapshots = snapshots
        self._opener = opener
        self._lock = threading.Lock()
        self._sessions: dict[str, StreamSession] = {}
        self._stopping: list[StreamSession] = []
        self._closed = False

    def ensure(self, camera: Camera) -> StreamSession | None:
        """Run a session for ``camera`` (which must have a source); a changed source restarts it.

        After ``shutdown`` nothing starts any more (None).
        """
        if camera.source_url is None:
            raise ValueError(f"camera {camera.id} has no source to stream from")
        url = camera.source_url
        options = SourceOptions(
            rtsp_transport=camera.rtsp_transport,
            open_timeout_s=self._streams.open_timeout_s,
            read_timeout_s=self._streams.read_timeout_s,
        )
        with self._lock:
            if self._closed:
                return None
            session = self._sessions.get(camera.id)
            if session is not None and (session.url, session.options) == (url, options):
                return session
            if session is not None:
                self._retire(session)
            session = StreamSession(
                camera.id,
                url,
                options,
                self._streams,
                SnapshotTaker(self._snapshots.jpeg_quality),
                self._opener,
            )
            self._sessions[camera.id] = session
            session.start()  # inside the lock: nobody may join a session that has not started
        return session

    def stop(self, camera_id: str) -> None:
        with self._lock:
            session = self._sessions.pop(camera_id, None)
            if session is not None:
                self._retire(session)

    def camera_ids(self) -> set[str]:
        with self._lock:
            return set(self._sessions)

    def online_camera_ids(self) -> set[str]:
        with self._lock:
            sessions = list(self._sessions.values())
        return {s.camera_id for s in sessions if s.state.status is CameraStatus.ONLINE}

    def get(self, camera_id: str) -> StreamSession | None:
        with self._lock:
            return self._sessions.get(camera_id)

    def state(self, camera_id: str) -> CameraState | None:
        session = self.get(camera_id)
        return session.state if session is not None else None

    def snapshot(self, camera_id: str) -> Snapshot:
        session = self.get(camera_id)
        if session is None:
            raise UnavailableError("the camera has no running stream session", code="no_session")
        return session.snapshot()

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Stop every session and wait (bounded) for their threads to close their connections."""
        with self._lock:
            self._closed = True
            for session in self._sessions.values():
                self._retire(session)
            self._sessions.clear()
            retired, self._stopping = self._stopping, []
        deadline = time.monotonic() + timeout_s
        for session in retired:
            session.join(max(0.0, deadline - time.monotonic()))

    def _retire(self, session: StreamSession) -> None:
        session.stop()
        self._stopping = [s for s in self._stopping if not s.join(0)]
        self._stopping.append(session)
