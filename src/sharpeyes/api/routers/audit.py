"""The audit trail for auditors: who saw, searched, exported or moved what, and whether the trail is intact."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from sharpeyes.api.schemas.audit import AuditCheckOut, AuditRecordOut
from sharpeyes.api.schemas.common import PROBLEM_RESPONSES
from sharpeyes.core.errors import ForbiddenError
from sharpeyes.services.accounts import User
from sharpeyes.services.audit_log import AuditTrail

READERS = frozenset({"admin", "auditor"})


def audit_router(audit: AuditTrail, current_user: Callable[..., User]) -> APIRouter:
    router = APIRouter(prefix="/audit", tags=["audit"], responses=PROBLEM_RESPONSES)

    def reader(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role not in READERS:
            raise ForbiddenError("reading the audit trail needs the auditor role / 需要审计员角色")
        return user

    @router.get("")
    def records(
        _: Annotated[User, Depends(reader)],
        user: Annotated[str | None, Query(max_length=64, description="Who did it.")] = None,
        camera_id: Annotated[str | None, Query(max_length=64, description="Records naming this camera.")] = None,
        action: Annotated[str | None, Query(max_length=48, description="search, ptz, playback…")] = None,
        start: Annotated[datetime | None, Query(description="ISO 8601 with offset.")] = None,
        end: Annotated[datetime | None, Query(description="ISO 8601 with offset.")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[AuditRecordOut]:
        """Audit records, newest first (auditor and admin roles)."""
        found = audit.find(username=user, camera_id=camera_id, action=action, start=start, end=end, limit=limit)
        return [AuditRecordOut.of(entry) for entry in found]

    @router.get("/verify")
    def verify(_: Annotated[User, Depends(reader)]) -> AuditCheckOut:
        """Walk the whole trail now (as ``sharpeyes audit verify`` does): the first broken record, if any."""
        check = audit.verify()
        return AuditCheckOut(
            intact=check.intact, records=check.records, signed=check.anchors, problem=check.problem, seq=check.seq
        )

    return router
