"""The records' tables, defined once (alembic's revisions create the same).

Times are stored in UTC (SQLite keeps no offset: a naive time read back is
UTC); `database.to_jst` turns them into the Japan time staff read. No
column holds unmasked text: texts are masked by soudan.masking before they
are written.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# What the bot did not understand well, for staff to label (staffops.inbox).
inbox_items = sa.Table(
    "inbox_items",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("time", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("channel", sa.String(8), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("text", sa.Text, nullable=False),  # masked
    sa.Column("bot_reply", sa.Text, nullable=False),  # masked
    sa.Column("intents", sa.JSON, nullable=False),  # [{"name", "confidence"}], top first
    # The top intent's name (revision 0002): what staff filter the inbox by.
    sa.Column("topic", sa.String(100), index=True),
    sa.Column("resolved_by", sa.String(100)),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("resolution", sa.JSON),
)

# One row per 「役に立った」/「役に立たなかった」 (counts are sums over rows).
feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("time", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("channel", sa.String(8), nullable=False),
    sa.Column("topic", sa.String(100), nullable=False, index=True),
    sa.Column("helpful", sa.Boolean, nullable=False),
)

# Every staff operation (staffops.audit): rows are only ever inserted.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("time", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("who", sa.String(100), nullable=False),
    sa.Column("action", sa.String(32), nullable=False, index=True),
    sa.Column("details", sa.JSON, nullable=False),
)

# LINE events acknowledged but not handled (gateway: services/dead_letters.py).
# Staff clearing one sets cleared_at: the row stays.
dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("record", sa.JSON, nullable=False),  # type, reason, attempts, masked text
    sa.Column("cleared_at", sa.DateTime(timezone=True)),
    sa.Column("cleared_by", sa.String(100)),
)

# The masked log of each answered turn, for the center's analytics.
turns = sa.Table(
    "turns",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("time", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("channel", sa.String(8), nullable=False),
    sa.Column("topic", sa.String(100), index=True),
    sa.Column("intent", sa.String(100)),
    sa.Column("confidence", sa.Float),
    sa.Column("fallback", sa.Boolean, nullable=False),
    sa.Column("kind", sa.String(16)),  # answer, followup, fallback, urgent, ...
    sa.Column("scam_type", sa.String(64)),
    sa.Column("prefixes", sa.JSON),  # number beginnings asked about, e.g. ["0120"]
    # The message, masked, kept only when the bot fell back (what it missed).
    sa.Column("fallback_text", sa.Text),
)
