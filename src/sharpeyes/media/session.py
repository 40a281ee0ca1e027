"""One upstream connection per camera: read packets, fan them out, reconnect with capped backoff.

PyAV reads block, so each session owns one thread; everything it shares is behind a lock or immutable.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta

from PIL import Image

from sharpeyes.core.cameras import ONLINE_REASON, CameraState, CameraStatus, Profile
from sharpeyes.core.clock import utcnow
from sharpeyes.core.errors import SourceError
from sharpeyes.core.settings import StreamSettings
from sharpeyes.core.urls import redact_text
from sharpeyes.media.relay import PacketRelay
from sharpeyes.media.snapshots import Snapshot, SnapshotTaker, latest_picture
from sharpeyes.protocols.sources import SourceOpener, SourceOptions, open_source

logger = logging.getLogger(__name__)

SessionListener = Callable[["StreamSession", CameraState], None]


class StreamSession:
    def __init__(
        self,
        camera_id: str,
        url: str,
        options: SourceOptions,
        settings: StreamSettings,
        snapshots: SnapshotTaker,
        opener: SourceOpener = open_source,
        listeners: Sequence[SessionListener] = (),
        profile: Profile = "main",
    ) -> None:
        self.camera_id = camera_id
        self.profile: Profile = profile
        self._listeners = tuple(listeners)
        self.url = url
        self.options = options
        self.relay = PacketRelay(
            gop_packets_max=settings.gop_packets_max, consumer_queue_packets=settings.consumer_queue_packets
        )
        self._settings = settings
        self._snapshots = snapshots
        self._opener = opener
        self._log = logging.LoggerAdapter(logger, {"camera_id": camera_id})
        self._stop = threading.Event()
        self._stop_why = "camera removed or platform stopping"
        self._stop_routine = False
        self._lock = threading.Lock()
        self._state = CameraState(CameraStatus.CONNECTING, "connecting to the camera", utcnow())
        self._last_packet_s: float | None = None
        self._online_this_attempt = False
        self._online_s = 0.0
        self._last_failure = ""
        self._last_failure_s = 0.0
        self._thread = threading.Thread(target=self._run, name=f"stream-{camera_id}-{profile}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, why: str = "camera removed or platform stopping", *, routine: bool = False) -> None:
        """Ask the session to end; it closes its connection within one read timeout. ``routine``: an expected stop
        (nobody needs the stream), logged as information rather than as a warning."""
        self._stop_why, self._stop_routine = why, routine
        self._stop.set()
        self.relay.close()

    def join(self, timeout_s: float) -> bool:
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def state(self) -> CameraState:
        with self._lock:
            state, last = self._state, self._last_packet_s
        if last is None:
            return state
        age = timedelta(seconds=max(0.0, time.monotonic() - last))
        return CameraState(state.status, state.reason, state.since, utcnow() - age)

    def snapshot(self) -> Snapshot:
        return self._snapshots.take(self.relay.gop())

    def picture(self) -> Image.Image:
        """The newest frame, decoded (for analysis; viewers use ``snapshot``)."""
        return latest_picture(self.relay.gop())

    def _run(self) -> None:
        self._notify(self.state)
        delay_s = self._settings.reconnect_initial_s
        while not self._stop.is_set():
            failure: SourceError | None = None
            try:
                self._stream_once()
            except SourceError as err:
                failure = err
            except Exception as err:  # a bug must not end the camera's session
                self._log.exception("unexpected failure in stream session of camera %s", self.camera_id)
                failure = SourceError(f"internal error: {redact_text(str(err))}")
            if self._online_s >= self._settings.stable_after_s:
                delay_s = self._settings.reconnect_initial_s
            wait_s = self._settings.auth_retry_s if failure is not None and failure.permanent else delay_s
            if failure is not None:
                self._failed(failure, wait_s)
            if self._stop.wait(wait_s):
                break
            delay_s = min(delay_s * 2, self._settings.reconnect_max_s)
        self._set(CameraStatus.OFFLINE, f"stream session stopped ({self._stop_why})", routine=self._stop_routine)
        self._log.info("camera %s: stream session stopped", self.camera_id)

    def _stream_once(self) -> None:
        """Stream until the source fails (raises) or the session is stopped (returns)."""
        self._online_this_attempt = False
        self._online_s = 0.0
        source = self._opener(self.url, self.options)
        try:
            self.relay.set_info(source.open())
            for packet in source.packets():
                self.relay.publish(packet)
                with self._lock:
                    self._last_packet_s = packet.received_s
                if not self._online_this_attempt:
                    self._online_this_attempt = True
                    online_since = packet.received_s
                    self._set(CameraStatus.ONLINE, ONLINE_REASON)
                self._online_s = packet.received_s - online_since
                if self._stop.is_set():
                    break
        finally:
            source.close()

    def outage_reason(self, since_s: float) -> str:
        """Why video is not flowing now, or why it stopped after monotonic ``since_s``; "" when unknown."""
        with self._lock:
            state, last, last_s = self._state, self._last_failure, self._last_failure_s
        if state.status is not CameraStatus.ONLINE:
            return state.reason
        return last if last_s >= since_s else ""

    def _failed(self, err: SourceError, retry_in_s: float) -> None:
        with self._lock:
            self._last_failure, self._last_failure_s = err.message, time.monotonic()
        status = CameraStatus.ERROR if err.permanent else CameraStatus.OFFLINE
        self._set(status, f"{err.message}; retrying in {retry_in_s:g} s")

    def _set(self, status: CameraStatus, reason: str, *, routine: bool = False) -> None:
        with self._lock:
            previous = self._state
            if previous.status != status or previous.reason != reason:
                since = previous.since if previous.status == status else utcnow()
                self._state = CameraState(status, reason, since)
        if previous.status != status:
            level = logging.INFO if status is CameraStatus.ONLINE or routine else logging.WARNING
            self._log.log(level, "camera %s is %s: %s", self.camera_id, status.value, reason)
            self._notify(self.state)

    def _notify(self, state: CameraState) -> None:
        for listener in self._listeners:
            try:
                listener(self, state)
            except Exception:  # a listener's failure must not stop the stream
                self._log.exception("status listener failed for camera %s", self.camera_id)
