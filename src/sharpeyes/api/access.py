"""Authorisation of every request: the permission each route needs (``ROUTES``; a route missing from it is for
admins only, so a new route is closed until someone opens it) and, for routes about one camera, the user's scope —
a camera outside it answers 404 exactly like a missing one."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from sharpeyes.core.errors import ForbiddenError
from sharpeyes.services.access import AccessService
from sharpeyes.services.accounts import User

API_PREFIX = "/api/v1"
CAMERA = "/api/v1/cameras/{camera_id}"
ROUTES: dict[tuple[str, str], str | None] = {
    ("POST", "/api/v1/auth/logout"): None,
    ("GET", "/api/v1/auth/me"): None,
    ("GET", "/api/v1/cameras"): "camera.view",
    ("POST", "/api/v1/cameras"): "camera.manage",
    ("POST", "/api/v1/cameras/import"): "camera.manage",
    ("GET", CAMERA): "camera.view",
    ("PATCH", CAMERA): "camera.manage",
    ("DELETE", CAMERA): "camera.manage",
    ("GET", f"{CAMERA}/analytics"): "camera.view",
    ("GET", f"{CAMERA}/snapshot.jpg"): "live.view",
    ("GET", f"{CAMERA}/health"): "camera.view",
    ("POST", f"{CAMERA}/quality"): "camera.manage",
    ("GET", f"{CAMERA}/recordings"): "playback.view",
    ("GET", f"{CAMERA}/playback.m3u8"): "playback.view",
    ("GET", f"{CAMERA}/device-playback/{{playback_id}}/init-{{generation}}.mp4"): "playback.view",
    ("GET", f"{CAMERA}/device-playback/{{playback_id}}/{{sequence}}.m4s"): "playback.view",
    ("POST", f"{CAMERA}/device-playback/{{playback_id}}/control"): "playback.view",
    ("GET", f"{CAMERA}/segments/{{segment_id}}/{{part}}"): "playback.view",
    ("GET", f"{CAMERA}/clip.mp4"): "playback.view",
    ("GET", f"{CAMERA}/live.m3u8"): "live.view",
    ("GET", f"{CAMERA}/live/init-{{generation}}.mp4"): "live.view",
    ("GET", f"{CAMERA}/live/{{sequence}}.m4s"): "live.view",
    ("POST", f"{CAMERA}/ptz"): "ptz.control",
    ("GET", f"{CAMERA}/privacy-masks"): "camera.view",
    ("PUT", f"{CAMERA}/privacy-masks"): "camera.manage",
    ("GET", "/api/v1/areas"): "camera.view",
    ("POST", "/api/v1/areas/import"): "camera.manage",
    ("GET", "/api/v1/areas/{code}"): "camera.view",
    ("GET", "/api/v1/sites"): "camera.view",
    ("POST", "/api/v1/sites/import"): "camera.manage",
    ("GET", "/api/v1/coverage"): "camera.view",
    ("GET", "/api/v1/coverage/history"): "camera.view",
    ("GET", "/api/v1/map/cameras"): "camera.view",
    ("GET", "/api/v1/events"): "camera.view",
    ("GET", "/api/v1/events/{event_id}/snapshot.jpg"): "camera.view",
    ("GET", "/api/v1/metrics"): "camera.manage",
    ("POST", "/api/v1/search"): "search.people",
    ("GET", "/api/v1/tracks/{track_id}/thumbnail.jpg"): "search.people",
    ("GET", "/api/v1/audit"): "audit.read",
    ("GET", "/api/v1/audit/verify"): "audit.read",
    ("POST", "/api/v1/exports"): "export.create",
    ("GET", "/api/v1/exports/{export_id}"): "export.create",
    ("GET", "/api/v1/exports/{export_id}/package.zip"): "export.create",
    ("GET", "/api/v1/gb/devices"): "device.manage",
    ("GET", "/api/v1/gb/devices/{device_id}/channels"): "device.manage",
    ("GET", "/api/v1/gb/devices/{device_id}/status"): "device.manage",
    ("POST", "/api/v1/gb/devices/{device_id}/catalog"): "device.manage",
    ("GET", "/api/v1/gb/superiors"): "device.manage",
    ("POST", "/api/v1/gb/superiors"): "device.manage",
    ("DELETE", "/api/v1/gb/superiors/{superior_id}"): "device.manage",
    ("GET", "/api/v1/users"): "user.manage",
    ("POST", "/api/v1/users"): "user.manage",
    ("PATCH", "/api/v1/users/{username}"): "user.manage",
    ("GET", "/api/v1/api-keys"): "user.manage",
    ("POST", "/api/v1/api-keys"): "user.manage",
    ("DELETE", "/api/v1/api-keys/{key_id}"): "user.manage",
}
"""(method, path) → the permission it needs; None: any signed-in user."""
ADMIN_ONLY = "user.manage"


def authorized(signed_in: Callable[..., User], access: AccessService) -> Callable[..., User]:
    """A dependency: the signed-in user (``signed_in`` says how the token comes), when the route's permission and,
    for a camera's route, the user's scope allow the request."""

    def authorize(request: Request, user: Annotated[User, Depends(signed_in)]) -> User:
        route: Any = request.scope.get("route")
        method = "GET" if request.method == "HEAD" else request.method
        path = str(getattr(route, "path", ""))  # the route's own, without the prefixes of the routers around it
        full = path if path.startswith(API_PREFIX) else API_PREFIX + path
        permission = ROUTES.get((method, full), ADMIN_ONLY)
        if permission is not None and not user.may(permission):
            raise ForbiddenError(f"the {user.role} role may not do this ({permission}) / 无此权限")
        camera_id = request.path_params.get("camera_id")
        if camera_id is not None:
            access.require_camera(user, str(camera_id))
        return user

    return authorize
