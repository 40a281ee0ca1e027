"""The rule zones a kept track entered, searchable ("在东门区域").

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tracks") as table:
        table.add_column(
            sa.Column("zones", sa.String(length=400), nullable=False, server_default=""),
        )


def downgrade() -> None:
    with op.batch_alter_table("tracks") as table:
        table.drop_column("zones")
