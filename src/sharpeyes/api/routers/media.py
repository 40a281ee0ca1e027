"""Per-camera media answers: health, recorded video, HLS playback over it (the platform's recordings, or the
device's own with ``source=device``), and clips."""

import asyncio
import shutil
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from sharpeyes.api.deps import client_address, media_token
from sharpeyes.api.schemas.common import (
    HLS_TYPE,
    PROBLEM_RESPONSES,
    LiftMasksQuery,
    Moment,
    Problem,
    ReasonQuery,
    RowIdPath,
)
from sharpeyes.api.schemas.health import HealthOut, QualityOut
from sharpeyes.api.schemas.recordings import (
    DeviceRecordingOut,
    GapOut,
    PlaybackControlIn,
    RecordingsOut,
    SegmentOut,
)
from sharpeyes.api.tokens import uri_query
from sharpeyes.services.accounts import User
from sharpeyes.services.gb import GbService
from sharpeyes.services.gb_playback import DevicePlaybackService
from sharpeyes.services.health import HealthService
from sharpeyes.services.media_tickets import MediaTickets
from sharpeyes.services.privacy import PrivacyService
from sharpeyes.services.quality import QualityService
from sharpeyes.services.recordings import RecordingService

Start = Annotated[Moment, Query(description="ISO 8601 with offset, e.g. 2026-11-29T08:00:00+08:00.")]
End = Annotated[Moment, Query(description="ISO 8601 with offset.")]
Source = Annotated[
    Literal["platform", "device"],
    Query(description="platform: what this platform recorded; device: what the camera's GB/T 28181 device keeps."),
]


