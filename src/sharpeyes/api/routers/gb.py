"""GB/T 28181 devices registered to this platform."""

from fastapi import APIRouter
from pydantic import BaseModel

from sharpeyes.api.schemas.common import PROBLEM_RESPONSES
from sharpeyes.services.gb import DeviceView, GbService


class GbDeviceOut(BaseModel):
    device_id: str
    status: str
    transport: str
    address: str
    registered_at: str
    expires_at: str
    last_keepalive: str | None


def gb_router(gb: GbService) -> APIRouter:
    router = APIRouter(prefix="/gb", tags=["gb28181"], responses=PROBLEM_RESPONSES)

    @router.get("/devices")
    def devices() -> list[GbDeviceOut]:
        """Devices and lower platforms registered now: online until they miss their keepalives
        (``gb28181.keepalive_missed`` × ``keepalive_s``), gone when their registration runs out."""
        return [_out(device) for device in gb.devices()]

    return router


def _out(device: DeviceView) -> GbDeviceOut:
    return GbDeviceOut(
        device_id=device.device_id,
        status=device.status,
        transport=device.transport,
        address=device.address,
        registered_at=device.registered_at.isoformat(),
        expires_at=device.expires_at.isoformat(),
        last_keepalive=device.last_keepalive.isoformat() if device.last_keepalive else None,
    )
