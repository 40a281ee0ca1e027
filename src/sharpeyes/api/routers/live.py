"""Live view: fMP4 fragments over a WebSocket for Media Source Extensions (low latency), and live HLS.

Protocol: the client sends ``{"token": "<access token>"}`` first (browsers cannot set headers on a WebSocket).
The server answers ``{"type": "start", "mime", "width", "height"}`` and the initialisation segment as one binary
message, then one binary message per frame; ``start`` again when the camera reconnects. Errors come as
``{"type": "error", "code", "detail"}`` before the socket closes.
"""

import asyncio
import contextlib
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, WebSocket

from sharpeyes.api.deps import client_address, media_token
from sharpeyes.api.schemas.common import HLS_TYPE, PROBLEM_RESPONSES, LiftMasksQuery, ProfileQuery, ReasonQuery
from sharpeyes.api.sockets import pump, refuse, signed_in_hello
from sharpeyes.api.tokens import uri_query
from sharpeyes.core.errors import SharpEyesError
from sharpeyes.services.access import AccessService
from sharpeyes.services.accounts import AccountService, User
from sharpeyes.services.live import LiveItem, LiveService, LiveStart
from sharpeyes.services.media_tickets import MediaTickets
from sharpeyes.services.privacy import PrivacyService

QUEUE_ITEMS = 300


def live_router(
    accounts: AccountService, live: LiveService, access: AccessService, privacy: PrivacyService
) -> APIRouter:
    router = APIRouter(tags=["live"])

    @router.websocket("/cameras/{camera_id}/live")
    async def live_view(
        websocket: WebSocket,
        camera_id: str,
        profile: ProfileQuery = "main",
        lift_masks: LiftMasksQuery = False,
        reason: ReasonQuery = None,
    ) -> None:
        await websocket.accept()
        queue: asyncio.Queue[LiveItem | None] = asyncio.Queue(maxsize=QUEUE_ITEMS)
        loop = asyncio.get_running_loop()

        def deliver(item: LiveItem | None) -> None:  # called on the feed's thread
            with contextlib.suppress(RuntimeError):  # the loop is gone: the viewer has left
                loop.call_soon_threadsafe(_offer, queue, item)

        greeted = await signed_in_hello(websocket, accounts, '{"token": "…"}')
        if greeted is None:
            return
        _, user = greeted
        try:
            access.require(user, "live.view")
            await asyncio.to_thread(access.require_camera, user, camera_id)
            masks = await asyncio.to_thread(
                lambda: privacy.for_viewer(user, camera_id, lift=lift_masks, via="live", reason=reason)
            )
            feed = await asyncio.to_thread(live.watch, camera_id, deliver, profile, user.username, masks)
        except SharpEyesError as err:
            await refuse(websocket, err.code, err.message)
            return
        try:
            await pump(websocket, queue, lambda item: _send_live(websocket, item))
        finally:
            feed.stop()

    return router


def live_hls_router(
    live: LiveService, privacy: PrivacyService, tickets: MediaTickets, media_user: Callable[..., User]
) -> APIRouter:
    router = APIRouter(prefix="/cameras/{camera_id}", tags=["live"], responses=PROBLEM_RESPONSES)
    no_store = {"Cache-Control": "no-store"}

    @router.get("/live.m3u8", response_class=Response, responses={200: {"content": {HLS_TYPE: {}}}})
    def live_playlist(
        camera_id: str,
        request: Request,
        user: Annotated[User, Depends(media_user)],
        token: Annotated[str, Depends(media_token)],
        profile: ProfileQuery = "main",
        lift_masks: LiftMasksQuery = False,
        reason: ReasonQuery = None,
    ) -> Response:
        """Live HLS (fMP4 segments cut on keyframes, a few seconds behind). The first request starts the camera's
        stream and waits for its first segments; the playlist stops when nobody has asked for it for a while. With
        privacy masks it is re-encoded with them painted in, unless lifted. Its URIs carry a media ticket for this
        camera and viewer, not the token."""
        masks = privacy.for_viewer(user, camera_id, lift=lift_masks, via="live", reason=reason)
        ticket = tickets.issue(token, camera_id, client_address(request))
        query = uri_query(ticket, profile=profile, lift_masks=lift_masks)
        text = live.hls_playlist(camera_id, user.username, query, profile, masks)
        return Response(text, media_type=HLS_TYPE, headers=no_store)

    @router.get("/live/init-{generation}.mp4", response_class=Response)
    def live_init(
        camera_id: str,
        generation: int,
        user: Annotated[User, Depends(media_user)],
        profile: ProfileQuery = "main",
        lift_masks: LiftMasksQuery = False,
    ) -> Response:
        masks = privacy.for_viewer(user, camera_id, lift=lift_masks, via="live", repeated=True)
        init = live.hls_init(camera_id, generation, profile, masks)
        return Response(init, media_type="video/mp4", headers=no_store)

    @router.get("/live/{sequence}.m4s", response_class=Response)
    def live_segment(
        camera_id: str,
        sequence: int,
        user: Annotated[User, Depends(media_user)],
        profile: ProfileQuery = "main",
        lift_masks: LiftMasksQuery = False,
    ) -> Response:
        masks = privacy.for_viewer(user, camera_id, lift=lift_masks, via="live", repeated=True)
        segment = live.hls_segment(camera_id, sequence, profile, masks)
        return Response(segment, media_type="video/mp4", headers=no_store)

    return router


async def _send_live(websocket: WebSocket, item: LiveItem | None) -> bool:
    if item is None:
        await refuse(websocket, "stream_ended", "the live stream ended; reconnect to follow the camera", 1011)
        return False
    if isinstance(item, LiveStart):
        await websocket.send_json({"type": "start", "mime": item.mime, "width": item.width, "height": item.height})
        await websocket.send_bytes(item.init)
    else:
        await websocket.send_bytes(item)
    return True


def _offer(queue: "asyncio.Queue[LiveItem | None]", item: LiveItem | None) -> None:
    try:
        queue.put_nowait(item)
    except asyncio.QueueFull:  # the viewer cannot keep up: end its feed rather than buffer without bound
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
        queue.put_nowait(None)
