"""Zone-layer versions uploaded by planners.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table of layer versions."""
    op.create_table(
        "layer_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(32), nullable=False, unique=True),
        sa.Column("gpkg", sa.LargeBinary, nullable=False),
        sa.Column("categories_csv", sa.Text, nullable=False),
        sa.Column("units_csv", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False, index=True),
        sa.Column("summary", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("layer_versions")
