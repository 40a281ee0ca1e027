"""Live view: a low-latency fMP4 feed per viewer, from the camera's running stream session."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.errors import NotFoundError, UnavailableError
from sharpeyes.media.live import LiveFeed, LiveItem, LiveStart
from sharpeyes.media.manager import StreamManager
from sharpeyes.store.cameras import CameraRepository

__all__ = ["LiveItem", "LiveService", "LiveStart"]


class LiveService:
    def __init__(self, sessions: sessionmaker[Session], streams: StreamManager | None) -> None:
        self._sessions = sessions
        self._streams = streams

    def watch(self, camera_id: str, deliver: Callable[[LiveItem | None], None]) -> LiveFeed:
        """Start a feed; ``deliver`` gets a ``LiveStart``, then fragments, and None when the feed ends."""
        with self._sessions() as db:
            camera = CameraRepository(db).get(camera_id)
        if camera is None:
            raise NotFoundError(f"no camera with id {camera_id!r} / 找不到该摄像机", code="camera_not_found")
        session = self._streams.get(camera_id) if self._streams is not None else None
        if session is None:
            raise UnavailableError("the camera is not networked: it has no stream / 未联网", code="no_session")
        feed = LiveFeed(session.relay, deliver)
        feed.start()
        return feed
