"""The staff inbox: messages the bot did not understand well, kept for review
in the records database (staffops.records: the `inbox_items` table).

The gateway adds an item when a reply was a guess (low confidence), a
fallback, the second miss in a row, a misroute, an ambiguous reading, or when
the user said the answer did not help. Staff read the list and label each
item (`staffops.teach`), then resolve it. Items are kept: a resolved one
leaves the open list, not the database.

An item:

    {"id", "text" (masked), "channel": "web"|"line", "time" (ISO 8601, Japan time),
     "intents": [{"name", "confidence"}, ...] (top first), "bot_reply" (masked),
     "reason": one of REASONS, "topic": the top intent's name or None,
     "status": "open"|"resolved", and once resolved
     "resolved_by", "resolved_at", "resolution"}

`list` filters by staffops.inbox_groups.Filters (reason, channel, topic,
days in Japan time, words in the text) in the database.

Text and reply are masked again on `add` (soudan.masking), whatever the
caller did. Synchronous SQLAlchemy: from an async web app, call it in a thread.
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa

from soudan.masking import mask
from soudan.normalize import MAX_CHARS
from staffops import audit
from staffops.inbox_groups import Filters
from staffops.records import database
from staffops.records.tables import inbox_items

CHANNELS = {"web", "line"}
# Why an item is in the inbox, and the name staff read for it.
REASONS = {
    "low_confidence": "自信が低い回答",
    "fallback": "理解できなかった",
    "two_misses": "2回続けて理解できなかった",
    "feedback_negative": "「役に立たなかった」",
    "misroute": "違う話題に答えた可能性",
    "ambiguous": "読み取りが曖昧",
    "abandoned": "答えたあと会話が途切れた",
}
TOP_INTENTS = 5


class Inbox:
    def __init__(self, engine: sa.engine.Engine) -> None:
        self.engine = engine

    @classmethod
    def of(cls, root=None) -> Inbox:
        """The inbox of the project at `root` (its records database)."""
        from staffops.project import Project

        return cls(Project.at(root).records)

    def add(self, item: dict[str, Any]) -> dict[str, Any]:
        """Store an item (masked again here); the stored item with its id."""
        clean = _clean(item)
        row = {**clean, "time": database.to_utc(clean["time"])}
        with self.engine.begin() as conn:
            conn.execute(sa.insert(inbox_items).values(row))
        return clean

    def get(self, item_id: str) -> dict[str, Any] | None:
        query = sa.select(inbox_items).where(inbox_items.c.id == str(item_id))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _item(row) if row else None

    def list(
        self,
        *,
        include_resolved: bool = False,
        limit: int = 100,
        filters: Filters | None = None,
    ) -> list[dict[str, Any]]:
        """Items, newest first (open ones only unless include_resolved), those
        that match `filters` when given."""
        query = sa.select(inbox_items).order_by(inbox_items.c.time.desc(), inbox_items.c.id)
        if not include_resolved:
            query = query.where(inbox_items.c.status == "open")
        for condition in _conditions(filters or Filters()):
            query = query.where(condition)
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(max(1, limit))).mappings().all()
        return [_item(r) for r in rows]

    def resolve(
        self,
        item_id: str,
        *,
        who: str | None = None,
        resolution: str | dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Mark an item resolved (it leaves the open list; it is kept)."""
        values = {
            "status": "resolved",
            "resolved_by": (who or audit.default_who())[:100],
            "resolved_at": database.to_utc(),
            "resolution": resolution,
        }
        with self.engine.begin() as conn:
            done = conn.execute(
                sa.update(inbox_items).where(inbox_items.c.id == str(item_id)).values(values)
            )
        if not done.rowcount:
            raise KeyError(f"no inbox item {item_id!r}")
        found = self.get(item_id)
        assert found is not None
        return found

    def topics(self) -> list[str]:
        """The topics of the open items (for the staff page's topic filter)."""
        query = (
            sa.select(inbox_items.c.topic)
            .where(inbox_items.c.status == "open", inbox_items.c.topic.isnot(None))
            .distinct()
        )
        with self.engine.connect() as conn:
            return sorted(str(t) for t in conn.execute(query).scalars())

    def count(self) -> int:
        query = sa.select(sa.func.count()).select_from(inbox_items)
        with self.engine.connect() as conn:
            return int(conn.execute(query.where(inbox_items.c.status == "open")).scalar_one())


def _conditions(filters: Filters) -> list[Any]:
    found: list[Any] = []
    if filters.reason:
        found.append(inbox_items.c.reason == filters.reason)
    if filters.channel:
        found.append(inbox_items.c.channel == filters.channel)
    if filters.topic:
        found.append(inbox_items.c.topic == filters.topic)
    since, before = filters.since(), filters.before()
    if since:
        found.append(inbox_items.c.time >= database.to_utc(since))
    if before:
        found.append(inbox_items.c.time < database.to_utc(before))
    for word in filters.words:
        # Words come normalised (NFKC, lower case); the stored text is compared
        # in lower case (PostgreSQL's LIKE minds case), LIKE's own wildcards in
        # a word taken literally.
        found.append(sa.func.lower(inbox_items.c.text).contains(word.lower(), autoescape=True))
    return found


def _item(row) -> dict[str, Any]:
    item = {
        "id": row["id"],
        "text": row["text"],
        "channel": row["channel"],
        "time": database.to_jst(row["time"]),
        "intents": row["intents"] or [],
        "bot_reply": row["bot_reply"],
        "reason": row["reason"],
        "topic": row["topic"],
        "status": row["status"],
    }
    if row["status"] == "resolved":
        item.update(
            resolved_by=row["resolved_by"],
            resolved_at=database.to_jst(row["resolved_at"]),
            resolution=row["resolution"],
        )
    return item


def _clean(item: dict[str, Any]) -> dict[str, Any]:
    text = mask(str(item.get("text") or ""))[:MAX_CHARS]
    if not text.strip():
        raise ValueError("an inbox item needs a text")
    channel = item.get("channel", "web")
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {sorted(CHANNELS)}, not {channel!r}")
    reason = item.get("reason")
    if reason not in REASONS:
        raise ValueError(f"reason must be one of {sorted(REASONS)}, not {reason!r}")
    when = item.get("time") or audit.now()
    try:
        when = database.to_jst(database.to_utc(when))
    except (TypeError, ValueError):
        when = audit.now()
    intents = []
    for entry in (item.get("intents") or [])[:TOP_INTENTS]:
        name = entry.get("name") if isinstance(entry, dict) else entry[0]
        confidence = entry.get("confidence") if isinstance(entry, dict) else entry[1]
        intents.append({"name": str(name), "confidence": round(float(confidence or 0), 4)})
    item_id = str(item.get("id") or secrets.token_hex(6))
    if len(item_id) > 40 or not item_id.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"bad item id {item_id!r}")
    return {
        "id": item_id,
        "text": text,
        "channel": channel,
        "time": str(when),
        "intents": intents,
        "bot_reply": mask(str(item.get("bot_reply") or ""))[: MAX_CHARS * 4],
        "reason": reason,
        # The top intent, in a column of its own for the staff filter.
        "topic": intents[0]["name"][:100] if intents else None,
        "status": "open",
    }
