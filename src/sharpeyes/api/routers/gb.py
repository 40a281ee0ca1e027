"""GB/T 28181 devices registered to this platform, their catalogs, and PTZ of their cameras."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from sharpeyes.api.schemas.common import PROBLEM_RESPONSES
from sharpeyes.api.schemas.gb import GbChannelOut, GbDeviceOut, GbDeviceStatusOut, PtzIn, SuperiorIn, SuperiorOut
from sharpeyes.core.gb_devices import SuperiorPlatform
from sharpeyes.services.accounts import User
from sharpeyes.services.gb import GbService
from sharpeyes.services.gb_cascade import CascadeService


def gb_router(gb: GbService, cascade: CascadeService, current_user: Callable[..., User]) -> APIRouter:
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

    @router.get("/gb/devices/{device_id}/status")
    async def device_status(device_id: str) -> GbDeviceStatusOut:
        """Ask the device now how it is (DeviceStatus); 503 ``device_no_answer`` when it does not answer."""
        fields = await gb.device_status(device_id)
        return GbDeviceStatusOut(
            device_id=device_id,
            online=fields.get("Online", "").upper() == "ONLINE",
            working=fields.get("Status", "").upper() == "OK",
            recording=fields.get("Record", "").upper() == "ON",
            device_time=fields.get("DeviceTime") or None,
            fields=fields,
        )

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

    @router.get("/gb/superiors")
    async def superiors() -> list[SuperiorOut]:
        """The superior platforms this one registers with (cascade up): whether it is registered, why not, and
        which of our channels each is being sent."""
        return [SuperiorOut.model_validate(view) for view in await cascade.superiors()]

    @router.post("/gb/superiors", status_code=201)
    async def add_superior(body: SuperiorIn, user: Annotated[User, Depends(current_user)]) -> SuperiorOut:
        """Register with a superior platform (again, with these settings, when it exists) and offer it the cameras
        named and those of the areas named; with neither, every GB/T 28181 camera. Audited."""
        view = await cascade.add(user.username, SuperiorPlatform(**body.model_dump()))
        return SuperiorOut.model_validate(view)

    @router.delete("/gb/superiors/{superior_id}", status_code=204, response_class=Response)
    async def remove_superior(superior_id: str, user: Annotated[User, Depends(current_user)]) -> None:
        """Unregister from it and forget it; what it was being sent stops. Audited."""
        await cascade.remove(user.username, superior_id)

    return router
