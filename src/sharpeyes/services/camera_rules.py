"""Checks every camera passes, however it arrives (API, command line, spreadsheet), before the store is asked."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from sharpeyes.core.areas import SiteType, position_problem
from sharpeyes.core.cameras import CAMERA_ID_PATTERN, Camera, RtspTransport
from sharpeyes.core.errors import InvalidInputError, NotFoundError
from sharpeyes.core.gb_ids import camera_id_problem
from sharpeyes.protocols.sources import check_source_url
from sharpeyes.store.cameras import CameraRepository

MAX_NAME_LENGTH = 200
MAX_SITE_NAME_LENGTH = 200


@dataclass(frozen=True, slots=True)
class CameraDraft:
    """A camera as someone described it; ``source_url`` None means built but not networked."""

    name: str
    source_url: str | None
    rtsp_transport: RtspTransport = "tcp"
    id: str | None = None
    area_code: str | None = None
    site_name: str | None = None
    site_type: SiteType | None = None
    longitude: float | None = None
    latitude: float | None = None
    sub_source_url: str | None = None


def checked(draft: CameraDraft) -> CameraDraft:
    """The draft normalised (trimmed, empty → None), or ``InvalidInputError`` naming the field."""
    name = (draft.name or "").strip()  # a change may carry null for it
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError(f"name: give 1 to {MAX_NAME_LENGTH} characters", code="bad_camera_name", field="name")
    camera_id = (draft.id or "").strip() or None
    if camera_id is not None:
        _check_id(camera_id)
    source_url = _checked_url(draft.source_url, "source_url")
    sub_source_url = _checked_url(draft.sub_source_url, "sub_source_url")
    if sub_source_url is not None and source_url is None:
        raise InvalidInputError(
            "sub_source_url: a sub-stream needs the main stream (source_url) too",
            code="sub_without_main",
            field="sub_source_url",
        )
    if draft.rtsp_transport not in ("tcp", "udp"):
        raise InvalidInputError("rtsp_transport: use 'tcp' or 'udp'", code="bad_transport", field="rtsp_transport")
    _check_position(draft.longitude, draft.latitude)
    site_name = (draft.site_name or "").strip() or None
    if site_name is not None and len(site_name) > MAX_SITE_NAME_LENGTH:
        raise InvalidInputError("site_name: too long", code="bad_site", field="site_name")
    if site_name is not None and draft.area_code is None:
        raise InvalidInputError("a site needs the area it lies in (area_code)", code="bad_site", field="area_code")
    area_code = (draft.area_code or "").strip() or None
    return CameraDraft(
        name=name,
        source_url=source_url,
        rtsp_transport=draft.rtsp_transport,
        id=camera_id,
        area_code=area_code,
        site_name=site_name,
        site_type=draft.site_type,
        longitude=draft.longitude,
        latitude=draft.latitude,
        sub_source_url=sub_source_url,
    )


def _checked_url(url: str | None, field: str) -> str | None:
    url = (url or "").strip() or None
    if url is not None:
        try:
            check_source_url(url)
        except InvalidInputError as err:
            raise InvalidInputError(f"{field}: {err.message}", code=err.code, field=field) from err
    return url


def _check_id(camera_id: str) -> None:
    if not CAMERA_ID_PATTERN.fullmatch(camera_id):
        raise InvalidInputError("id: use 1 to 64 letters, digits, '-' or '_'", code="bad_camera_id", field="id")
    if camera_id.isdigit():
        problem = camera_id_problem(camera_id)
        if problem is not None:
            raise InvalidInputError(f"id: {problem}", code="bad_camera_id", field="id")


def _check_position(longitude: float | None, latitude: float | None) -> None:
    if (longitude is None) != (latitude is None):
        missing = "latitude" if latitude is None else "longitude"
        raise InvalidInputError(f"{missing}: give longitude and latitude together", code="bad_position", field=missing)
    if longitude is not None and latitude is not None:
        problem = position_problem(longitude, latitude)
        if problem is not None:
            raise InvalidInputError(problem[1], code="bad_position", field=problem[0])


def camera_not_found(camera_id: str) -> NotFoundError:
    return NotFoundError(f"no camera with id {camera_id!r} / 找不到该摄像机", code="camera_not_found")


def require_camera(db: Session, camera_id: str) -> Camera:
    """The camera, or the one error every service gives for a missing one."""
    camera = CameraRepository(db).get(camera_id)
    if camera is None:
        raise camera_not_found(camera_id)
    return camera
