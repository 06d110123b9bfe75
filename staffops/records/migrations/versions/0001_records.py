"""The records: inbox items, feedback, the audit log, LINE dead letters, turns.

Revision ID: 0001_records
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_records"
down_revision = None
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inbox_items",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("time", TIME, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("bot_reply", sa.Text, nullable=False),
        sa.Column("intents", sa.JSON, nullable=False),
        sa.Column("resolved_by", sa.String(100)),
        sa.Column("resolved_at", TIME),
        sa.Column("resolution", sa.JSON),
    )
    op.create_index("ix_inbox_items_time", "inbox_items", ["time"])
    op.create_index("ix_inbox_items_status", "inbox_items", ["status"])

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("time", TIME, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("helpful", sa.Boolean, nullable=False),
    )
    op.create_index("ix_feedback_time", "feedback", ["time"])
    op.create_index("ix_feedback_topic", "feedback", ["topic"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("time", TIME, nullable=False),
        sa.Column("who", sa.String(100), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_log_time", "audit_log", ["time"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])

    op.create_table(
        "dead_letters",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("parked_at", TIME, nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("cleared_at", TIME),
        sa.Column("cleared_by", sa.String(100)),
    )
    op.create_index("ix_dead_letters_parked_at", "dead_letters", ["parked_at"])

    op.create_table(
        "turns",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("time", TIME, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("topic", sa.String(100)),
        sa.Column("intent", sa.String(100)),
        sa.Column("confidence", sa.Float),
        sa.Column("fallback", sa.Boolean, nullable=False),
        sa.Column("kind", sa.String(16)),
        sa.Column("scam_type", sa.String(64)),
        sa.Column("prefixes", sa.JSON),
        sa.Column("fallback_text", sa.Text),
    )
    op.create_index("ix_turns_time", "turns", ["time"])
    op.create_index("ix_turns_topic", "turns", ["topic"])


def downgrade() -> None:
    for table in ("turns", "dead_letters", "audit_log", "feedback", "inbox_items"):
        op.drop_table(table)
