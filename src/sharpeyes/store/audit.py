"""The audit log: appended to as a hash chain (each row holds the previous row's hash), each row anchored by a
signature of the platform's key, read by auditors and by the verifier."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sharpeyes.core.audit import GENESIS, AuditEntry, as_stored, entry_hash
from sharpeyes.core.clock import as_utc
from sharpeyes.store.models import AuditAnchorRow, AuditRow

BATCH = 5_000


class AuditRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def append(self, entry: AuditEntry) -> AuditEntry:
        """Add ``entry`` after the last row; the stored entry (seq, hashes). Two writers racing for the same place
        fail on the unique ``seq``: the loser tries again in a new transaction."""
        last = self._db.execute(select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)).first()
        seq, previous = (last[0] + 1, last[1]) if last is not None else (1, GENESIS)
        stored = AuditEntry(entry.at, entry.username, entry.action, entry.outcome, as_stored(entry.data))
        digest = entry_hash(seq, previous, stored)
        row = AuditRow(seq=seq, at=entry.at, username=entry.username, action=entry.action, outcome=entry.outcome,
                       data=stored.data, prev_hash=previous, hash=digest)  # fmt: skip
        self._db.add(row)
        self._db.flush()
        return _entry(row)

    def anchor(self, seq: int, digest: str, signature: str, at: datetime) -> None:
        self._db.add(AuditAnchorRow(seq=seq, hash=digest, signature=signature, at=at))

    def chain(self) -> Iterator[AuditEntry]:
        """Every row in chain order (read in batches)."""
        after = 0
        while True:
            rows = list(
                self._db.scalars(select(AuditRow).where(AuditRow.seq > after).order_by(AuditRow.seq).limit(BATCH))
            )
            if not rows:
                return
            yield from (_entry(row) for row in rows)
            after = rows[-1].seq

    def anchors(self) -> Iterator[tuple[int, str, str]]:
        """(seq, hash, signature) of every anchor, in order."""
        after = -1
        while True:
            query = select(AuditAnchorRow).where(AuditAnchorRow.seq > after).order_by(AuditAnchorRow.seq).limit(BATCH)
            rows = list(self._db.scalars(query))
            if not rows:
                return
            yield from ((row.seq, row.hash, row.signature) for row in rows)
            after = rows[-1].seq

    def find(
        self,
        *,
        username: str | None = None,
        action: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Newest first."""
        query = select(AuditRow).order_by(AuditRow.seq.desc()).limit(limit)
        if username is not None:
            query = query.where(AuditRow.username == username)
        if action is not None:
            query = query.where(AuditRow.action == action)
        if start is not None:
            query = query.where(AuditRow.at >= start)
        if end is not None:
            query = query.where(AuditRow.at < end)
        return [_entry(row) for row in self._db.scalars(query)]

    def recent(self, action: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Newest first."""
        return self.find(action=action, limit=limit)


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(as_utc(row.at), row.username, row.action, row.outcome, row.data, row.id, row.seq,
                      row.prev_hash, row.hash)  # fmt: skip
