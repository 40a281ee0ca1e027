"""The events timeline: camera faults, quality faults, storage alerts, analytics rules — listed, and streamed over a
WebSocket as they happen.

Stream protocol: send ``{"token": "<access token>", "camera_id"?: "…", "types"?: ["analytics.intrusion", …]}``
first; the server answers ``{"type": "ready"}``, then sends each new event as one JSON message (the same fields as
the list). Errors come as
``{"type": "error", "code", "detail"}`` before the socket closes."""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, WebSocket

from sharpeyes.api.schemas.common import PROBLEM_RESPONSES, LiftMasksQuery, Moment, ReasonQuery, RowIdPath
from sharpeyes.api.schemas.events import EventOut
from sharpeyes.api.sockets import pump, refuse, signed_in_hello
from sharpeyes.core.clock import utcnow
from sharpeyes.core.errors import NotFoundError, SharpEyesError
from sharpeyes.core.events import Event, EventType
from sharpeyes.core.masks import MaskPolygon
from sharpeyes.services.access import AccessService
from sharpeyes.services.accounts import AccountService, User
from sharpeyes.services.analysis import AnalysisService
from sharpeyes.services.events import EventService
from sharpeyes.services.privacy import PrivacyService

STREAM_QUEUE = 1000


def events_router(
    events: EventService,
    analysis: AnalysisService,
    current_user: Callable[..., User],
    access: AccessService,
    privacy: PrivacyService,
) -> APIRouter:
    router = APIRouter(tags=["events"], responses=PROBLEM_RESPONSES)

    @router.get("/events")
    def list_events(
        user: Annotated[User, Depends(current_user)],
        camera_id: Annotated[str | None, Query(description="Only this camera's events.")] = None,
        start: Annotated[Moment | None, Query(description="ISO 8601 with offset; default a day ago.")] = None,
        end: Annotated[Moment | None, Query(description="ISO 8601 with offset; default now.")] = None,
        type: Annotated[list[EventType] | None, Query(description="Only these types (repeat to give more).")] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> list[EventOut]:
        """Newest first; a scoped role sees its cameras' events and the platform's own (storage)."""
        end = end or utcnow()
        start = start or end - timedelta(days=1)
        found = events.find(start, end, camera_id=camera_id, types=type, limit=limit)
        visible = access.visible_ids(user, {event.camera_id for event in found if event.camera_id is not None})
        return [EventOut.model_validate(e) for e in found if e.camera_id is None or e.camera_id in visible]

    @router.get(
        "/events/{event_id}/snapshot.jpg", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}}
    )
    def event_snapshot(
        event_id: RowIdPath,
        user: Annotated[User, Depends(current_user)],
        lift_masks: LiftMasksQuery = False,
        reason: ReasonQuery = None,
    ) -> Response:
        """The picture an analytics event was raised on, its objects boxed (the rule's in red); the camera's
        privacy masks painted over unless lifted."""
        camera_id = events.get(event_id).camera_id
        if camera_id is not None and not access.camera_visible(user, camera_id):
            raise NotFoundError(f"no event {event_id}", code="event_not_found")
        masks: tuple[MaskPolygon, ...] = ()
        if camera_id is not None:
            masks = privacy.for_viewer(user, camera_id, lift=lift_masks, via="event", reason=reason, repeated=True)
        return Response(analysis.snapshot(event_id, masks), media_type="image/jpeg")

    return router


def events_stream_router(accounts: AccountService, events: EventService, access: AccessService) -> APIRouter:
    router = APIRouter(tags=["events"])

    @router.websocket("/events/live")
    async def event_stream(websocket: WebSocket) -> None:
        await websocket.accept()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=STREAM_QUEUE)
        usage = '{"token": "…", "camera_id"?, "types"?}'
        greeted = await signed_in_hello(websocket, accounts, usage)
        if greeted is None:
            return
        hello, user = greeted
        try:
            access.require(user, "camera.view")
        except SharpEyesError as err:
            await refuse(websocket, err.code, err.message)
            return
        try:
            camera_id = hello.get("camera_id")
            types = {EventType(t) for t in hello.get("types") or []}
        except (ValueError, TypeError):
            await refuse(websocket, "bad_hello", f"send {usage} first")
            return

        def offer(event: Event) -> None:  # on the recording thread
            wanted = (camera_id is None or event.camera_id == camera_id) and (not types or event.type in types)
            if wanted and (event.camera_id is None or access.camera_visible(user, event.camera_id)):
                with contextlib.suppress(RuntimeError):  # the loop is gone: the listener has left
                    loop.call_soon_threadsafe(_put, queue, event)

        async def send(event: Event) -> bool:
            await websocket.send_text(EventOut.model_validate(event).model_dump_json())
            return True

        unsubscribe = events.subscribe(offer)
        try:
            await websocket.send_json({"type": "ready"})
            await pump(websocket, queue, send)
        finally:
            unsubscribe()

    return router


def _put(queue: "asyncio.Queue[Event]", event: Event) -> None:
    with contextlib.suppress(asyncio.QueueFull):  # a listener that cannot keep up misses events, not memory
        queue.put_nowait(event)
