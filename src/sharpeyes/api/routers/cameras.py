"""Cameras: registry and live snapshots."""

from fastapi import APIRouter, Response, status

from sharpeyes.api.schemas.cameras import CameraCreate, CameraOut
from sharpeyes.api.schemas.common import PROBLEM_RESPONSES, Problem
from sharpeyes.services.cameras import CameraDraft, CameraService, CameraView


def cameras_router(cameras: CameraService) -> APIRouter:
    router = APIRouter(prefix="/cameras", tags=["cameras"], responses=PROBLEM_RESPONSES)

    @router.post("", status_code=status.HTTP_201_CREATED, responses={409: {"model": Problem}})
    def add_camera(body: CameraCreate) -> CameraOut:
        return _out(cameras.add(CameraDraft(body.name, body.source_url, body.rtsp_transport, body.id)))

    @router.get("")
    def list_cameras() -> list[CameraOut]:
        return [_out(view) for view in cameras.list()]

    @router.get("/{camera_id}")
    def get_camera(camera_id: str) -> CameraOut:
        return _out(cameras.get(camera_id))

    @router.delete("/{camera_id}", status_code=status.HTTP_204_NO_CONTENT)
    def remove_camera(camera_id: str) -> None:
        cameras.remove(camera_id)

    @router.get(
        "/{camera_id}/snapshot.jpg",
        response_class=Response,
        responses={200: {"content": {"image/jpeg": {}}}, 503: {"model": Problem, "description": "No picture yet"}},
    )
    def snapshot(camera_id: str) -> Response:
        image = cameras.snapshot(camera_id)
        headers = {"Cache-Control": "no-store", "X-Frame-Time": image.frame_at.isoformat()}
        return Response(image.jpeg, media_type="image/jpeg", headers=headers)

    return router


def _out(view: CameraView) -> CameraOut:
    return CameraOut(
        id=view.id,
        name=view.name,
        source_url=view.source_url,
        rtsp_transport=view.rtsp_transport,
        created_at=view.created_at,
        status=(view.status.value if view.status else "connecting"),
        status_reason=view.status_reason or "waiting for the stream session to start",
        status_since=view.status_since,
        last_frame_at=view.last_frame_at,
    )
