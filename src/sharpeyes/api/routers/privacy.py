"""Privacy masks (隐私遮挡) of one camera."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends

from sharpeyes.api.schemas.common import PROBLEM_RESPONSES
from sharpeyes.api.schemas.privacy import MaskOut, MasksIn
from sharpeyes.services.accounts import User
from sharpeyes.services.privacy import PrivacyService


def privacy_router(privacy: PrivacyService, current_user: Callable[..., User]) -> APIRouter:
    router = APIRouter(prefix="/cameras/{camera_id}/privacy-masks", tags=["privacy"], responses=PROBLEM_RESPONSES)

    @router.get("")
    def masks(camera_id: str) -> list[MaskOut]:
        """The polygons painted into everything shown of the camera (live, playback, clips, exports) unless a
        viewer with ``mask.lift`` lifts them for one request (``lift_masks=true``, audited)."""
        return [MaskOut.of(mask) for mask in privacy.masks(camera_id)]

    @router.put("")
    def set_masks(camera_id: str, body: MasksIn, user: Annotated[User, Depends(current_user)]) -> list[MaskOut]:
        """Replace the camera's masks (an empty list removes them); the recording itself is never painted. Audited
        with the polygons."""
        polygons = ((mask.points, mask.name) for mask in body.polygons)
        return [MaskOut.of(mask) for mask in privacy.set_masks(camera_id, polygons, user.username)]

    return router
