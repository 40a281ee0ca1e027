"""Live view: a low-latency fMP4 feed per viewer, and a live HLS playlist per camera shared by its viewers; both
start the camera's stream on demand and let it rest when they end. With privacy masks the feed is re-encoded with
them painted in, and masked HLS viewers share a playlist of their own."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.cameras import CameraStatus, Profile
from sharpeyes.core.errors import NotFoundError, UnavailableError
from sharpeyes.core.masks import MaskPolygon
from sharpeyes.core.settings import LiveSettings
from sharpeyes.media.hls_live import LiveHls
from sharpeyes.media.live import LiveFeed, LiveItem, LiveStart
from sharpeyes.media.manager import StreamManager
from sharpeyes.media.overlay import FramePainter
from sharpeyes.media.session import StreamSession
from sharpeyes.services.audit_log import AuditTrail
from sharpeyes.services.camera_rules import require_camera

__all__ = ["LiveItem", "LiveService", "LiveStart"]


_Key = tuple[str, Profile, tuple[MaskPolygon, ...]]
"""A live playlist's camera, profile and the masks painted into it."""


@dataclass(slots=True)
class _Playlist:
    hls: LiveHls
    session: StreamSession
    asked_s: float


class LiveService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        streams: StreamManager | None,
        settings: LiveSettings,
        audit: AuditTrail,
        *,
        ready_wait_s: float = 15.0,
    ) -> None:
        """``ready_wait_s``: how long a first playlist request waits for a camera to give a segment."""
        self._sessions = sessions
        self._streams = streams
        self._settings = settings
        self._audit = audit
        self._ready_wait_s = ready_wait_s
        self._lock = threading.Lock()
        self._playlists: dict[_Key, _Playlist] = {}

    def watch(
        self,
        camera_id: str,
        deliver: Callable[[LiveItem | None], None],
        profile: Profile,
        username: str,
        masks: tuple[MaskPolygon, ...] = (),
    ) -> LiveFeed:
        """Start a feed (``masks`` painted in); ``deliver`` gets a ``LiveStart``, then fragments, and None when the
        feed ends. Its start and end (with how long it was watched) are audited."""
        streams = self._networked(camera_id)
        session = streams.acquire(camera_id, profile)  # the stream runs while someone watches it
        started = time.monotonic()
        view = {"camera_id": camera_id, "profile": profile, "via": "ws", "masked": bool(masks)}
        self._audit.write(username, "live.view", "ok", view)

        def deliver_then_release(item: LiveItem | None) -> None:
            if item is None:
                streams.release(session)
                watched = {"camera_id": camera_id, "seconds": round(time.monotonic() - started, 1)}
                self._audit.write(username, "live.view.end", "ok", watched)
            deliver(item)

        feed = LiveFeed(session.relay, deliver_then_release, FramePainter(masks) if masks else None)
        feed.start()
        return feed

    # -- live HLS --------------------------------------------------------------------------------------------

    def hls_playlist(
        self,
        camera_id: str,
        username: str,
        query: str = "",
        profile: Profile = "main",
        masks: tuple[MaskPolygon, ...] = (),
    ) -> str:
        """The camera's live playlist (started on the first request; waits for its first segments), with ``masks``
        painted in. A viewer's watching is audited once, not at every refresh."""
        hls = self._playlist((camera_id, profile, masks))
        self._audit.viewed(username, "live.view", camera_id, {"profile": profile, "via": "hls", "masked": bool(masks)})
        deadline = time.monotonic() + self._ready_wait_s
        while not hls.wait_ready(0.25):
            state = self._streams.state(camera_id) if self._streams is not None else None
            failing = state is None or state.status in (CameraStatus.OFFLINE, CameraStatus.ERROR)
            if failing or time.monotonic() >= deadline:
                reason = state.reason if state is not None else "no stream"
                raise UnavailableError(f"no live video from the camera: {reason} / 无实时视频", code="not_online")
        return hls.playlist(query)

    def hls_init(
        self, camera_id: str, generation: int, profile: Profile = "main", masks: tuple[MaskPolygon, ...] = ()
    ) -> bytes:
        return self._running((camera_id, profile, masks)).init(generation)

    def hls_segment(
        self, camera_id: str, sequence: int, profile: Profile = "main", masks: tuple[MaskPolygon, ...] = ()
    ) -> bytes:
        return self._running((camera_id, profile, masks)).segment(sequence)

    def tend(self, now_s: float | None = None) -> int:
        """Stop the playlists nobody has asked for in ``hls_idle_s`` (their streams may then rest); how many.
        ``now_s``: the monotonic time to judge by (default: now)."""
        now_s = time.monotonic() if now_s is None else now_s
        with self._lock:
            idle = {
                key: playlist
                for key, playlist in self._playlists.items()
                if now_s - playlist.asked_s >= self._settings.hls_idle_s or not playlist.hls.running
            }
            for key in idle:
                del self._playlists[key]
        for playlist in idle.values():
            playlist.hls.stop()
            if self._streams is not None:
                self._streams.release(playlist.session)
        return len(idle)

    def _playlist(self, key: _Key) -> LiveHls:
        camera_id, profile, masks = key
        streams = self._networked(camera_id)
        with self._lock:
            playlist = self._playlists.get(key)
            if playlist is not None and playlist.hls.running:
                playlist.asked_s = time.monotonic()
                return playlist.hls
            if playlist is not None:  # its stream was restarted (a new source): follow the new one
                streams.release(playlist.session)
            session = streams.acquire(camera_id, profile)
            painter = FramePainter(masks) if masks else None
            settings = self._settings
            hls = LiveHls(session.relay, segment_s=settings.hls_segment_s, window=settings.hls_window, painter=painter)
            self._playlists[key] = _Playlist(hls, session, time.monotonic())
            hls.start()
            return hls

    def _running(self, key: _Key) -> LiveHls:
        with self._lock:
            playlist = self._playlists.get(key)
            if playlist is None:
                raise NotFoundError("no live playlist runs for this camera: ask for live.m3u8 first", code="gone")
            playlist.asked_s = time.monotonic()
            return playlist.hls

    def _networked(self, camera_id: str) -> StreamManager:
        with self._sessions() as db:
            camera = require_camera(db, camera_id)
        if self._streams is None or camera.source_url is None:
            raise UnavailableError("the camera is not networked: it has no stream / 未联网", code="no_session")
        return self._streams
