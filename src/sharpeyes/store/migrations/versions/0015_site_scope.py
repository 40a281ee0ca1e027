"""Sites in users' and API keys' scopes.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision: str | None = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("users", "api_keys"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("scope_sites", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    for table in ("users", "api_keys"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("scope_sites")
