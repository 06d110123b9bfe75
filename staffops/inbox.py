"""The staff inbox: messages the bot did not understand well, kept in Redis for review.

The gateway adds an item when a reply was a guess (low confidence), a
fallback, the second miss in a row, or when the user said the answer did not
help. Staff read the list and label each item (`staffops.teach`), then
resolve it.

An item:

    {"id", "text" (masked), "channel": "web"|"line", "time" (ISO 8601),
     "intents": [{"name", "confidence"}, ...] (top first), "bot_reply" (masked),
     "reason": "low_confidence"|"fallback"|"two_misses"|"feedback_negative",
     "status": "open"|"resolved", and once resolved "resolved_by",
     "resolved_at", "resolution"}

Keys, under the gateway's prefix (REDIS_KEY_PREFIX, default
`soudan:gateway:`), each expiring after `ttl_days` (30):

    <prefix>inbox:item:<id>   the item as JSON
    <prefix>inbox:open        sorted set of open item ids (score: time)
    <prefix>inbox:all         sorted set of every item id (score: time)

Text and reply are masked again on `add` (soudan.masking), whatever the
caller did. Synchronous redis-py: from an async web app, call it in a thread.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from datetime import datetime
from typing import Any

from soudan.masking import mask
from soudan.normalize import MAX_CHARS
from staffops import audit

CHANNELS = {"web", "line"}
REASONS = {"low_confidence", "fallback", "two_misses", "feedback_negative"}
DEFAULT_URL = "redis://127.0.0.1:6379/0"
DEFAULT_PREFIX = "soudan:gateway:"
TTL_DAYS = 30
TOP_INTENTS = 5


class Inbox:
    def __init__(
        self,
        client=None,
        *,
        url: str | None = None,
        prefix: str | None = None,
        ttl_days: float = TTL_DAYS,
    ):
        if client is None:
            import redis

            client = redis.Redis.from_url(
                url or os.environ.get("REDIS_URL") or DEFAULT_URL,
                decode_responses=True,
                socket_timeout=5,
            )
        self.redis = client
        self.prefix = (
            prefix if prefix is not None else os.environ.get("REDIS_KEY_PREFIX", DEFAULT_PREFIX)
        )
        self.ttl = int(ttl_days * 86400)

    # -- keys
    def _item_key(self, item_id: str) -> str:
        return f"{self.prefix}inbox:item:{item_id}"

    @property
    def _open_key(self) -> str:
        return f"{self.prefix}inbox:open"

    @property
    def _all_key(self) -> str:
        return f"{self.prefix}inbox:all"

    # -- operations
    def add(self, item: dict[str, Any]) -> dict[str, Any]:
        """Store an item (masked again here); the stored item with its id."""
        clean = _clean(item)
        score = _timestamp(clean["time"])
        pipe = self.redis.pipeline()
        pipe.set(self._item_key(clean["id"]), json.dumps(clean, ensure_ascii=False), ex=self.ttl)
        pipe.zadd(self._open_key, {clean["id"]: score})
        pipe.zadd(self._all_key, {clean["id"]: score})
        # Index entries older than the items' lifetime go.
        pipe.zremrangebyscore(self._open_key, "-inf", time.time() - self.ttl)
        pipe.zremrangebyscore(self._all_key, "-inf", time.time() - self.ttl)
        pipe.expire(self._open_key, self.ttl)
        pipe.expire(self._all_key, self.ttl)
        pipe.execute()
        return clean

    def get(self, item_id: str) -> dict[str, Any] | None:
        raw = self.redis.get(self._item_key(item_id))
        return json.loads(raw) if raw else None

    def list(self, *, include_resolved: bool = False, limit: int = 100) -> list[dict[str, Any]]:
        """Items, newest first (open ones only unless include_resolved)."""
        index = self._all_key if include_resolved else self._open_key
        ids = self.redis.zrevrange(index, 0, max(0, limit - 1))
        if not ids:
            return []
        raws = self.redis.mget([self._item_key(i) for i in ids])
        items, gone = [], []
        for item_id, raw in zip(ids, raws, strict=True):
            if raw is None:
                gone.append(item_id)  # expired
            else:
                items.append(json.loads(raw))
        if gone:
            self.redis.zrem(index, *gone)
        return items

    def resolve(
        self,
        item_id: str,
        *,
        who: str | None = None,
        resolution: str | dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Mark an item resolved (it leaves the open list; kept until it expires)."""
        item = self.get(item_id)
        if item is None:
            raise KeyError(f"no inbox item {item_id!r}")
        item.update(
            status="resolved",
            resolved_by=who or audit.default_who(),
            resolved_at=audit.now(),
            resolution=resolution,
        )
        ttl = self.redis.ttl(self._item_key(item_id))
        pipe = self.redis.pipeline()
        pipe.set(
            self._item_key(item_id),
            json.dumps(item, ensure_ascii=False),
            ex=ttl if ttl and ttl > 0 else self.ttl,
        )
        pipe.zrem(self._open_key, item_id)
        pipe.execute()
        return item

    def count(self) -> int:
        return int(self.redis.zcard(self._open_key))


def _timestamp(iso: str) -> float:
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return time.time()


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
    if isinstance(when, datetime):
        when = (when if when.tzinfo else when.astimezone()).isoformat(timespec="seconds")
    intents = []
    for entry in (item.get("intents") or [])[:TOP_INTENTS]:
        name = entry.get("name") if isinstance(entry, dict) else entry[0]
        confidence = entry.get("confidence") if isinstance(entry, dict) else entry[1]
        intents.append({"name": str(name), "confidence": round(float(confidence or 0), 4)})
    item_id = str(item.get("id") or secrets.token_hex(6))
    if not item_id.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"bad item id {item_id!r}")
    return {
        "id": item_id,
        "text": text,
        "channel": channel,
        "time": str(when),
        "intents": intents,
        "bot_reply": mask(str(item.get("bot_reply") or ""))[: MAX_CHARS * 4],
        "reason": reason,
        "status": "open",
    }


# The checks and masking `add` applies, for other stores of the same items
# (the gateway's in-memory inbox).
clean_item = _clean
