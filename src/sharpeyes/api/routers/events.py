"""The events timeline: camera faults, quality faults, storage alerts (analytics adds its own)."""

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response

from sharpeyes.api.schemas.common import PROBLEM_RESPONSES
from sharpeyes.api.schemas.events import EventOut
from sharpeyes.core.clock import utcnow
from sharpeyes.core.events import EventType
from sharpeyes.services.analysis import AnalysisService
from sharpeyes.services.events import EventService


def events_router(events: EventService, analysis: AnalysisService) -> APIRouter:
    router = APIRouter(tags=["events"], responses=PROBLEM_RESPONSES)

    @router.get("/events")
    def list_events(
        camera_id: Annotated[str | None, Query(description="Only this camera's events.")] = None,
        start: Annotated[datetime | None, Query(description="ISO 8601 with offset; default a day ago.")] = None,
        end: Annotated[datetime | None, Query(description="ISO 8601 with offset; default now.")] = None,
        type: Annotated[list[EventType] | None, Query(description="Only these types (repeat to give more).")] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> list[EventOut]:
        """Newest first."""
        end = end or utcnow()
        start = start or end - timedelta(days=1)
        found = events.find(start, end, camera_id=camera_id, types=type, limit=limit)
        return [EventOut.model_validate(event) for event in found]

    @router.get(
        "/events/{event_id}/snapshot.jpg", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}}
    )
    def event_snapshot(event_id: int) -> Response:
        """The picture an analytics event was raised on, its objects boxed (the rule's in red)."""
        return Response(analysis.snapshot(event_id), media_type="image/jpeg")

    return router
