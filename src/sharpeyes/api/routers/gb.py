"""GB/T 28181 devices registered to this platform, their catalogs, and PTZ of their cameras."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from sharpeyes.api.schemas.common import PROBLEM_RESPONSES
from sharpeyes.api.schemas.gb import GbChannelOut, GbDeviceOut, PtzIn
from sharpeyes.services.accounts import User
from sharpeyes.services.gb import GbService


def gb_router(gb: GbService, current_user: Callable[..., User]) -> APIRouter:
    router = APIRouter(tags=["gb28181"], responses=PROBLEM_RESPONSES)

    @router.get("/gb/devices")
    def devices() -> list[GbDeviceOut]:
        """Devices and lower platforms that have registered: ``online`` until they miss their keepalives
        (``gb28181.keepalive_missed`` × ``keepalive_s``), ``offline`` then, ``unregistered`` once their
        registration ran out or they left (kept, with their catalog)."""
        return [GbDeviceOut.model_validate(device) for device in gb.devices()]

    @router.get("/gb/devices/{device_id}/channels")
    def channels(device_id: str) -> list[GbChannelOut]:
        """The device's catalog as it last reported it; video channels name the camera they became."""
        return [GbChannelOut.of(view) for view in gb.channels(device_id)]

    @router.post("/gb/devices/{device_id}/catalog")
    async def refresh_catalog(device_id: str) -> list[GbChannelOut]:
        """Ask the device for its catalog now (it is asked by itself when it registers and when it reports a
        change); answers 503 ``device_no_answer`` when it does not answer."""
        return [GbChannelOut.of(view) for view in await gb.refresh_catalog(device_id)]

    @router.post("/cameras/{camera_id}/ptz", status_code=204, response_class=Response)
    async def ptz(camera_id: str, body: PtzIn, user: Annotated[User, Depends(current_user)]) -> None:
        """Pan, tilt, zoom (``left`` … ``zoom_out``, then ``stop``) or set, call or delete a preset, on a GB/T 28181
        camera; every command, sent or refused, is written to the audit log."""
        await gb.ptz(user.username, camera_id, body.action, body.speed, body.preset)

    return router
