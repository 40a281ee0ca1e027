"""Camera health: status history with reasons, uptime, and flapping raised as one alert instead of many."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.cameras import CameraState, CameraStatus
from sharpeyes.core.clock import utcnow
from sharpeyes.core.events import Event, EventType
from sharpeyes.core.settings import HealthSettings
from sharpeyes.media.manager import StreamManager
from sharpeyes.services.camera_rules import require_camera
from sharpeyes.services.events import EventService
from sharpeyes.store.health import HealthAlert, HealthRepository, StatusEvent

logger = logging.getLogger(__name__)

FLAPPING = "flapping"


@dataclass(frozen=True, slots=True)
class HealthReport:
    status: CameraStatus | None
    reason: str
    since: datetime | None
    flapping: bool
    online_ratio: float
    """Share of the period the camera was online (from its status history)."""
    history: list[StatusEvent]
    alerts: list[HealthAlert]


class HealthService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: HealthSettings,
        streams: StreamManager | None,
        events: EventService,
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._settings = settings
        self._streams = streams
        if streams is not None:
            streams.add_status_listener(self.status_changed)

    def status_changed(self, camera_id: str, state: CameraState) -> None:
        """Record a status change; raise the flapping alert when changes come too fast (once), clear it later."""
        window = timedelta(seconds=self._settings.flap_window_s)
        with self._sessions.begin() as db:
            repository = HealthRepository(db)
            repository.add_event(camera_id, state.since, state.status.value, state.reason)
            db.flush()
            changes = repository.count_events(camera_id, state.since - window)
            alert = repository.open_alert(camera_id, FLAPPING)
            flapping = alert is None and changes >= self._settings.flap_transitions
            if flapping:
                detail = f"{changes} status changes in {window.total_seconds() / 60:g} min; last: {state.reason}"
                repository.raise_alert(camera_id, FLAPPING, state.since, detail)
                logger.warning("camera %s is flapping: %s", camera_id, detail)
        if flapping:
            data = {"changes": changes, "window_s": window.total_seconds(), "last_reason": state.reason}
            self._events.record(Event(EventType.CAMERA_FLAPPING, state.since, detail, camera_id, data))

    def health(self, camera_id: str, hours: float = 24.0) -> HealthReport:
        now = utcnow()
        since = now - timedelta(hours=hours)
        with self._sessions.begin() as db:
            require_camera(db, camera_id)
            repository = HealthRepository(db)
            calm = self._clear_if_calm(repository, camera_id, now)
            history = repository.events(camera_id, since)
            before = repository.last_event_before(camera_id, since)
            alerts = repository.alerts(camera_id, since)
        if calm is not None:
            self._events.record(calm)
        state = self._streams.state(camera_id) if self._streams is not None else None
        return HealthReport(
            status=state.status if state else None,
            reason=state.reason if state else "",
            since=state.since if state else None,
            flapping=any(a.kind == FLAPPING and a.cleared_at is None for a in alerts),
            online_ratio=_online_ratio(before, history, since, now),
            history=history,
            alerts=alerts,
        )

    def clear_calm_alerts(self) -> int:
        """Clear the flapping alerts of cameras that have calmed down; returns how many."""
        now = utcnow()
        calm: list[Event] = []
        with self._sessions.begin() as db:
            repository = HealthRepository(db)
            for camera_id in repository.cameras_with_open_alerts(FLAPPING):
                event = self._clear_if_calm(repository, camera_id, now)
                if event is not None:
                    calm.append(event)
        for event in calm:
            self._events.record(event)
        return len(calm)

    def _clear_if_calm(self, repository: HealthRepository, camera_id: str, now: datetime) -> Event | None:
        """Clear the camera's flapping alert if it has calmed down: the event to record once committed."""
        alert = repository.open_alert(camera_id, FLAPPING)
        window = timedelta(seconds=self._settings.flap_window_s)
        if alert is not None and repository.count_events(camera_id, now - window) < self._settings.flap_transitions:
            repository.clear_alert(alert.id, now)
            logger.info("camera %s has stopped flapping", camera_id)
            detail = f"steady for {window.total_seconds() / 60:g} min after flapping since {alert.raised_at:%H:%M:%S}"
            return Event(EventType.CAMERA_CALM, now, detail, camera_id)
        return None


def _online_ratio(before: StatusEvent | None, history: list[StatusEvent], since: datetime, now: datetime) -> float:
    online_s = 0.0
    status = before.status if before is not None else None
    at = since
    for event in history:
        if status == CameraStatus.ONLINE.value:
            online_s += (event.at - at).total_seconds()
        status, at = event.status, max(event.at, since)
    if status == CameraStatus.ONLINE.value:
        online_s += (now - at).total_seconds()
    total_s = (now - since).total_seconds()
    return min(1.0, online_s / total_s) if total_s > 0 else 0.0
