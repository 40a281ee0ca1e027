"""Video quality diagnosis over the networked cameras: on demand, and on a schedule with the last result kept."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from PIL import Image

from sharpeyes.analytics.quality import QualityCheck, QualityLimits, diagnose
from sharpeyes.core.cameras import CameraStatus
from sharpeyes.core.clock import utcnow
from sharpeyes.core.errors import NotFoundError, UnavailableError
from sharpeyes.core.events import Event, EventType
from sharpeyes.core.settings import QualitySettings
from sharpeyes.media.manager import StreamManager
from sharpeyes.media.session import StreamSession
from sharpeyes.services.cameras import CameraService
from sharpeyes.services.events import EventService

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QualityResult:
    at: datetime
    checks: list[QualityCheck]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


class QualityService:
    def __init__(
        self,
        cameras: CameraService,
        streams: StreamManager | None,
        settings: QualitySettings,
        events: EventService,
        *,
        startup_s: float = 10.0,
    ) -> None:
        """``startup_s``: how long an idle camera is given to send its first picture."""
        self._cameras = cameras
        self._streams = streams
        self._settings = settings
        self._events = events
        self._limits = QualityLimits(
            min_contrast=settings.min_contrast,
            min_motion=settings.min_motion,
            min_sharpness=settings.min_sharpness,
            max_covered=settings.max_covered,
            max_cast=settings.max_cast,
            min_luma=settings.min_luma,
            max_luma=settings.max_luma,
        )
        self._startup_s = startup_s
        self._lock = threading.Lock()
        self._last: dict[str, QualityResult] = {}

    def diagnose(self, camera_id: str) -> QualityResult:
        """Look at the camera now (a few frames, ``frame_gap_s`` apart) and keep the result."""
        self._cameras.get(camera_id)  # 404 for unknown cameras
        if self._streams is None:
            raise UnavailableError("the camera is not networked: it has no stream / 未联网", code="no_session")
        session = self._streams.acquire(camera_id)  # an idle camera is started for the look
        try:
            pictures = self._pictures(session)
        finally:
            self._streams.release(session)
        result = QualityResult(utcnow(), diagnose(pictures, self._limits))
        with self._lock:
            previous = self._last.get(camera_id)
            self._last[camera_id] = result
        scores = {check.name: round(check.score, 4) for check in result.checks}
        failed = [check.name for check in result.checks if not check.passed]
        if failed and (previous is None or previous.passed):
            logger.warning("camera %s fails quality checks: %s", camera_id, ", ".join(failed))
            detail = f"video quality fault / 视频质量异常: {', '.join(failed)}"
            self._events.record(
                Event(EventType.QUALITY_FAILED, result.at, detail, camera_id, {"failed": failed, "scores": scores})
            )
        elif not failed and previous is not None and not previous.passed:
            detail = "video quality passes again / 视频质量恢复"
            self._events.record(Event(EventType.QUALITY_RESTORED, result.at, detail, camera_id, {"scores": scores}))
        return result

    def _pictures(self, session: StreamSession) -> list[Image.Image]:
        deadline = time.monotonic() + self._startup_s
        while session.relay.gop() is None and time.monotonic() < deadline:
            if session.state.status not in (CameraStatus.CONNECTING, CameraStatus.ONLINE):
                break
            time.sleep(0.1)
        if session.state.status is not CameraStatus.ONLINE:
            reason = session.state.reason
            raise UnavailableError(
                f"quality diagnosis needs the camera online: {reason} / 摄像机不在线", code="not_online"
            )
        pictures: list[Image.Image] = []
        for index in range(self._settings.frames):
            if index:
                time.sleep(self._settings.frame_gap_s)
            pictures.append(session.picture())
        return pictures

    def last(self, camera_id: str) -> QualityResult | None:
        with self._lock:
            return self._last.get(camera_id)

    def diagnose_all(self) -> int:
        """One scheduled run over every networked camera (idle ones are started for it), a few cameras at a time;
        returns how many were diagnosed. Cameras that are not online are skipped: their health says why."""
        if self._streams is None:
            return 0

        def one(camera_id: str) -> bool:
            try:
                self.diagnose(camera_id)
            except (UnavailableError, NotFoundError):
                return False
            return True

        with ThreadPoolExecutor(self._settings.workers, thread_name_prefix="quality") as pool:
            return sum(pool.map(one, sorted(self._streams.camera_ids())))
