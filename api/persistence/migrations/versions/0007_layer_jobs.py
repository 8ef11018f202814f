"""Layer uploads processed off the request threads: a draft is created at once, queued, and
claimed by a worker process that reads and validates it; the uploaded files wait in chunks.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add a draft's processing columns and the table of uploaded files' chunks."""
    with op.batch_alter_table("layer_drafts") as batch:
        batch.add_column(sa.Column("step", sa.String(16)))
        batch.add_column(sa.Column("problems", sa.JSON))
        batch.add_column(sa.Column("worker", sa.String(100)))
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("started_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("publish_note", sa.Text))
    op.create_table(
        "layer_upload_chunks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("draft_id", sa.Integer, sa.ForeignKey("layer_drafts.id"), nullable=False, index=True),
        sa.Column("field", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("part", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("layer_upload_chunks")
    with op.batch_alter_table("layer_drafts") as batch:
        for column in ("publish_note", "finished_at", "started_at", "attempts", "worker", "problems", "step"):
            batch.drop_column(column)
