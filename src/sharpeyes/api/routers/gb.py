"""GB/T 28181 devices registered to this platform."""

from fastapi import APIRouter

from sharpeyes.api.schemas.common import PROBLEM_RESPONSES
from sharpeyes.api.schemas.gb import GbDeviceOut
from sharpeyes.services.gb import GbService


def gb_router(gb: GbService) -> APIRouter:
    router = APIRouter(prefix="/gb", tags=["gb28181"], responses=PROBLEM_RESPONSES)

    @router.get("/devices")
    def devices() -> list[GbDeviceOut]:
        """Devices and lower platforms registered now: online until they miss their keepalives
        (``gb28181.keepalive_missed`` × ``keepalive_s``), gone when their registration runs out."""
        return [GbDeviceOut.model_validate(device) for device in gb.devices()]

    return router
