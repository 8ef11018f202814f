"""The zone layer's lifecycle: drafts a planner uploads and revises before publishing, and the
list of publications (who made which version current, when, why; rollbacks are publications too).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables of drafts and publications."""
    op.create_table(
        "layer_drafts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("based_on", sa.String(32), nullable=False),
        sa.Column("gpkg", sa.LargeBinary, nullable=False),
        sa.Column("categories_csv", sa.Text, nullable=False),
        sa.Column("units_csv", sa.Text),
        sa.Column("sources", sa.Text, nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("accepted_gaps", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "layer_publications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(32), nullable=False, index=True),
        sa.Column("previous_version", sa.String(32)),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("draft_id", sa.Integer, sa.ForeignKey("layer_drafts.id")),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("published_by", sa.String(100), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("affected", sa.JSON, nullable=False),
        sa.Column("reassigned", sa.JSON),
        sa.Column("reassigned_by", sa.String(100)),
        sa.Column("reassigned_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("layer_publications")
    op.drop_table("layer_drafts")
