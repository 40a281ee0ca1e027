"""Video quality diagnosis over the networked cameras: on demand, and on a schedule with the last result kept."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from PIL import Image

from sharpeyes.analytics.quality import QualityCheck, QualityLimits, diagnose
from sharpeyes.core.cameras import CameraStatus
from sharpeyes.core.clock import utcnow
from sharpeyes.core.errors import UnavailableError
from sharpeyes.core.settings import QualitySettings
from sharpeyes.media.manager import StreamManager
from sharpeyes.services.cameras import CameraService

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QualityResult:
    at: datetime
    checks: list[QualityCheck]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


class QualityService:
    def __init__(self, cameras: CameraService, streams: StreamManager | None, settings: QualitySettings) -> None:
        self._cameras = cameras
        self._streams = streams
        self._settings = settings
        self._limits = QualityLimits(
            min_contrast=settings.min_contrast,
            min_motion=settings.min_motion,
            min_sharpness=settings.min_sharpness,
            max_covered=settings.max_covered,
            max_cast=settings.max_cast,
            min_luma=settings.min_luma,
            max_luma=settings.max_luma,
        )
        self._lock = threading.Lock()
        self._last: dict[str, QualityResult] = {}

    def diagnose(self, camera_id: str) -> QualityResult:
        """Look at the camera now (a few frames, ``frame_gap_s`` apart) and keep the result."""
        self._cameras.get(camera_id)  # 404 for unknown cameras
        session = self._streams.get(camera_id) if self._streams is not None else None
        if session is None or session.state.status is not CameraStatus.ONLINE:
            raise UnavailableError("quality diagnosis needs the camera online / 摄像机不在线", code="not_online")
        pictures: list[Image.Image] = []
        for index in range(self._settings.frames):
            if index:
                time.sleep(self._settings.frame_gap_s)
            pictures.append(session.picture())
        result = QualityResult(utcnow(), diagnose(pictures, self._limits))
        with self._lock:
            self._last[camera_id] = result
        if not result.passed:
            failed = ", ".join(check.name for check in result.checks if not check.passed)
            logger.warning("camera %s fails quality checks: %s", camera_id, failed)
        return result

    def last(self, camera_id: str) -> QualityResult | None:
        with self._lock:
            return self._last.get(camera_id)

    def diagnose_all(self) -> int:
        """One scheduled run over every online camera; returns how many were diagnosed."""
        if self._streams is None:
            return 0
        done = 0
        for camera_id in sorted(self._streams.online_camera_ids()):
            try:
                self.diagnose(camera_id)
                done += 1
            except UnavailableError:
                continue  # went offline meanwhile: its health history says so
        return done
