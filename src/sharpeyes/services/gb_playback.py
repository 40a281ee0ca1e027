"""Playback of the recordings a GB/T 28181 device keeps itself (an NVR's disk, a camera's card): the device is
asked for the range (INVITE ``s=Playback``), sends it in real time as it would live video, and the viewer gets an
HLS playlist over it that grows until the range ends; pause, resume, seek and speed go to the device as MANSRTSP.
Each playback is written to the audit log; its id is random, so its segment addresses cannot be guessed."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.errors import InvalidInputError, NotFoundError, SourceError, UnavailableError
from sharpeyes.core.masks import MaskPolygon
from sharpeyes.core.settings import Gb28181Settings, LiveSettings, StreamSettings
from sharpeyes.media.hls_live import LiveHls
from sharpeyes.media.overlay import FramePainter
from sharpeyes.media.relay import PacketRelay
from sharpeyes.media.replay import Replay
from sharpeyes.protocols.gb28181.source import GbSource
from sharpeyes.protocols.sources import SourceOpener, SourceOptions, gb_channel, gb_url
from sharpeyes.services.audit_log import AuditTrail
from sharpeyes.services.camera_rules import require_camera

logger = logging.getLogger(__name__)

MOST_PLAYBACKS = 64
"""Device playbacks at once (each holds a device's media port and a thread)."""
PLAYBACK_WINDOW = 10_000
"""Segments a playback playlist keeps: the whole range for a viewer who seeks back."""
MOST_RANGE_S = 24 * 3600


@dataclass(slots=True)
class _Playback:
    key: tuple[str, str, int, int, tuple[MaskPolygon, ...]]
    replay: Replay
    hls: LiveHls
    asked_s: float


class DevicePlaybackService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        opener: SourceOpener,
        gb: Gb28181Settings,
        streams: StreamSettings,
        live: LiveSettings,
        audit: AuditTrail,
    ) -> None:
        self._sessions = sessions
        self._audit = audit
        self._opener = opener
        self._gb = gb
        self._streams = streams
        self._live = live
        self._lock = threading.Lock()
        self._playbacks: dict[str, _Playback] = {}

    def start(
        self, username: str, camera_id: str, start: datetime, end: datetime, masks: tuple[MaskPolygon, ...] = ()
    ) -> str:
        """Ask the camera's device to play ``start``–``end`` (``masks`` painted in); the playback's id once video
        is arriving (the same one again for the same user, camera, range and masks while it runs)."""
        begin, finish = int(start.timestamp()), int(end.timestamp())
        if not 0 < finish - begin <= MOST_RANGE_S:
            raise InvalidInputError("end: after start, at most a day later", code="bad_range", field="end")
        key = (username, camera_id, begin, finish, masks)
        with self._lock:
            for playback_id, playback in self._playbacks.items():
                if playback.key == key and (playback.replay.running or not playback.replay.failure):
                    playback.asked_s = time.monotonic()
                    return playback_id
            if len(self._playbacks) >= MOST_PLAYBACKS:
                raise UnavailableError("too many device playbacks at once; try again shortly", code="busy")
        with self._sessions() as db:
            camera = require_camera(db, camera_id)
        ids = gb_channel(camera.source_url or "")
        if ids is None:
            raise InvalidInputError(
                f"camera {camera_id} is not a GB/T 28181 channel: it has no device-side recordings",
                code="not_gb",
                field="source",
            )
        options = SourceOptions(camera.rtsp_transport, self._streams.open_timeout_s, self._streams.read_timeout_s)
        source = self._opener(gb_url(*ids, (begin, finish)), options)
        relay = PacketRelay(
            gop_packets_max=self._streams.gop_packets_max, consumer_queue_packets=self._streams.consumer_queue_packets
        )
        playback_id = secrets.token_urlsafe(12)
        replay = Replay(source, relay, f"device-playback-{camera_id}")
        painter = FramePainter(masks) if masks else None
        hls = LiveHls(relay, segment_s=self._live.hls_segment_s, window=PLAYBACK_WINDOW, painter=painter)
        hls.start()
        replay.start()
        audited = {"camera_id": camera_id, "start": start.isoformat(), "end": end.isoformat(), "source": "device",
                   "masked": bool(masks)}  # fmt: skip
        if not replay.opened.wait(self._gb.invite_timeout_s + self._gb.media_timeout_s + 10) or replay.failure:
            replay.stop()
            hls.stop()
            failure = replay.failure or SourceError("the device's recording did not start")
            self._audit.write(username, "playback", "failed", {**audited, "error": failure.code})
            raise UnavailableError(f"{failure.message} / 设备录像回放失败", code=failure.code)
        self._audit.write(username, "playback", "ok", audited)
        with self._lock:
            self._playbacks[playback_id] = _Playback(key, replay, hls, time.monotonic())
        return playback_id

    def playlist(self, camera_id: str, playback_id: str, query: str = "") -> str:
        """The playback's playlist (waits for its first segments); it ends once the device has sent the range."""
        playback = self._get(camera_id, playback_id)
        deadline = time.monotonic() + self._streams.open_timeout_s + 10
        while not playback.hls.wait_ready(0.25, segments=1) and playback.hls.running and time.monotonic() < deadline:
            pass
        return playback.hls.playlist(query, prefix=f"device-playback/{playback_id}", event=True)

    def init(self, camera_id: str, playback_id: str, generation: int) -> bytes:
        return self._get(camera_id, playback_id).hls.init(generation)

    def segment(self, camera_id: str, playback_id: str, sequence: int) -> bytes:
        return self._get(camera_id, playback_id).hls.segment(sequence)

    def control(self, username: str, camera_id: str, playback_id: str, action: str, value: float | None) -> None:
        """``pause``, ``resume``, ``seek`` (``value``: seconds from the range's start) or ``scale`` (``value``:
        speed, 0.25–8)."""
        playback = self._get(camera_id, playback_id)
        source = playback.replay.source
        if not isinstance(source, GbSource):
            raise InvalidInputError("this playback cannot be steered", code="not_gb")
        if action == "pause":
            command, header = "PAUSE", "PauseTime: now"
        elif action == "resume":
            command, header = "PLAY", "Range: npt=now-"
        elif action == "seek" and value is not None and value >= 0:
            command, header = "PLAY", f"Range: npt={value:g}-"
        elif action == "scale" and value is not None and 0.25 <= value <= 8:
            command, header = "PLAY", f"Scale: {value:g}"
        else:
            raise InvalidInputError(
                "action: pause, resume, seek (value: seconds ≥ 0) or scale (value: 0.25–8)", code="bad_control"
            )
        audited = {"camera_id": camera_id, "action": action, "value": value}
        try:
            source.control(command, header)
        except SourceError as err:
            self._audit.write(username, "playback.control", "failed", {**audited, "error": err.code})
            raise UnavailableError(err.message, code=err.code) from err
        self._audit.write(username, "playback.control", "ok", audited)

    def tend(self, now_s: float | None = None) -> int:
        """End the playbacks nobody asked for in ``live.hls_idle_s`` (their devices are sent BYE); how many."""
        now_s = time.monotonic() if now_s is None else now_s
        with self._lock:
            idle = {key: p for key, p in self._playbacks.items() if now_s - p.asked_s >= self._live.hls_idle_s}
            for key in idle:
                del self._playbacks[key]
        for playback in idle.values():
            playback.replay.stop()
            playback.hls.stop()
        return len(idle)

    def _get(self, camera_id: str, playback_id: str) -> _Playback:
        with self._lock:
            playback = self._playbacks.get(playback_id)
            if playback is None or playback.key[1] != camera_id:
                raise NotFoundError("no such device playback (it ended, or was never started)", code="gone")
            playback.asked_s = time.monotonic()
            return playback
