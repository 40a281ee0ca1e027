"""The events timeline.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=48), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(length=1000), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_at", "events", ["at"], unique=False)
    op.create_index("ix_events_camera_id_at", "events", ["camera_id", "at"], unique=False)
    op.create_index("ix_events_type_at", "events", ["type", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_events_type_at", table_name="events")
    op.drop_index("ix_events_camera_id_at", table_name="events")
    op.drop_index("ix_events_at", table_name="events")
    op.drop_table("events")
