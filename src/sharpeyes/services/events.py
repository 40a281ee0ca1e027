"""The events timeline: recorded by the other services, read by people and machines."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.clock import check_range
from sharpeyes.core.errors import NotFoundError
from sharpeyes.core.events import Event, EventType
from sharpeyes.store.events import EventRepository

logger = logging.getLogger(__name__)


EventListener = Callable[[Event], None]


class EventService:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._lock = threading.Lock()
        self._listeners: list[EventListener] = []

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """``listener(event)`` hears every event once it is stored (on the recording thread); returns the
        unsubscribe function."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def record(self, event: Event) -> int:
        with self._sessions.begin() as db:
            event_id = EventRepository(db).add(event)
        stored = replace(event, id=event_id)
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(stored)
            except Exception:  # one listener's failure must not lose the event for the others
                logger.exception("event listener failed")
        logger.info(
            "event %s%s: %s", event.type.value, f" on camera {event.camera_id}" if event.camera_id else "", event.detail
        )
        return event_id

    def get(self, event_id: int) -> Event:
        with self._sessions() as db:
            event = EventRepository(db).get(event_id)
        if event is None:
            raise NotFoundError(f"no event {event_id}", code="event_not_found")
        return event

    def find(
        self,
        start: datetime,
        end: datetime,
        *,
        camera_id: str | None = None,
        types: list[EventType] | None = None,
        limit: int = 1000,
    ) -> list[Event]:
        check_range(start, end)
        with self._sessions() as db:
            return EventRepository(db).find(start=start, end=end, camera_id=camera_id, types=types, limit=limit)
