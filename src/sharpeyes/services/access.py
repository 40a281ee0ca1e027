"""Which cameras a user may see: all for unscoped roles (admin, auditor), else those named in the user's scope,
those at its sites, and those in its areas or below them. A camera outside it is answered like a missing one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.errors import ForbiddenError
from sharpeyes.services.accounts import User
from sharpeyes.services.areas import area_not_found
from sharpeyes.services.camera_rules import camera_not_found
from sharpeyes.store.areas import AreaRepository
from sharpeyes.store.cameras import CameraRepository

AREAS_FRESH_S = 30.0
"""How long the area tree is used from memory before it is read again."""


class AccessService:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._lock = threading.Lock()
        self._parents: dict[str, str | None] = {}
        self._read_s = float("-inf")

    def require(self, user: User, permission: str) -> None:
        if not user.may(permission):
            raise ForbiddenError(f"the {user.role} role may not do this ({permission}) / 无此权限")

    def require_camera(self, user: User, camera_id: str) -> None:
        """``camera_not_found`` (exactly as for a missing camera) unless the user may see it."""
        if not self.camera_visible(user, camera_id):
            raise camera_not_found(camera_id)

    def camera_visible(self, user: User, camera_id: str) -> bool:
        if not user.scoped or camera_id in user.scope_cameras:
            return True
        with self._sessions() as db:
            places = CameraRepository(db).places_of([camera_id])
        return camera_id in places and self._in_scope(user, camera_id, places[camera_id])

    def require_area(self, user: User, area_code: str) -> None:
        """``area_not_found`` (exactly as for a missing area) unless the area is within the user's scope areas:
        a scoped role sees coverage figures of its own areas (and those under them) only."""
        if user.scoped and not self._in_scope_areas(user, area_code):
            raise area_not_found(area_code)

    def visible_ids(self, user: User, camera_ids: Iterable[str]) -> set[str]:
        """Those of ``camera_ids`` the user may see."""
        ids = set(camera_ids)
        if not user.scoped:
            return ids
        with self._sessions() as db:
            places = CameraRepository(db).places_of(ids)
        return {c for c, place in places.items() if self._in_scope(user, c, place)}

    def all_visible(self, user: User) -> set[str] | None:
        """Every camera the user may see; None: all of them (an unscoped role)."""
        if not user.scoped:
            return None
        with self._sessions() as db:
            places = CameraRepository(db).places_of()
        return {c for c, place in places.items() if self._in_scope(user, c, place)}

    def _in_scope(self, user: User, camera_id: str, place: tuple[str | None, int | None]) -> bool:
        """Named in the scope, at one of its sites, or in one of its areas (or below)."""
        area_code, site_id = place
        return (
            camera_id in user.scope_cameras
            or (site_id is not None and site_id in user.scope_sites)
            or self._in_scope_areas(user, area_code)
        )

    def _in_scope_areas(self, user: User, area_code: str | None) -> bool:
        parents = self._area_parents()
        seen = 0
        while area_code is not None and seen < 16:  # a tree is a few levels deep; a cycle must not hang
            if area_code in user.scope_areas:
                return True
            area_code, seen = parents.get(area_code), seen + 1
        return False

    def _area_parents(self) -> dict[str, str | None]:
        with self._lock:
            if time.monotonic() - self._read_s < AREAS_FRESH_S:
                return self._parents
        with self._sessions() as db:
            parents = {area.code: area.parent_code for area in AreaRepository(db).all(with_boundaries=False)}
        with self._lock:
            self._parents, self._read_s = parents, time.monotonic()
        return parents
