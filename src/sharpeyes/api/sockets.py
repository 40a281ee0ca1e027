"""What the WebSocket endpoints share: sending a queue's items until the client leaves (noticed at once, not at
the next send), and refusing a client with a reason."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import WebSocket, WebSocketDisconnect

T = TypeVar("T")


async def pump(websocket: WebSocket, queue: asyncio.Queue[T], send: Callable[[T], Awaitable[bool]]) -> None:
    """``send`` each item of ``queue`` to the client until it returns False or the client disconnects; what the
    client says meanwhile is ignored."""
    listener = asyncio.create_task(websocket.receive())
    try:
        while True:
            getter = asyncio.create_task(queue.get())
            done, _pending = await asyncio.wait({getter, listener}, return_when=asyncio.FIRST_COMPLETED)
            if listener in done:
                getter.cancel()
                if listener.result().get("type") == "websocket.disconnect":
                    return
                listener = asyncio.create_task(websocket.receive())
                continue
            if not await send(getter.result()):
                return
    except WebSocketDisconnect:
        return
    finally:
        listener.cancel()


async def refuse(websocket: WebSocket, code: str, detail: str, close_code: int = 1008) -> None:
    """Tell the client why in ``{"type": "error", "code", "detail"}``, then close."""
    with contextlib.suppress(Exception):
        await websocket.send_json({"type": "error", "code": code, "detail": detail})
        await websocket.close(code=close_code)
