"""Pages for people: staff accounts, public references of reports, citizens' +1s, photos published
on the public board with small copies for lists, and the service's settings.

Revision ID: 0004
Revises: 0003
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The alphabet of public references (api.reports.citizens.new_public_ref), repeated here: a migration
# never imports the application it migrates.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _ref() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def upgrade() -> None:
    """Create the tables, and give every stored report its public reference."""
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("unit_id", sa.String(64)),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "supports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id"), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reporter_contact", sa.String(200)),
        sa.Column("source", sa.String(16), nullable=False),
    )
    op.create_table(
        "public_photos",
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id"), primary_key=True),
        sa.Column("photo_id", sa.String(64), primary_key=True, index=True),
        sa.Column("kind", sa.String(8), nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    with op.batch_alter_table("photos") as batch:
        batch.add_column(sa.Column("thumb", sa.LargeBinary))
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("public_ref", sa.String(14)))
    reports = sa.table("reports", sa.column("id", sa.Integer), sa.column("public_ref", sa.String))
    connection = op.get_bind()
    ids = connection.execute(sa.select(reports.c.id)).scalars().all()
    for report_id in ids:
        connection.execute(reports.update().where(reports.c.id == report_id).values(public_ref=_ref()))
    with op.batch_alter_table("reports") as batch:
        batch.alter_column("public_ref", existing_type=sa.String(14), nullable=False)
        batch.create_unique_constraint("uq_reports_public_ref", ["public_ref"])


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("reports") as batch:
        batch.drop_constraint("uq_reports_public_ref", type_="unique")
        batch.drop_column("public_ref")
    with op.batch_alter_table("photos") as batch:
        batch.drop_column("thumb")
    op.drop_table("settings")
    op.drop_table("public_photos")
    op.drop_table("supports")
    op.drop_table("users")
