"""All stream sessions of this process: at most one per camera and profile (main, sub), running while someone
needs it.

A networked camera is *registered* here. A stream of it runs while it has users (live viewers, analysis), a
recording (main stream), or a hold (a snapshot keeps it ``linger_s``), and stops once none is left. A camera that
nobody uses is *checked* every ``check_interval_s`` (its main session runs until it is known online or failing,
then stops), so its status stays known without streaming it. The camera's status is its main stream's. With
``on_demand`` off every registered camera streams all the time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sharpeyes.core.cameras import PROFILES, Camera, CameraState, CameraStatus, Profile
from sharpeyes.core.clock import utcnow
from sharpeyes.core.errors import UnavailableError
from sharpeyes.core.settings import SnapshotSettings, StreamSettings
from sharpeyes.media.recorder import Recorder, RecorderConfig, RecordingSink
from sharpeyes.media.session import StreamSession
from sharpeyes.media.snapshots import Snapshot, SnapshotTaker
from sharpeyes.protocols.sources import SourceOpener, SourceOptions, open_source

StatusListener = Callable[[str, CameraState], None]
Prober = Callable[[str], CameraState | None]
"""What is known of a source without streaming it (a GB/T 28181 channel: whether its device is online), or None:
check it by streaming."""

PROBE_INTERVAL_S = 10.0
"""How often an idle camera whose status can be probed is probed (cheap: no stream)."""

MAX_CHECKS = 16
"""Idle cameras checked at the same time."""

NOT_CHECKED = "not streaming; not checked yet / 未检查"
IDLE_REASON = "not streaming: nobody is watching or recording; online when last checked / 空闲"


Key = tuple[str, Profile]


@dataclass(slots=True)
class _Entry:
    """One stream of a registered camera; changed only under the manager's lock."""

    camera: Camera
    profile: Profile
    url: str
    options: SourceOptions
    registered_at: datetime
    session: StreamSession | None = None
    users: int = 0
    hold_until_s: float = 0.0
    """Monotonic time before which the session is not stopped for being unused."""
    checked_s: float | None = None
    """Monotonic time the camera's status was last known (online or failing)."""
    told: CameraStatus | None = None
    """The status the listeners heard last: a restart that finds the same status tells them nothing."""
    final: CameraState | None = None
    """The state of the last session when it was stopped for being unused, or what the last probe found."""
    probed_s: float | None = None
    """Monotonic time of the last probe (sources that can be probed are not checked by streaming)."""


