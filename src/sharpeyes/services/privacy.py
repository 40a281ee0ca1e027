"""Privacy masks: kept per camera, painted into what every viewer sees (live, playback, clips, exports) unless one
whose role has ``mask.lift`` lifts them for one request — which is audited, as is every change to the masks. The
recording itself is never painted."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.clock import utcnow
from sharpeyes.core.errors import ForbiddenError
from sharpeyes.core.masks import MaskPolygon, checked_polygons
from sharpeyes.services.accounts import User
from sharpeyes.services.audit_log import AuditTrail
from sharpeyes.services.camera_rules import require_camera
from sharpeyes.store.privacy import PrivacyMaskRepository


class PrivacyService:
    def __init__(self, sessions: sessionmaker[Session], audit: AuditTrail) -> None:
        self._sessions = sessions
        self._audit = audit

    def masks(self, camera_id: str) -> tuple[MaskPolygon, ...]:
        with self._sessions() as db:
            require_camera(db, camera_id)
            return PrivacyMaskRepository(db).masks(camera_id)

    def set_masks(
        self, camera_id: str, polygons: Iterable[tuple[Sequence[Sequence[float]], str]], by: str
    ) -> tuple[MaskPolygon, ...]:
        """Replace the camera's masks (an empty list removes them); audited with the polygons."""
        checked = checked_polygons(polygons)
        with self._sessions.begin() as db:
            require_camera(db, camera_id)
            PrivacyMaskRepository(db).put(camera_id, checked, by, utcnow())
        shapes = [{"name": p.name, "points": [list(point) for point in p.points]} for p in checked]
        self._audit.write(by, "camera.masks", "ok", {"camera_id": camera_id, "masks": shapes})
        return checked

    def for_viewer(
        self, user: User, camera_id: str, *, lift: bool, via: str, reason: str | None = None, repeated: bool = False
    ) -> tuple[MaskPolygon, ...]:
        """The masks to paint into what ``user`` is about to see of the camera by ``via`` (live, playback, clip,
        export): all of them, or none when the user lifts them — which needs ``mask.lift`` and writes a
        ``mask.lift`` record (refusals too). ``repeated``: one of the many requests of a view (a playlist's
        segments), recorded once while the viewing lasts."""
        masks = self.masks(camera_id)
        if not lift or not masks:
            return masks
        particulars = {"camera_id": camera_id, "via": via, "reason": reason}
        if not user.may("mask.lift"):
            self._audit.write(user.username, "mask.lift", "refused", particulars)
            raise ForbiddenError(f"the {user.role} role may not lift privacy masks (mask.lift) / 无权解除隐私遮挡")
        if repeated:
            self._audit.viewed(user.username, "mask.lift", camera_id, particulars)
        else:
            self._audit.write(user.username, "mask.lift", "ok", particulars)
        return ()
