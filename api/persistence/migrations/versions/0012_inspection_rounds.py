"""Inspection rounds: checklist versions, rounds with their points and inspectors, the inspections
recorded, and the round a report (a failed item) came from.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables and the reports' round column."""
    op.create_table(
        "checklist_versions",
        sa.Column("version", sa.String(32), primary_key=True),
        sa.Column("rows", sa.JSON, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_checklist_versions_is_current", "checklist_versions", ["is_current"])
    op.create_table(
        "rounds",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("first_day", sa.Date, nullable=False),
        sa.Column("last_day", sa.Date, nullable=False),
        sa.Column("scope", sa.JSON, nullable=False),
        sa.Column("checklist_version", sa.String(32), nullable=False),
        sa.Column("layer_version", sa.String(32), nullable=False),
        sa.Column("unit_id", sa.String(64)),
        sa.Column("parent_id", sa.Integer),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "round_points",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("round_id", sa.Integer, sa.ForeignKey("rounds.id"), nullable=False),
        sa.Column("point_id", sa.String(64), nullable=False),
        sa.Column("point_type", sa.String(32), nullable=False),
        sa.Column("inspector", sa.String(64)),
        sa.Column("codes", sa.JSON),
        sa.UniqueConstraint("round_id", "point_id"),
    )
    op.create_index("ix_round_points_round_id", "round_points", ["round_id"])
    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("round_id", sa.Integer, sa.ForeignKey("rounds.id"), nullable=False),
        sa.Column("point_id", sa.String(64), nullable=False),
        sa.Column("inspector", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("accuracy_m", sa.Float),
        sa.Column("distance_m", sa.Float),
        sa.Column("far", sa.Boolean, nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("possible", sa.Float, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
    )
    op.create_index("ix_inspections_round_id", "inspections", ["round_id"])
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("round_id", sa.Integer))
    op.create_index("ix_reports_round_id", "reports", ["round_id"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_reports_round_id", "reports")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("round_id")
    for index, table in (("ix_inspections_round_id", "inspections"), ("ix_round_points_round_id", "round_points"),
                         ("ix_checklist_versions_is_current", "checklist_versions")):
        op.drop_index(index, table)
    for table in ("inspections", "round_points", "rounds", "checklist_versions"):
        op.drop_table(table)
