"""The audit log becomes a hash chain (seq, prev_hash, hash; existing rows chained in id order) with signed anchors.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from sharpeyes.core.audit import GENESIS, AuditEntry, as_stored, entry_hash

revision = "0011"
down_revision: str | None = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as table:
        table.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        table.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        table.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    log = sa.table(
        "audit_log",
        sa.column("id", sa.Integer()),
        sa.column("seq", sa.BigInteger()),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("username", sa.String()),
        sa.column("action", sa.String()),
        sa.column("outcome", sa.String()),
        sa.column("data", sa.JSON()),
        sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
    )
    previous = GENESIS
    rows = bind.execute(sa.select(log).order_by(log.c.id)).mappings().all()
    for seq, row in enumerate(rows, start=1):
        entry = AuditEntry(_utc(row["at"]), row["username"], row["action"], row["outcome"], as_stored(_data(row)))
        digest = entry_hash(seq, previous, entry)
        bind.execute(log.update().where(log.c.id == row["id"]).values(seq=seq, prev_hash=previous, hash=digest))
        previous = digest
    with op.batch_alter_table("audit_log") as table:
        table.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        table.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        table.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        table.create_unique_constraint("uq_audit_log_seq", ["seq"])
    op.create_table(
        "audit_anchors",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_anchors")),
    )


def downgrade() -> None:
    op.drop_table("audit_anchors")
    with op.batch_alter_table("audit_log") as table:
        table.drop_constraint("uq_audit_log_seq", type_="unique")
        table.drop_column("hash")
        table.drop_column("prev_hash")
        table.drop_column("seq")


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _data(row: Any) -> dict[str, Any]:
    data = row["data"]
    return data if isinstance(data, dict) else {}
