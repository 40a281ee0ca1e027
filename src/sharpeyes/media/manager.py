"""All stream sessions of this process, keyed by camera id."""

from __future__ import annotations

import threading
import time

from sharpeyes.core.cameras import Camera, CameraState, CameraStatus
from sharpeyes.core.errors import UnavailableError
from sharpeyes.core.settings import SnapshotSettings, StreamSettings
from sharpeyes.media.recorder import Recorder, RecorderConfig, RecordingSink
from sharpeyes.media.session import SourceOpener, StatusListener, StreamSession
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
        self._listeners: list[StatusListener] = []
        self._recorders: dict[str, Recorder] = {}
        self._recording: dict[str, tuple[RecorderConfig, RecordingSink]] = {}

    def add_status_listener(self, listener: StatusListener) -> None:
        """``listener(camera_id, state)`` is called on the session's thread at every status change."""
        self._listeners.append(listener)

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
                self._listeners,
            )
            self._sessions[camera.id] = session
            session.start()  # inside the lock: nobody may join a session that has not started
            if camera.id in self._recording:
                self._start_recorder(camera.id)
        return session

    def record(self, camera_id: str, config: RecorderConfig, sink: RecordingSink) -> bool:
        """Record the camera's session (kept across source changes); False when it has no session."""
        with self._lock:
            if camera_id not in self._sessions or self._closed:
                return False
            self._recording[camera_id] = (config, sink)
            recorder = self._recorders.get(camera_id)
            if recorder is None or not recorder.alive:
                self._start_recorder(camera_id)
            return True

    def stop_recording(self, camera_id: str) -> None:
        with self._lock:
            self._recording.pop(camera_id, None)
            recorder = self._recorders.pop(camera_id, None)
        if recorder is not None:
            recorder.stop()

    def recorder(self, camera_id: str) -> Recorder | None:
        with self._lock:
            return self._recorders.get(camera_id)

    def recording_ids(self) -> set[str]:
        with self._lock:
            return set(self._recording)

    def _start_recorder(self, camera_id: str) -> None:
        """Under the lock: (re)attach a recorder to the camera's current session."""
        old = self._recorders.pop(camera_id, None)
        if old is not None:
            old.stop()
        session = self._sessions[camera_id]
        config, sink = self._recording[camera_id]
        recorder = Recorder(camera_id, session.relay, config, sink, session.outage_reason)
        self._recorders[camera_id] = recorder
        recorder.start()

    def stop(self, camera_id: str) -> None:
        self.stop_recording(camera_id)
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
            recorders = list(self._recorders.values())
            self._recorders.clear()
            self._recording.clear()
            for session in self._sessions.values():
                self._retire(session)
            self._sessions.clear()
            retired, self._stopping = self._stopping, []
        for recorder in recorders:
            recorder.stop()
        deadline = time.monotonic() + timeout_s
        for recorder in recorders:  # close the segments being written before the sessions go
            recorder.join(max(0.0, deadline - time.monotonic()))
        for session in retired:
            session.join(max(0.0, deadline - time.monotonic()))

    def _retire(self, session: StreamSession) -> None:
        session.stop()
        self._stopping = [s for s in self._stopping if not s.join(0)]
        self._stopping.append(session)
