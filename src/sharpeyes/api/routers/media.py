"""Per-camera media answers: health, recorded video, HLS playback over it, and clips."""

import shutil
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from sharpeyes.api.schemas.common import HLS_TYPE, PROBLEM_RESPONSES, Problem
from sharpeyes.api.schemas.health import HealthOut, QualityOut
from sharpeyes.api.schemas.recordings import GapOut, RecordingsOut, SegmentOut
from sharpeyes.api.tokens import token_query
from sharpeyes.services.health import HealthService
from sharpeyes.services.quality import QualityService
from sharpeyes.services.recordings import RecordingService

Start = Annotated[datetime, Query(description="ISO 8601 with offset, e.g. 2026-11-29T08:00:00+08:00.")]
End = Annotated[datetime, Query(description="ISO 8601 with offset.")]


def camera_media_router(recordings: RecordingService, health: HealthService, quality: QualityService) -> APIRouter:
    router = APIRouter(prefix="/cameras/{camera_id}", tags=["recordings"], responses=PROBLEM_RESPONSES)

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
    def list_recordings(camera_id: str, start: Start, end: End) -> RecordingsOut:
        found = recordings.recordings(camera_id, start, end)
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
        access_token: Annotated[str | None, Query(include_in_schema=False)] = None,
    ) -> Response:
        """HLS VOD over the recorded fMP4 segments; gaps are skipped with discontinuities."""
        segment_url = "segments/{id}/{part}" + token_query(access_token)  # relative to the playlist
        text = recordings.playlist(camera_id, start, end, segment_url)
        return Response(text, media_type=HLS_TYPE, headers={"Cache-Control": "no-store"})

    @router.get("/segments/{segment_id}/{part}", response_class=Response)
    def segment_part(camera_id: str, segment_id: int, part: str) -> Response:
        """``init.mp4`` (initialisation) or ``media.m4s`` (frames) of one recorded segment."""
        media_type = "video/mp4" if part == "init.mp4" else "video/iso.segment"
        return Response(recordings.segment_part(camera_id, segment_id, part), media_type=media_type)

    @router.get("/clip.mp4", response_class=FileResponse, responses={200: {"content": {"video/mp4": {}}}})
    def clip(camera_id: str, start: Start, end: End) -> FileResponse:
        """One MP4 cut on keyframes around the range, remuxed (never re-encoded), streamed from a file."""
        path = recordings.clip(camera_id, start, end)
        name = f"{camera_id}-{start:%Y%m%dT%H%M%S}.mp4"
        cleanup = BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True)
        return FileResponse(path, media_type="video/mp4", filename=name, background=cleanup)

    return router
