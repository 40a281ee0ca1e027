"""Search across cameras (``POST /api/v1/search``) and the pictures of the tracks found."""

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Response

from sharpeyes.api.schemas.common import PROBLEM_RESPONSES, RowIdPath
from sharpeyes.api.schemas.search import SearchIn, SearchOut, SearchResultOut
from sharpeyes.core.errors import NotFoundError
from sharpeyes.services.access import AccessService
from sharpeyes.services.accounts import User
from sharpeyes.services.search import Hit, SearchService

PLAYBACK_MARGIN = timedelta(seconds=5)


NOWHERE = ("",)
"""A camera filter no camera passes (a scoped user whose scope holds no camera still has the search audited)."""


def search_router(search: SearchService, current_user: Callable[..., User], access: AccessService) -> APIRouter:
    router = APIRouter(tags=["search"], responses=PROBLEM_RESPONSES)

    @router.post("/search", response_model_by_alias=True)
    def run_search(body: SearchIn, user: Annotated[User, Depends(current_user)]) -> SearchOut:
        """Tracks matching the text and filters, newest first. People and vehicles need a ``case_id`` or a
        ``reason``; every search, answered or refused, is written to the audit log."""
        request = body.to_request()
        visible = access.all_visible(user)
        if visible is not None:  # a scoped role searches its own cameras only
            asked = set(request.camera_ids) & visible if request.camera_ids else visible
            request = replace(request, camera_ids=tuple(sorted(asked)) or NOWHERE)
        answer = search.search(user.username, request)
        return SearchOut(
            results=[_result(hit) for hit in answer.results],
            understood=answer.understood,
            ignored_terms=answer.ignored_terms,
        )

    @router.get(
        "/tracks/{track_id}/thumbnail.jpg", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}}
    )
    def thumbnail(track_id: RowIdPath, user: Annotated[User, Depends(current_user)]) -> Response:
        """The track's best picture (each view is written to the audit log)."""
        if not access.camera_visible(user, search.camera_of(track_id)):
            raise NotFoundError(f"no track {track_id} / 找不到该轨迹", code="track_not_found")  # as for a missing one
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
