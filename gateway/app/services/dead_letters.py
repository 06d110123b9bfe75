"""Dead letters: LINE events the gateway acknowledged but could not handle.

An event of a type the LINE SDK does not know, a signed but malformed event
(a text that is null, a user source without a user id), or one that failed
LINE_MAX_ATTEMPTS times is not retried again: it is parked here, for staff
to see on /admin/line/dead-letters, and dropped from the pending events.

A record holds what staff need and nothing that identifies the person: the
event's type and id, when it arrived and was parked, why, how many tries,
and the text or postback data masked by soudan.masking. No LINE user id.

They are kept in the records database (staffops.records: `dead_letters`),
so a Redis restart loses none; the page lists those of the last
DEAD_LETTER_TTL_DAYS days that staff have not cleared (clearing keeps the row).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import sqlalchemy as sa

from staffops.records import dead_letters as stored

log = logging.getLogger(__name__)

Record = dict[str, Any]


class DeadLetters:
    """Never raises: parking an event must not fail the event's task."""

    def __init__(self, engine: sa.engine.Engine, *, ttl_days: float = 30) -> None:
        self.engine = engine
        self.ttl_days = ttl_days

    async def add(self, record: Record) -> Record | None:
        try:
            return await asyncio.to_thread(stored.add, self.engine, record)
        except Exception:
            log.exception("a dead letter could not be stored")
            return None

    async def list(self, limit: int = 200) -> list[Record]:
        return await asyncio.to_thread(stored.listed, self.engine, limit, self.ttl_days)

    async def remove(self, record_id: str, who: str | None = None) -> bool:
        return await asyncio.to_thread(stored.clear, self.engine, record_id, who)
