"""Reply templates (常用回复): what dispatchers often write in an action's note, kept by the
district; a few common ones to start with.

Revision ID: 0011
Revises: 0010
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

STARTERS = [
    ("reject", "不属于城市管理事项，已告知反映人向相关部门反映"),
    ("reject", "照片和描述无法确认问题，请补充清晰照片后重新反映"),
    ("reject", "位置不在本区范围内"),
    ("rework", "整改不彻底，请按标准重新整改，并上传整改后同一角度的照片"),
    ("rework", "整改照片与问题位置不符，请重新拍摄"),
    ("overrule", "经核实该位置在贵单位责任区内，请按期整改"),
    ("hold", "涉及多个部门，待专题协调后处理"),
    ("refuse_extension", "该问题可在原时限内完成，请按期整改"),
    ("publish", "已整改完毕，感谢您的反映"),
]


def upgrade() -> None:
    """Create the table and add the starters."""
    table = op.create_table(
        "reply_templates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_reply_templates_action", "reply_templates", ["action"])
    stamp = datetime.now(UTC)
    op.bulk_insert(table, [{"action": action, "text": text, "created_by": "zonemap", "created_at": stamp} for action, text in STARTERS])


def downgrade() -> None:
    """Drop the table."""
    op.drop_index("ix_reply_templates_action", "reply_templates")
    op.drop_table("reply_templates")
