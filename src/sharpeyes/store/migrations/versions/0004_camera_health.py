"""Camera status history and health alerts.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_status_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_status_events")),
    )
    op.create_index("ix_camera_status_events_camera_id_at", "camera_status_events", ["camera_id", "at"], unique=False)
    op.create_table(
        "health_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_alerts")),
    )
    op.create_index("ix_health_alerts_camera_id_raised_at", "health_alerts", ["camera_id", "raised_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_health_alerts_camera_id_raised_at", table_name="health_alerts")
    op.drop_table("health_alerts")
    op.drop_index("ix_camera_status_events_camera_id_at", table_name="camera_status_events")
    op.drop_table("camera_status_events")
