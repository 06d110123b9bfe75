"""The inbox item's topic: its top intent, a column of its own for the staff filter.

Revision ID: 0002_inbox_topic
Revises: 0001_records
Create Date: 2026-12-01

Filtering the inbox by topic on the JSON `intents` column would need a
different JSON query on SQLite and PostgreSQL; a plain indexed column is the
same on both. Existing rows get the top intent of their `intents`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_inbox_topic"
down_revision = "0001_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("inbox_items", sa.Column("topic", sa.String(100)))
    op.create_index("ix_inbox_items_topic", "inbox_items", ["topic"])
    items = sa.table(
        "inbox_items",
        sa.column("id", sa.String),
        sa.column("intents", sa.JSON),
        sa.column("topic", sa.String),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(items.c.id, items.c.intents)).all()
    for item_id, intents in rows:
        top = (intents or [{}])[0]
        name = top.get("name") if isinstance(top, dict) else None
        if name:
            conn.execute(
                sa.update(items).where(items.c.id == item_id).values(topic=str(name)[:100])
            )


def downgrade() -> None:
    # batch mode: SQLite before 3.35 cannot drop a column; alembic copies the table.
    with op.batch_alter_table("inbox_items") as batch:
        batch.drop_index("ix_inbox_items_topic")
        batch.drop_column("topic")
