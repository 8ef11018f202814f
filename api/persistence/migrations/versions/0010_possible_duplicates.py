"""Possible duplicates: the open report of the same campaign group a new report came in close to,
and an index on when a report last changed (what each worker's index of open reports reads); an
index on steps by action and moment (a period's disputes, for the figures).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column and the indexes."""
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("possible_duplicate_of", sa.Integer))
    op.create_index("ix_reports_possible_duplicate_of", "reports", ["possible_duplicate_of"])
    op.create_index("ix_reports_updated", "reports", ["updated_at"])
    op.create_index("ix_transitions_action_at", "transitions", ["action", "at"])


def downgrade() -> None:
    """Drop the indexes and the column."""
    op.drop_index("ix_transitions_action_at", "transitions")
    op.drop_index("ix_reports_updated", "reports")
    op.drop_index("ix_reports_possible_duplicate_of", "reports")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("possible_duplicate_of")
