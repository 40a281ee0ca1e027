"""Search across cameras (``POST /api/v1/search``) and the pictures of the tracks found."""

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Response

from sharpeyes.api.schemas.common import PROBLEM_RESPONSES
from sharpeyes.api.schemas.search import SearchIn, SearchOut, SearchResultOut
from sharpeyes.services.accounts import User
from sharpeyes.services.search import Hit, SearchService

PLAYBACK_MARGIN = timedelta(seconds=5)


def search_router(search: SearchService, current_user: Callable[..., User]) -> APIRouter:
    router = APIRouter(tags=["search"], responses=PROBLEM_RESPONSES)

    @router.post("/search", response_model_by_alias=True)
    def run_search(body: SearchIn, user: Annotated[User, Depends(current_user)]) -> SearchOut:
        """Tracks matching the text and filters, newest first. People and vehicles need a ``case_id`` or a
        ``reason``; every search, answered or refused, is written to the audit log."""
        answer = search.search(user.username, body.to_request())
        return SearchOut(
            results=[_result(hit) for hit in answer.results],
            understood=answer.understood,
            ignored_terms=answer.ignored_terms,
        )

    @router.get(
        "/tracks/{track_id}/thumbnail.jpg", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}}
    )
    def thumbnail(track_id: int, user: Annotated[User, Depends(current_user)]) -> Response:
        """The track's best picture (each view is written to the audit log)."""
        picture = search.thumbnail(user.username, track_id)
        return Response(picture, media_type="image/jpeg", headers={"Cache-Control": "private"})

    return router


def _result(hit: Hit) -> SearchResultOut:
    record = hit.record
    assert record.id is not None
    around = urlencode(
        {
            "start": (record.start - PLAYBACK_MARGIN).isoformat(),
            "end": (record.end + PLAYBACK_MARGIN).isoformat(),
        }
    )
    return SearchResultOut.model_validate(
        {
            "track_id": record.id,
            "camera_id": record.camera_id,
            "class": record.class_name,
            "start": record.start,
            "end": record.end,
            "score": round(hit.score, 4),
            "thumbnail_url": f"/api/v1/tracks/{record.id}/thumbnail.jpg" if record.thumbnail else None,
            "playback_url": f"/api/v1/cameras/{quote(record.camera_id, safe='')}/playback.m3u8?{around}",
            "attributes": {
                "upper_colour": record.upper_colour,
                "lower_colour": record.lower_colour,
                "carried": list(record.carried),
                "zones": list(record.zones),
                "direction": record.direction,
                "height_px": record.height_px,
                "dwell_s": round(record.dwell_s, 1),
            },
        }
    )
