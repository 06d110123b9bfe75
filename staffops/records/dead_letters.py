"""LINE dead letters in the records database (the gateway's services/dead_letters.py
decides what a record holds: no user id, the text masked)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from staffops.records import database
from staffops.records.tables import dead_letters


def add(engine: sa.engine.Engine, record: dict[str, Any]) -> dict[str, Any]:
    """Keep a record; it gains an `id` and `parked_at` (seconds since the epoch)."""
    parked = datetime.now(timezone.utc)
    record = {"id": secrets.token_hex(8), "parked_at": parked.timestamp(), **record}
    row = {"id": str(record["id"])[:40], "parked_at": parked, "record": record}
    with engine.begin() as conn:
        conn.execute(sa.insert(dead_letters).values(row))
    return record


def listed(engine: sa.engine.Engine, limit: int = 200, days: float = 30) -> list[dict[str, Any]]:
    """The records not cleared, parked in the last `days` days, newest first."""
    since = datetime.now(timezone.utc) - timedelta(days=days)
    query = (
        sa.select(dead_letters.c.record)
        .where(dead_letters.c.cleared_at.is_(None), dead_letters.c.parked_at >= since)
        .order_by(dead_letters.c.parked_at.desc())
        .limit(max(1, limit))
    )
    with engine.connect() as conn:
        return [dict(r) for (r,) in conn.execute(query)]


def clear(engine: sa.engine.Engine, record_id: str, who: str | None = None) -> bool:
    """Staff have seen it: it leaves the list (the row stays)."""
    query = (
        sa.update(dead_letters)
        .where(dead_letters.c.id == str(record_id)[:40], dead_letters.c.cleared_at.is_(None))
        .values(cleared_at=database.to_utc(), cleared_by=(who or None) and who[:100])
    )
    with engine.begin() as conn:
        return bool(conn.execute(query).rowcount)
