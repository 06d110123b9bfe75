"""Feedback on answers: one row per 「役に立った」/「役に立たなかった」."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from staffops.records import database
from staffops.records.tables import feedback


def add(
    engine: sa.engine.Engine,
    topic: str,
    helpful: bool,
    channel: str = "web",
    when: datetime | str | None = None,
) -> None:
    row = {
        "time": database.to_utc(when),
        "channel": channel[:8],
        "topic": str(topic)[:100],
        "helpful": bool(helpful),
    }
    with engine.begin() as conn:
        conn.execute(sa.insert(feedback).values(row))


def counts(engine: sa.engine.Engine) -> dict[str, dict[str, int]]:
    """topic → {"helpful": n, "not_helpful": n}, topics sorted."""
    query = sa.select(feedback.c.topic, feedback.c.helpful, sa.func.count()).group_by(
        feedback.c.topic, feedback.c.helpful
    )
    found: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for topic, helpful, n in conn.execute(query):
            kind = "helpful" if helpful else "not_helpful"
            found.setdefault(topic, {"helpful": 0, "not_helpful": 0})[kind] = int(n)
    return dict(sorted(found.items()))
