"""Shapes shared by several routers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict

from sharpeyes.core.cameras import Profile
from sharpeyes.core.clock import as_utc


class Problem(BaseModel):
    """An RFC 9457 problem document; ``code`` is stable for scripts."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    code: str
    detail: str
    instance: str | None = None


PROBLEM_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": Problem, "description": "Not signed in"},
    404: {"model": Problem, "description": "No such resource"},
    422: {"model": Problem, "description": "Invalid input"},
}


CameraStatusOut = Literal["connecting", "online", "idle", "offline", "error", "not_networked"]
"""``idle``: not streaming because nobody needs it (the reason says what its last check found)."""

ProfileQuery = Annotated[
    Profile, Query(description="main (主码流) or sub (子码流; the main stream when the camera has none).")
]

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _within_reach(moment: datetime) -> datetime:
    if not EARLIEST <= as_utc(moment) < LATEST:
        raise ValueError("give a time from 1970 to 8999 / 时间超出范围")
    return moment


Moment = Annotated[datetime, AfterValidator(_within_reach)]
"""A time a person asks about (the start or end of a period): 1970 to 8999, where default periods and time zone
changes around it cannot leave the calendar."""

ROW_ID_MAX = 2**63 - 1
"""The largest id a stored row can have (a signed 64-bit integer): larger ones cannot even be looked up."""
RowIdPath = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]
"""A path parameter naming a stored row (event, track, API key) by its number."""

HLS_TYPE = "application/vnd.apple.mpegurl"
"""The media type of HLS playlists."""
LiftMasksQuery = Annotated[
    bool,
    Query(description="Show the camera without its privacy masks (needs mask.lift; audited as mask.lift)."),
]
ReasonQuery = Annotated[
    str | None, Query(max_length=500, description="Why the masks are lifted (kept in the audit record).")
]
