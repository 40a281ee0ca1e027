"""Evidence exports: a signed package of a camera's recording for a case."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from sharpeyes.api.schemas.common import PROBLEM_RESPONSES
from sharpeyes.api.schemas.exports import ExportIn, ExportOut
from sharpeyes.services.access import AccessService
from sharpeyes.services.accounts import User
from sharpeyes.services.exports import ExportService
from sharpeyes.services.privacy import PrivacyService


def exports_router(
    exports: ExportService, privacy: PrivacyService, current_user: Callable[..., User], access: AccessService
) -> APIRouter:
    router = APIRouter(prefix="/exports", tags=["exports"], responses=PROBLEM_RESPONSES)

    @router.post("", status_code=202)
    def create(body: ExportIn, user: Annotated[User, Depends(current_user)]) -> ExportOut:
        """Package the camera's recording of the range (made in the background: follow ``GET /exports/{id}``). The
        package holds the clip as MP4, a manifest (camera, times, source segments and their SHA-256, exporter,
        case and reason, chain of custody) with every file's SHA-256, and the platform's Ed25519 signature; check it
        with ``sharpeyes export verify``. The segments used go under legal hold. The camera's privacy masks are
        painted in (the clip encoded again) unless lifted; ``watermark`` paints the exporter, time and case into
        the pictures. Audited."""
        access.require_camera(user, body.camera_id)
        masks = privacy.for_viewer(user, body.camera_id, lift=body.lift_masks, via="export", reason=body.reason)
        return ExportOut.of(exports.create(user.username, body.to_request(masks)))

    @router.get("/{export_id}")
    def status(export_id: str, user: Annotated[User, Depends(current_user)]) -> ExportOut:
        return ExportOut.of(exports.get(user.username, export_id))

    @router.get(
        "/{export_id}/package.zip", response_class=FileResponse, responses={200: {"content": {"application/zip": {}}}}
    )
    def package(export_id: str, user: Annotated[User, Depends(current_user)]) -> FileResponse:
        """The signed package (each download is audited)."""
        path = exports.package(user.username, export_id)
        job = exports.get(user.username, export_id)
        name = f"evidence-{job.request.camera_id}-{job.request.start:%Y%m%dT%H%M%S}.zip"  # camera ids are [0-9A-Za-z_-]
        return FileResponse(path, media_type="application/zip", filename=name)

    return router
