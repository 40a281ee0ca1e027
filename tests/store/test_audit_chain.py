"""A trail written before the audit log was chained: the migration chains its rows in the order they were written
(unsigned: the key signs from then on), and the trail verifies; tampering with an old row is still caught."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from sharpeyes.services.audit_log import AuditTrail
from sharpeyes.store.database import create_db_engine, migrate, session_factory
from sharpeyes.store.keys import PlatformKey

INSERT = sa.text(
    "INSERT INTO audit_log (at, username, action, outcome, data) VALUES (:at, :who, 'search', 'ok', :data)"
)


def test_rows_from_before_the_chain_are_chained_in_order(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0010")
    with engine.begin() as connection:
        for number, who in enumerate(("alice", "bob", "carol"), start=1):
            values = {"at": datetime(2026, 11, 1, 8, number, tzinfo=UTC), "who": who, "data": f'{{"n": {number}}}'}
            connection.execute(INSERT, values)
    migrate(engine)
    trail = AuditTrail(session_factory(engine), PlatformKey.load_or_create(tmp_path / "keys"), tmp_path / "head.json")
    check = trail.verify()
    assert (check.intact, check.records, check.anchors) == (True, 3, 0)
    trail.write("dave", "search", "ok", {"n": 4})
    check = trail.verify()
    assert (check.intact, check.records, check.anchors) == (True, 4, 1)
    assert [entry.username for entry in trail.find(limit=10)] == ["dave", "carol", "bob", "alice"]
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE audit_log SET username = 'eve' WHERE seq = 2"))
    assert trail.verify().problem == "record 2 was changed: it does not match its hash"
    engine.dispose()