def camera_media_router(
    recordings: RecordingService,
    health: HealthService,
    quality: QualityService,
    gb: GbService,
    device_playback: DevicePlaybackService,
    privacy: PrivacyService,
    tickets: MediaTickets,
    media_user: Callable[..., User],
) -> APIRouter:
    router = APIRouter(prefix="/cameras/{camera_id}", tags=["recordings"], responses=PROBLEM_RESPONSES)
    no_store = {"Cache-Control": "no-store"}

    @router.get("/health", tags=["health"])
    def camera_health(
        camera_id: str, hours: Annotated[float, Query(gt=0, le=24 * 90, description="History period.")] = 24
    ) -> HealthOut:
        """Status now, its history with reasons, online share of the period, and alerts such as flapping."""
        return HealthOut.from_report(health.health(camera_id, hours), quality.last(camera_id))

    @router.post("/quality", tags=["health"], responses={503: {"model": Problem, "description": "Not online"}})
    def diagnose_quality(camera_id: str) -> QualityOut:
        """Run the video quality diagnosis now (a few seconds: frames are taken apart in time)."""
        return QualityOut.from_result(quality.diagnose(camera_id))

    @router.get("/recordings")
    async def list_recordings(camera_id: str, start: Start, end: End, source: Source = "platform") -> RecordingsOut:
        """Recorded segments and gaps (``source=platform``), or the recordings the camera's device keeps
        (``source=device``: asked of the device with RecordInfo, in ``device_recordings``)."""
        if source == "device":
            kept = await gb.device_recordings(camera_id, start, end)
            return RecordingsOut(
                segments=[],
                gaps=[],
                device_recordings=[
                    DeviceRecordingOut(start=r.start, end=r.end, type=r.type, name=r.name) for r in kept
                ],
            )
        found = await asyncio.to_thread(recordings.recordings, camera_id, start, end)
        return RecordingsOut(
            segments=[
                SegmentOut(id=s.id, start=s.start, end=s.end, bytes=s.bytes, legal_hold=s.legal_hold)
                for s in found.segments
            ],
            gaps=[GapOut(start=g.start, end=g.end, reason=g.reason) for g in found.gaps],
        )

    @router.get("/playback.m3u8", response_class=Response, responses={200: {"content": {HLS_TYPE: {}}}})
    def playback(
        camera_id: str,
        start: Start,
        end: End,
        request: Request,
        user: Annotated[User, Depends(media_user)],
        token: Annotated[str, Depends(media_token)],
        source: Source = "platform",
        lift_masks: LiftMasksQuery = False,
        reason: ReasonQuery = None,
    ) -> Response:
        """HLS VOD over the recorded fMP4 segments; gaps are skipped with discontinuities. With ``source=device``
        the camera's device plays its own recording of the range: the playlist grows as it arrives and ends with
        it (steer it with ``device-playback/{id}/control``). Privacy masks are painted in (each segment encoded
        again) unless lifted. Its URIs carry a media ticket for this camera and viewer, not the token."""
        masks = privacy.for_viewer(user, camera_id, lift=lift_masks, via="playback", reason=reason)
        ticket = tickets.issue(token, camera_id, client_address(request))
        if source == "device":
            playback_id = device_playback.start(user.username, camera_id, start, end, masks)
            text = device_playback.playlist(camera_id, playback_id, uri_query(ticket))
            return Response(text, media_type=HLS_TYPE, headers={**no_store, "X-Playback-Id": playback_id})
        segment_url = "segments/{id}/{part}" + uri_query(ticket, lift_masks=lift_masks)  # relative
        text = recordings.playlist(camera_id, start, end, segment_url, user.username, bool(masks))
        return Response(text, media_type=HLS_TYPE, headers=no_store)

    @router.get("/device-playback/{playback_id}/init-{generation}.mp4", response_class=Response)
    def device_init(camera_id: str, playback_id: str, generation: int) -> Response:
        return Response(device_playback.init(camera_id, playback_id, generation), media_type="video/mp4")

    @router.get("/device-playback/{playback_id}/{sequence}.m4s", response_class=Response)
    def device_segment(camera_id: str, playback_id: str, sequence: int) -> Response:
        return Response(device_playback.segment(camera_id, playback_id, sequence), media_type="video/mp4")

    @router.post("/device-playback/{playback_id}/control", status_code=204, response_class=Response)
    def device_control(
        camera_id: str, playback_id: str, body: PlaybackControlIn, user: Annotated[User, Depends(media_user)]
    ) -> None:
        """Pause, resume, seek (``value``: seconds from the range's start) or change speed (``value``: 0.25–8)
        of a device playback; the device is told in a MANSRTSP INFO."""
        device_playback.control(user.username, camera_id, playback_id, body.action, body.value)

    @router.get("/segments/{segment_id}/{part}", response_class=Response)
    def segment_part(
        camera_id: str,
        segment_id: RowIdPath,
        part: str,
        user: Annotated[User, Depends(media_user)],
        lift_masks: LiftMasksQuery = False,
    ) -> Response:
        """``init.mp4`` (initialisation) or ``media.m4s`` (frames) of one recorded segment (encoded again with the
        privacy masks painted in, unless lifted)."""
        masks = privacy.for_viewer(user, camera_id, lift=lift_masks, via="playback", repeated=True)
        media_type = "video/mp4" if part == "init.mp4" else "video/iso.segment"
        return Response(recordings.segment_part(camera_id, segment_id, part, masks), media_type=media_type)

    @router.get("/clip.mp4", response_class=FileResponse, responses={200: {"content": {"video/mp4": {}}}})
    def clip(
        camera_id: str,
        start: Start,
        end: End,
        user: Annotated[User, Depends(media_user)],
        lift_masks: LiftMasksQuery = False,
        reason: ReasonQuery = None,
    ) -> FileResponse:
        """One MP4 cut on keyframes around the range, remuxed (re-encoded only to paint in the camera's privacy
        masks, unless lifted), streamed from a file (each download is audited)."""
        masks = privacy.for_viewer(user, camera_id, lift=lift_masks, via="clip", reason=reason)
        path = recordings.clip(camera_id, start, end, user.username, masks)
        name = f"{camera_id}-{start:%Y%m%dT%H%M%S}.mp4"
        cleanup = BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True)
        return FileResponse(path, media_type="video/mp4", filename=name, background=cleanup)

    return router
