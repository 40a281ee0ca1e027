"""Cameras: registry, inventory import and live snapshots."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile, status

from sharpeyes.api.schemas.analysis import AnalysisPlanOut
from sharpeyes.api.schemas.cameras import CameraCreate, CameraOut, CameraPatch
from sharpeyes.api.schemas.common import (
    PROBLEM_RESPONSES,
    ROW_ID_MAX,
    LiftMasksQuery,
    Problem,
    ProfileQuery,
    ReasonQuery,
)
from sharpeyes.api.schemas.imports import ImportReportOut
from sharpeyes.api.schemas.recordings import RecordingPlanOut
from sharpeyes.api.uploads import check_upload
from sharpeyes.services.access import AccessService
from sharpeyes.services.accounts import User
from sharpeyes.services.analysis import AnalysisService
from sharpeyes.services.camera_rules import CameraDraft
from sharpeyes.services.cameras import CameraService, CameraView
from sharpeyes.services.inventory import InventoryService
from sharpeyes.services.privacy import PrivacyService
from sharpeyes.services.recordings import RecordingService

SCOPED_LIST_MOST = 100_000
"""Cameras looked through to list a scoped user's."""


def cameras_router(
    cameras: CameraService,
    inventory: InventoryService,
    recordings: RecordingService,
    analysis: AnalysisService,
    max_upload_mb: int,
    current_user: Callable[..., User],
    access: AccessService,
    privacy: PrivacyService,
) -> APIRouter:
    router = APIRouter(prefix="/cameras", tags=["cameras"], responses=PROBLEM_RESPONSES)

    @router.post("", status_code=status.HTTP_201_CREATED, responses={409: {"model": Problem}})
    def add_camera(body: CameraCreate, user: Annotated[User, Depends(current_user)]) -> CameraOut:
        return _out(cameras.add(CameraDraft(**body.model_dump()), by=user.username))

    @router.get("")
    def list_cameras(
        user: Annotated[User, Depends(current_user)],
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        offset: Annotated[int, Query(ge=0, le=ROW_ID_MAX)] = 0,
    ) -> list[CameraOut]:
        """The cameras the user may see (a scoped role: those of its scope only)."""
        if not user.scoped:
            return [_out(view) for view in cameras.list(limit=limit, offset=offset)]
        views = cameras.list(limit=SCOPED_LIST_MOST, offset=0)
        visible = access.visible_ids(user, (view.id for view in views))
        return [_out(view) for view in views if view.id in visible][offset : offset + limit]

    @router.post("/import", responses={413: {"model": Problem}})
    def import_cameras(
        file: Annotated[UploadFile, File()], user: Annotated[User, Depends(current_user)], dry_run: bool = False
    ) -> ImportReportOut:
        """CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or XLSX with columns id, name, area_code, site_name, site_type,
        longitude, latitude, source_url, sub_source_url (or 编号, 名称, 区划编码, 点位名称, 点位类型, 经度, 纬度,
        取流地址, 子码流地址)."""
        name = check_upload(file, max_upload_mb)
        report = inventory.import_table(file.file, dry_run=dry_run, source_name=name, by=user.username)
        return ImportReportOut.from_report(report)

    @router.get("/{camera_id}")
    def get_camera(camera_id: str) -> CameraOut:
        return _out(cameras.get(camera_id))

    @router.patch("/{camera_id}", responses={409: {"model": Problem}})
    def update_camera(camera_id: str, body: CameraPatch, user: Annotated[User, Depends(current_user)]) -> CameraOut:
        """Change the given fields; ``recording`` sets the recording plan, ``analytics`` the analysis plan."""
        changes = body.model_dump(exclude_unset=True, exclude={"recording", "analytics"})
        if body.analytics is not None:
            analysis.set_plan(camera_id, body.analytics.to_plan(), by=user.username)
        if body.recording is not None:
            recordings.set_plan(camera_id, body.recording.to_plan(), by=user.username)
        return _out(cameras.update(camera_id, changes, by=user.username) if changes else cameras.get(camera_id))

    @router.get("/{camera_id}/analytics")
    def camera_analytics(camera_id: str) -> AnalysisPlanOut:
        """The camera's analysis plan, and whether a worker runs it now."""
        plan, running = analysis.plan(camera_id), camera_id in analysis.running()
        return AnalysisPlanOut.from_plan(plan, running, analysis.stats(camera_id))

    @router.delete("/{camera_id}", status_code=status.HTTP_204_NO_CONTENT)
    def remove_camera(camera_id: str, user: Annotated[User, Depends(current_user)]) -> None:
        cameras.remove(camera_id, by=user.username)

    @router.get(
        "/{camera_id}/snapshot.jpg",
        response_class=Response,
        responses={200: {"content": {"image/jpeg": {}}}, 503: {"model": Problem, "description": "No picture yet"}},
    )
    def snapshot(
        camera_id: str,
        user: Annotated[User, Depends(current_user)],
        profile: ProfileQuery = "main",
        lift_masks: LiftMasksQuery = False,
        reason: ReasonQuery = None,
    ) -> Response:
        """The current picture; ``profile=sub`` takes it from the sub-stream (cheaper, for walls). Privacy masks
        are painted over unless lifted. Viewing is audited (once while it goes on)."""
        masks = privacy.for_viewer(user, camera_id, lift=lift_masks, via="snapshot", reason=reason, repeated=True)
        image = cameras.snapshot(camera_id, profile, user.username, masks)
        headers = {"Cache-Control": "no-store", "X-Frame-Time": image.frame_at.isoformat()}
        return Response(image.jpeg, media_type="image/jpeg", headers=headers)

    return router


def _out(view: CameraView) -> CameraOut:
    if view.source_url is None:
        status_value, reason = "not_networked", "built but not networked: no source URL / 未联网"
    else:
        status_value = view.status.value if view.status else "connecting"
        reason = view.status_reason or "waiting for the stream session to start"
    return CameraOut(
        id=view.id,
        name=view.name,
        source_url=view.source_url,
        sub_source_url=view.sub_source_url,
        rtsp_transport=view.rtsp_transport,
        created_at=view.created_at,
        area_code=view.area_code,
        site_name=view.site_name,
        site_type=view.site_type,
        longitude=view.longitude,
        latitude=view.latitude,
        status=status_value,
        status_reason=reason,
        status_since=view.status_since,
        last_frame_at=view.last_frame_at,
        recording=RecordingPlanOut.from_plan(view.recording),
    )
