"""Writing one audit record (who did what, with which outcome and particulars), for the services that act on
cameras and devices."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.audit import AuditEntry
from sharpeyes.core.clock import utcnow
from sharpeyes.store.audit import AuditRepository


def write_audit(
    sessions: sessionmaker[Session], username: str, action: str, outcome: str, data: dict[str, Any]
) -> None:
    with sessions.begin() as db:
        AuditRepository(db).add(AuditEntry(utcnow(), username, action, outcome, data))
