"""The audit log: appended to, read by auditors (the tamper-evident chain over it comes with accounts and roles)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sharpeyes.core.audit import AuditEntry
from sharpeyes.core.clock import as_utc
from sharpeyes.store.models import AuditRow


class AuditRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def add(self, entry: AuditEntry) -> int:
        row = AuditRow(
            at=entry.at, username=entry.username, action=entry.action, outcome=entry.outcome, data=entry.data
        )
        self._db.add(row)
        self._db.flush()
        return row.id

    def recent(self, action: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Newest first."""
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if action is not None:
            query = query.where(AuditRow.action == action)
        return [
            AuditEntry(as_utc(row.at), row.username, row.action, row.outcome, row.data, row.id)
            for row in self._db.scalars(query)
        ]
