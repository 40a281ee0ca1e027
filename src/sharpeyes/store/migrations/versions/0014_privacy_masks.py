"""Privacy masks per camera.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision: str | None = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_masks",
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("polygons", sa.JSON(), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_privacy_masks_camera_id_cameras"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_privacy_masks")),
    )


def downgrade() -> None:
    op.drop_table("privacy_masks")
