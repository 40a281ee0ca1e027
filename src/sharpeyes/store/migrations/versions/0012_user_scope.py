"""Each user's scope: the areas (with their subtrees) and cameras their role applies to.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision: str | None = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.add_column(sa.Column("scope_areas", sa.JSON(), nullable=False, server_default="[]"))
        table.add_column(sa.Column("scope_cameras", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.drop_column("scope_cameras")
        table.drop_column("scope_areas")
