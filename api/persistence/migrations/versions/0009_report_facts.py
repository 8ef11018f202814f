"""A report's facts for the figures (`zones.figures.CaseFacts`): when a unit was first given it,
when its present unit's clock started, its rectifications, its verified fix and whether it came by
the deadline, how often it was sent back and extended; an index on the day it was received.

The reports stored so far get their facts from their history, working hours counted Monday to
Friday at the default hours (the district's calendar is the layer's, which a migration does not read).

Revision ID: 0009
Revises: 0008
"""

import itertools

import sqlalchemy as sa
from alembic import op

from zones.figures import FACT_COLUMNS, Step, facts_of
from zones.worktime import WorkCalendar

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    """Add the columns and the index, and fill the facts of the reports stored so far."""
    with op.batch_alter_table("reports") as batch:
        for name in ("dispatched_at", "clock_at", "rectified_at", "fixed_at"):
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("rectify_hours", sa.Float))
        batch.add_column(sa.Column("fixed_on_time", sa.Boolean))
        batch.add_column(sa.Column("reworks", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("extensions", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_reports_created", "reports", ["created_at"])
    connection = op.get_bind()
    steps = sa.table("transitions", sa.column("report_id"), sa.column("id"), sa.column("action"), sa.column("at", sa.DateTime(timezone=True)),
                     sa.column("unit_id"), sa.column("due_at", sa.DateTime(timezone=True)))
    reports = sa.table("reports", sa.column("id"), *(sa.column(name) for name in FACT_COLUMNS))
    calendar = WorkCalendar()
    rows = connection.execute(sa.select(steps.c.report_id, steps.c.action, steps.c.at, steps.c.unit_id, steps.c.due_at)
                              .order_by(steps.c.report_id, steps.c.id))
    updates = [{"report": report_id, **facts_of((Step(a, at, u, due) for _, a, at, u, due in group), calendar).as_row()}
               for report_id, group in itertools.groupby(rows, key=lambda row: row[0])]
    statement = sa.update(reports).where(reports.c.id == sa.bindparam("report")).values({name: sa.bindparam(name) for name in FACT_COLUMNS})
    for start in range(0, len(updates), BATCH):
        connection.execute(statement, updates[start:start + BATCH])


def downgrade() -> None:
    """Drop the index and the columns."""
    op.drop_index("ix_reports_created", "reports")
    with op.batch_alter_table("reports") as batch:
        for name in ("extensions", "reworks", "fixed_on_time", "rectify_hours", "fixed_at", "rectified_at", "clock_at", "dispatched_at"):
            batch.drop_column(name)
