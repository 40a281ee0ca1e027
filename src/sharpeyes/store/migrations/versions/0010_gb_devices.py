"""GB/T 28181 devices that registered, their catalogs, and the superior platforms this one registers with.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gb_devices",
        sa.Column("device_id", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("manufacturer", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("firmware", sa.String(length=64), nullable=False),
        sa.Column("transport", sa.String(length=3), nullable=False),
        sa.Column("address", sa.String(length=80), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_gb_devices")),
    )
    op.create_table(
        "gb_channels",
        sa.Column("device_id", sa.String(length=20), nullable=False),
        sa.Column("channel_id", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("parent_id", sa.String(length=200), nullable=False),
        sa.Column("civil_code", sa.String(length=20), nullable=False),
        sa.Column("business_group_id", sa.String(length=20), nullable=False),
        sa.Column("manufacturer", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ptz_type", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("device_id", "channel_id", name=op.f("pk_gb_channels")),
    )
    op.create_index("ix_gb_channels_device_id", "gb_channels", ["device_id"])
    op.create_table(
        "gb_superiors",
        sa.Column("superior_id", sa.String(length=20), nullable=False),
        sa.Column("domain", sa.String(length=10), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("transport", sa.String(length=3), nullable=False),
        sa.Column("password", sa.String(length=128), nullable=False),
        sa.Column("expires", sa.Integer(), nullable=False),
        sa.Column("keepalive_s", sa.Float(), nullable=False),
        sa.Column("camera_ids", sa.JSON(), nullable=False),
        sa.Column("area_codes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("superior_id", name=op.f("pk_gb_superiors")),
    )


def downgrade() -> None:
    op.drop_table("gb_superiors")
    op.drop_index("ix_gb_channels_device_id", table_name="gb_channels")
    op.drop_table("gb_channels")
    op.drop_table("gb_devices")
