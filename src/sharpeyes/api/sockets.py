"""What the WebSocket endpoints share: a first message carrying the access token (browsers cannot set headers on a
WebSocket), sending a queue's items until the client leaves (noticed at once, not at the next send), and refusing a
client with a reason."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import WebSocket, WebSocketDisconnect

from sharpeyes.core.errors import SharpEyesError
from sharpeyes.services.accounts import AccountService, User

T = TypeVar("T")
FIRST_MESSAGE_S = 10.0


async def signed_in_hello(
    websocket: WebSocket, accounts: AccountService, usage: str
) -> tuple[dict[str, Any], User] | None:
    """The client's first message and who sent it, once its ``token`` checks out; None when it does not (the
    client has been told why, ``usage`` showing what to send, and the socket is closed)."""
    try:
        hello = await asyncio.wait_for(websocket.receive_json(), FIRST_MESSAGE_S)
        if not isinstance(hello, dict):
            raise ValueError("not an object")
        address = websocket.client.host if websocket.client is not None else ""
        user = await asyncio.to_thread(accounts.authenticate, str(hello.get("token", "")), address)
    except SharpEyesError as err:
        await refuse(websocket, err.code, err.message)
        return None
    except (TimeoutError, ValueError):
        await refuse(websocket, "bad_hello", f"send {usage} first")
        return None
    return hello, user


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
