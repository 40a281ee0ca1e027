"""Live view over a WebSocket: fMP4 fragments for Media Source Extensions.

Protocol: the client sends ``{"token": "<access token>"}`` first (browsers cannot set headers on a WebSocket).
The server answers ``{"type": "start", "mime", "width", "height"}`` and the initialisation segment as one binary
message, then one binary message per frame; ``start`` again when the camera reconnects. Errors come as
``{"type": "error", "code", "detail"}`` before the socket closes.
"""

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from sharpeyes.core.errors import SharpEyesError
from sharpeyes.services.accounts import AccountService
from sharpeyes.services.live import LiveItem, LiveService, LiveStart

QUEUE_ITEMS = 300
FIRST_MESSAGE_S = 10.0


def live_router(accounts: AccountService, live: LiveService) -> APIRouter:
    router = APIRouter(tags=["live"])

    @router.websocket("/cameras/{camera_id}/live")
    async def live_view(websocket: WebSocket, camera_id: str) -> None:
        await websocket.accept()
        queue: asyncio.Queue[LiveItem | None] = asyncio.Queue(maxsize=QUEUE_ITEMS)
        loop = asyncio.get_running_loop()

        def deliver(item: LiveItem | None) -> None:  # called on the feed's thread
            with contextlib.suppress(RuntimeError):  # the loop is gone: the viewer has left
                loop.call_soon_threadsafe(_offer, queue, item)

        try:
            hello = await asyncio.wait_for(websocket.receive_json(), FIRST_MESSAGE_S)
            await asyncio.to_thread(accounts.authenticate, str(hello.get("token", "")))
            feed = await asyncio.to_thread(live.watch, camera_id, deliver)
        except SharpEyesError as err:
            await _fail(websocket, err.code, err.message)
            return
        except (TimeoutError, ValueError, AttributeError):
            await _fail(websocket, "bad_hello", 'send {"token": "…"} first')
            return
        try:
            await _pump(websocket, queue)
        finally:
            feed.stop()

    return router


async def _pump(websocket: WebSocket, queue: "asyncio.Queue[LiveItem | None]") -> None:
    """Send the feed until it ends or the viewer leaves (noticed at once, not at the next send)."""
    listener = asyncio.create_task(websocket.receive())
    try:
        while True:
            getter = asyncio.create_task(queue.get())
            done, _pending = await asyncio.wait({getter, listener}, return_when=asyncio.FIRST_COMPLETED)
            if listener in done:
                getter.cancel()
                if listener.result().get("type") == "websocket.disconnect":
                    return
                listener = asyncio.create_task(websocket.receive())  # the viewer said something: ignore it
                continue
            item = getter.result()
            if item is None:
                await _fail(websocket, "stream_ended", "the live stream ended; reconnect to follow the camera")
                return
            if isinstance(item, LiveStart):
                await websocket.send_json(
                    {"type": "start", "mime": item.mime, "width": item.width, "height": item.height}
                )
                await websocket.send_bytes(item.init)
            else:
                await websocket.send_bytes(item)
    except WebSocketDisconnect:
        return
    finally:
        listener.cancel()


def _offer(queue: "asyncio.Queue[LiveItem | None]", item: LiveItem | None) -> None:
    try:
        queue.put_nowait(item)
    except asyncio.QueueFull:  # the viewer cannot keep up: end its feed rather than buffer without bound
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
        queue.put_nowait(None)


async def _fail(websocket: WebSocket, code: str, detail: str) -> None:
    with contextlib.suppress(Exception):
        await websocket.send_json({"type": "error", "code": code, "detail": detail})
        await websocket.close(code=1011)
