"""Extensions and holds: the deadline a unit asks for while it waits for the answer, a held
report's review date, and the date each step set (a deadline, an extension asked for, a review).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the columns (empty on the reports and steps stored so far)."""
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("extension_until", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("review_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("transitions") as batch:
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    """Drop the columns."""
    with op.batch_alter_table("transitions") as batch:
        batch.drop_column("due_at")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("review_at")
        batch.drop_column("extension_until")
