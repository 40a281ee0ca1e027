"""Areas, sites, camera placement and daily coverage figures.

Camera names become unique per area instead of globally; a camera without a source is built but not networked.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "areas",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=12), nullable=True),
        sa.Column("boundary", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["parent_code"], ["areas.code"], name=op.f("fk_areas_parent_code_areas")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_areas")),
    )
    op.create_index(op.f("ix_areas_parent_code"), "areas", ["parent_code"], unique=False)
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["area_code"], ["areas.code"], name=op.f("fk_sites_area_code_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("area_code", "name", name=op.f("uq_sites_area_code")),
    )
    op.create_index(op.f("ix_sites_area_code"), "sites", ["area_code"], unique=False)
    op.create_table(
        "coverage_daily",
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cameras", sa.Integer(), nullable=False),
        sa.Column("networked", sa.Integer(), nullable=False),
        sa.Column("online", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("area_code", "day", name=op.f("pk_coverage_daily")),
    )
    with op.batch_alter_table("cameras") as batch:
        batch.alter_column("source_url", existing_type=sa.String(length=2000), nullable=True)
        batch.add_column(sa.Column("area_code", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("site_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch.drop_constraint("uq_cameras_name", type_="unique")
        batch.create_unique_constraint(op.f("uq_cameras_area_code"), ["area_code", "name"])
        batch.create_foreign_key(op.f("fk_cameras_area_code_areas"), "areas", ["area_code"], ["code"])
        batch.create_foreign_key(op.f("fk_cameras_site_id_sites"), "sites", ["site_id"], ["id"])
        batch.create_index(op.f("ix_cameras_name"), ["name"], unique=False)
        batch.create_index(op.f("ix_cameras_site_id"), ["site_id"], unique=False)
        batch.create_index("ix_cameras_area_code_source_url", ["area_code", "source_url"], unique=False)
        batch.create_index("ix_cameras_longitude_latitude", ["longitude", "latitude"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.drop_index("ix_cameras_longitude_latitude")
        batch.drop_index("ix_cameras_area_code_source_url")
        batch.drop_index(op.f("ix_cameras_site_id"))
        batch.drop_index(op.f("ix_cameras_name"))
        batch.drop_constraint(op.f("fk_cameras_site_id_sites"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_cameras_area_code_areas"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_cameras_area_code"), type_="unique")
        batch.create_unique_constraint("uq_cameras_name", ["name"])
        batch.drop_column("latitude")
        batch.drop_column("longitude")
        batch.drop_column("site_id")
        batch.drop_column("area_code")
        batch.alter_column("source_url", existing_type=sa.String(length=2000), nullable=False)
    op.drop_table("coverage_daily")
    op.drop_index(op.f("ix_sites_area_code"), table_name="sites")
    op.drop_table("sites")
    op.drop_index(op.f("ix_areas_parent_code"), table_name="areas")
    op.drop_table("areas")