class StreamManager:
    def __init__(
        self,
        streams: StreamSettings,
        snapshots: SnapshotSettings,
        opener: SourceOpener = open_source,
        prober: Prober | None = None,
    ) -> None:
        self._streams = streams
        self._snapshots = snapshots
        self._opener = opener
        self._prober = prober
        self._lock = threading.Lock()
        self._entries: dict[Key, _Entry] = {}
        self._stopping: list[StreamSession] = []
        self._closed = False
        self._listeners: list[StatusListener] = []
        self._recorders: dict[str, Recorder] = {}
        self._recording: dict[str, tuple[RecorderConfig, RecordingSink]] = {}

    def add_status_listener(self, listener: StatusListener) -> None:
        """``listener(camera_id, state)`` is called on the session's thread at every status change."""
        self._listeners.append(listener)

    # -- the registry ----------------------------------------------------------------------------------------

    def register(self, camera: Camera) -> None:
        """Know ``camera`` (which must have a source). A new or changed main stream is checked at once."""
        if camera.source_url is None:
            raise ValueError(f"camera {camera.id} has no source to stream from")
        options = SourceOptions(
            rtsp_transport=camera.rtsp_transport,
            open_timeout_s=self._streams.open_timeout_s,
            read_timeout_s=self._streams.read_timeout_s,
        )
        with self._lock:
            if self._closed:
                return
            for profile in PROFILES:
                url = camera.sub_source_url if profile == "sub" else camera.source_url
                key = (camera.id, profile)
                entry = self._entries.get(key)
                if url is None:  # no sub-stream (any more): the main stream serves its users
                    if entry is not None:
                        self._drop(key)
                    continue
                if entry is not None and (entry.url, entry.options) == (url, options):
                    entry.camera = camera
                    continue
                if entry is None:
                    entry = _Entry(camera, profile, url, options, utcnow())
                    self._entries[key] = entry
                else:
                    entry.camera, entry.url, entry.options, entry.checked_s, entry.final = (
                        camera,
                        url,
                        options,
                        None,
                        None,
                    )
                    if entry.session is not None:
                        self._retire(entry.session)
                        entry.session = None
                probed_instead = self._prober is not None and self._prober(url) is not None
                if (profile == "main" and not probed_instead) or entry.users > 0:
                    self._run(entry)  # a probed camera is looked at by the next tend instead

    def forget(self, camera_id: str) -> None:
        """The camera is gone or no longer networked: stop everything of it."""
        self.stop_recording(camera_id)
        with self._lock:
            for profile in PROFILES:
                self._drop((camera_id, profile))

    def camera_ids(self) -> set[str]:
        """The registered cameras."""
        with self._lock:
            return {camera_id for camera_id, _profile in self._entries}

    def streaming_ids(self) -> set[str]:
        """The cameras with a stream running now."""
        with self._lock:
            return {camera_id for (camera_id, _p), entry in self._entries.items() if entry.session is not None}

    # -- users -----------------------------------------------------------------------------------------------

    def acquire(self, camera_id: str, profile: Profile = "main") -> StreamSession:
        """Use the camera's stream until ``release``; starts it when needed."""
        with self._lock:
            entry = self._entry(camera_id, profile)
            entry.users += 1
            return self._run(entry)

    def release(self, session: StreamSession) -> None:
        """The user of ``session`` (from ``acquire``) has gone."""
        with self._lock:
            entry = self._entries.get((session.camera_id, session.profile))
            if entry is not None and entry.users > 0:
                entry.users -= 1
                if entry.users == 0:
                    entry.hold_until_s = max(entry.hold_until_s, time.monotonic() + self._streams.linger_s)

    def snapshot(self, camera_id: str, profile: Profile = "main") -> Snapshot:
        """The current picture; an idle camera is started (and kept ``linger_s``) and given time to send one."""
        with self._lock:
            entry = self._entry(camera_id, profile)
            entry.hold_until_s = max(entry.hold_until_s, time.monotonic() + self._streams.linger_s)
            session = self._run(entry)
        deadline = time.monotonic() + self._streams.open_timeout_s
        while session.relay.gop() is None and time.monotonic() < deadline:
            if session.state.status not in (CameraStatus.CONNECTING, CameraStatus.ONLINE):
                break
            time.sleep(0.05)
        return session.snapshot()

    def get(self, camera_id: str) -> StreamSession | None:
        """The camera's running main session, if any (not started by asking)."""
        with self._lock:
            entry = self._entries.get((camera_id, "main"))
            return entry.session if entry is not None else None

    # -- recording -------------------------------------------------------------------------------------------

    def record(self, camera_id: str, config: RecorderConfig, sink: RecordingSink) -> bool:
        """Record the camera (kept across source changes and reconnects); False when it is not registered."""
        with self._lock:
            entry = self._entries.get((camera_id, "main"))
            if entry is None or self._closed:
                return False
            self._recording[camera_id] = (config, sink)
            recorder = self._recorders.get(camera_id)
            if recorder is None or not recorder.alive:
                self._start_recorder(entry)
            return True

    def stop_recording(self, camera_id: str) -> None:
        with self._lock:
            self._recording.pop(camera_id, None)
            recorder = self._recorders.pop(camera_id, None)
            entry = self._entries.get((camera_id, "main"))
            if entry is not None:
                entry.hold_until_s = max(entry.hold_until_s, time.monotonic() + self._streams.linger_s)
        if recorder is not None:
            recorder.stop()

    def recorder(self, camera_id: str) -> Recorder | None:
        with self._lock:
            return self._recorders.get(camera_id)

    def recording_ids(self) -> set[str]:
        with self._lock:
            return set(self._recording)

    def _start_recorder(self, entry: _Entry) -> None:
        """Under the lock: (re)attach a recorder to the camera's current session."""
        session = entry.session
        if session is None:
            self._run(entry)  # starts the session, which attaches the recorder
            return
        camera_id = entry.camera.id
        old = self._recorders.pop(camera_id, None)
        if old is not None:
            old.stop()
        config, sink = self._recording[camera_id]
        recorder = Recorder(camera_id, session.relay, config, sink, session.outage_reason)
        self._recorders[camera_id] = recorder
        recorder.start()

    # -- status ----------------------------------------------------------------------------------------------

    def state(self, camera_id: str) -> CameraState | None:
        """What is known of the camera now; None when it is not registered."""
        with self._lock:
            entry = self._entries.get((camera_id, "main"))
            if entry is None:
                return None
            session, final, registered_at, url = entry.session, entry.final, entry.registered_at, entry.url
        if session is not None:
            return session.state
        probed = self._prober(url) if self._prober is not None else None
        if probed is not None:  # known now, without streaming
            since = final.since if final is not None and final.status is probed.status else probed.since
            if probed.status is CameraStatus.ONLINE:
                return CameraState(CameraStatus.IDLE, f"not streaming; {probed.reason}", since)
            return CameraState(probed.status, probed.reason, since)
        if final is None:
            return CameraState(CameraStatus.IDLE, NOT_CHECKED, registered_at)
        if final.status is CameraStatus.ONLINE:
            return CameraState(CameraStatus.IDLE, IDLE_REASON, final.since, final.last_frame_at)
        return final

    def online_camera_ids(self) -> set[str]:
        """Cameras sending video now, or idle ones that did when last checked (for networking figures)."""
        with self._lock:
            entries = [entry for (_camera_id, profile), entry in self._entries.items() if profile == "main"]
        online = set()
        for entry in entries:
            session, final = entry.session, entry.final
            state = session.state if session is not None else None
            if state is None or state.status is CameraStatus.CONNECTING:  # a restart: what was known holds
                state = final
            if state is not None and state.status is CameraStatus.ONLINE:
                online.add(entry.camera.id)
        return online

    def tend(self, now_s: float | None = None) -> None:
        """Stop the sessions nobody needs any more and check the idle cameras that are due (call every second or
        two). ``now_s``: the monotonic time to judge by (default: now)."""
        if not self._streams.on_demand:
            return
        now_s = time.monotonic() if now_s is None else now_s
        with self._lock:
            if self._closed:
                return
            checking = 0
            for (camera_id, profile), entry in self._entries.items():
                session = entry.session
                if session is None:
                    continue
                recorded = profile == "main" and camera_id in self._recording
                if session.state.status is not CameraStatus.CONNECTING:
                    entry.checked_s = now_s
                elif entry.users == 0 and not recorded:
                    checking += 1
                    continue
                if entry.users == 0 and not recorded and now_s >= entry.hold_until_s:
                    entry.final = session.state
                    entry.session = None
                    self._retire(session, "nobody needs the stream now")
            idle = [
                entry
                for (_camera_id, profile), entry in self._entries.items()
                if profile == "main" and entry.session is None
            ]
            changed = self._probe(idle, now_s)
            due = [
                entry
                for entry in idle
                if entry.checked_s is None or now_s - entry.checked_s >= self._streams.check_interval_s
            ]
            for entry in sorted(due, key=lambda e: e.checked_s or 0.0)[: max(0, MAX_CHECKS - checking)]:
                self._run(entry)
        for camera_id, state in changed:
            for listener in self._listeners:
                listener(camera_id, state)

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Stop every session and wait (bounded) for their threads to close their connections."""
        with self._lock:
            self._closed = True
            recorders = list(self._recorders.values())
            self._recorders.clear()
            self._recording.clear()
            for entry in self._entries.values():
                if entry.session is not None:
                    self._retire(entry.session)
                    entry.session = None
            retired, self._stopping = self._stopping, []
        for recorder in recorders:
            recorder.stop()
        deadline = time.monotonic() + timeout_s
        for recorder in recorders:  # close the segments being written before the sessions go
            recorder.join(max(0.0, deadline - time.monotonic()))
        for session in retired:
            session.join(max(0.0, deadline - time.monotonic()))

    # -- inside the lock -------------------------------------------------------------------------------------

    def _entry(self, camera_id: str, profile: Profile) -> _Entry:
        """The entry serving ``profile``: the main stream stands in for a missing sub-stream."""
        entry = self._entries.get((camera_id, profile)) or self._entries.get((camera_id, "main"))
        if entry is None or self._closed:
            raise UnavailableError("the camera is not networked: it has no stream / 未联网", code="no_session")
        return entry

    def _probe(self, idle: list[_Entry], now_s: float) -> list[tuple[str, CameraState]]:
        """Probe the idle cameras that can be and are due (each counts as checked); the status changes to tell."""
        changed: list[tuple[str, CameraState]] = []
        if self._prober is None:
            return changed
        for entry in idle:
            if entry.probed_s is not None and now_s - entry.probed_s < PROBE_INTERVAL_S:
                continue
            state = self._prober(entry.url)
            if state is None:
                continue
            entry.probed_s = entry.checked_s = now_s
            if entry.final is None or entry.final.status is not state.status:
                entry.final = state  # a status that holds keeps the moment it began
            if entry.told is not state.status:
                entry.told = state.status
                changed.append((entry.camera.id, state))
        return changed

    def _run(self, entry: _Entry) -> StreamSession:
        """The entry's session, started when it has none (and its recorder attached to it)."""
        if entry.session is not None:
            return entry.session
        session = StreamSession(
            entry.camera.id,
            entry.url,
            entry.options,
            self._streams,
            SnapshotTaker(self._snapshots.jpeg_quality),
            self._opener,
            (self._status,),
            entry.profile,
        )
        entry.session = session
        session.start()  # inside the lock: nobody may join a session that has not started
        if entry.profile == "main" and entry.camera.id in self._recording:
            self._start_recorder(entry)
        return session

    def _drop(self, key: Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None and entry.session is not None:
            self._retire(entry.session)

    def _retire(self, session: StreamSession, idle: str | None = None) -> None:
        """Stop ``session``; ``idle`` says why when that is routine (no one needs it), not a fault."""
        if idle is not None:
            session.stop(idle, routine=True)
        else:
            session.stop()
        self._stopping = [s for s in self._stopping if not s.join(0)]
        self._stopping.append(session)

    # -- on a session's thread -------------------------------------------------------------------------------

    def _status(self, session: StreamSession, state: CameraState) -> None:
        """Tell the listeners what changed: not a retired session's last words, nor a restart's "connecting"."""
        if session.profile != "main":
            return  # a camera's status is its main stream's
        with self._lock:
            entry = self._entries.get((session.camera_id, "main"))
            if entry is None or entry.session is not session or entry.told is state.status:
                return
            if state.status is CameraStatus.CONNECTING and entry.told is not None:
                return
            entry.told = state.status
        for listener in self._listeners:
            listener(session.camera_id, state)
