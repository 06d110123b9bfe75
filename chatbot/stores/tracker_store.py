"""Tracker stores that keep only what the next turn needs, with an expiry.

A LINE user keeps one conversation for weeks, and Rasa's stores keep every
event: the Redis store reads, merges and rewrites the whole history on every
message, so a message cost ~25 CPU-ms at turn 8 and ~130 at turn 150. Here a
conversation holds one session only (Rasa's own sessions: after an hour of
silence the next message starts a new one, and older sessions are dropped),
and a session longer than ROLL_OVER_AT events rolls over into a fresh session
that carries the slots, the active form and the last turns. So the cost of a
message does not grow with the conversation's age, and the stores keep no
more of what people wrote than the next turn needs (issue 16: with an
expiry, `record_exp`).

- `BoundedRedisTrackerStore`: with Redis (several Rasa processes); the key
  expires `record_exp` seconds after the last message.
- `BoundedSQLTrackerStore`: without Redis, on an SQLite file by default
  (RASA_TRACKER_DB, or var/rasa-tracker.sqlite), so a restart loses no
  conversation and memory does not grow; rows older than `record_exp` are
  pruned at most hourly.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import RedisTrackerStore, SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
# A session rolls over once it holds this many events (about 15 turns) ...
ROLL_OVER_AT = 100
# ... keeping this many of its last events (about 4 turns).
KEEP_LAST = 24
WEEK = 7 * 24 * 3600


def last_session(events: list[Event]) -> list[Event]:
    """The events from the last `action_session_start` (or SessionStarted) on."""
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if isinstance(event, SessionStarted):
            start = index
            if (
                index > 0
                and isinstance(events[index - 1], ActionExecuted)
                and events[index - 1].action_name == ACTION_SESSION_START_NAME
            ):
                start = index - 1
            return events[start:]
    return events


def rolled_over(tracker: DialogueStateTracker) -> list[Event]:
    """A fresh session holding the slots, the active form and the last turns.

    The tail starts at a turn boundary (an `action_listen`), so the rules see
    whole turns; every event gets a new timestamp after the new session's
    start, which is how the SQL store finds the latest session.
    """
    events = list(tracker.events)
    tail = events[-KEEP_LAST:]
    for index, event in enumerate(tail):
        if isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME:
            tail = tail[index:]
            break
    now = time.time()
    head: list[Event] = [
        ActionExecuted(ACTION_SESSION_START_NAME, timestamp=now),
        SessionStarted(timestamp=now),
    ]
    for slot in tracker.slots.values():
        if slot.value != slot.initial_value:
            head.append(SlotSet(slot.name, slot.value, timestamp=now))
    if tracker.active_loop_name and not any(isinstance(e, ActiveLoop) for e in tail):
        head.append(ActiveLoop(tracker.active_loop_name, timestamp=now))
    rolled = []
    for offset, event in enumerate([*head[2:], *tail], start=1):
        copy = Event.from_parameters(event.as_dict())
        copy.timestamp = now + offset * 1e-6
        rolled.append(copy)
    return head[:2] + rolled


def bounded_events(tracker: DialogueStateTracker) -> tuple[list[Event], bool]:
    """(the events to keep, whether the session rolled over)."""
    events = last_session(list(tracker.events))
    if len(events) > ROLL_OVER_AT:
        return rolled_over(tracker), True
    return events, False


def _with_events(tracker: DialogueStateTracker, events: list[Event]) -> DialogueStateTracker:
    bounded = DialogueStateTracker.from_events(
        tracker.sender_id, events, slots=list(tracker.slots.values())
    )
    return bounded


class BoundedRedisTrackerStore(RedisTrackerStore):
    """Redis, one bounded session per conversation, expiring after `record_exp`."""

    def __init__(self, *args: Any, record_exp: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, record_exp=record_exp or WEEK, **kwargs)

    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:
        # Rasa's own save merges the stored history back in; this one writes
        # only the bounded session, so reading it stays as cheap at turn 300.
        await self.stream_events(tracker)
        events, _ = bounded_events(tracker)
        if len(events) != len(tracker.events):
            tracker = _with_events(tracker, events)
        self.red.set(
            self.key_prefix + tracker.sender_id,
            self.serialise_tracker(tracker),
            ex=timeout or self.record_exp,
        )


class BoundedSQLTrackerStore(SQLTrackerStore):
    """An SQL database (SQLite by default), one bounded session per conversation."""

    PRUNE_EVERY = 3600.0

    def __init__(
        self,
        *args: Any,
        dialect: str = "sqlite",
        db: str | None = None,
        record_exp: float | None = None,
        **kwargs: Any,
    ) -> None:
        if dialect == "sqlite":
            db = (
                db or os.environ.get("RASA_TRACKER_DB") or str(ROOT / "var" / "rasa-tracker.sqlite")
            )
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(*args, dialect=dialect, db=db or "rasa", **kwargs)
        self.record_exp = float(record_exp or WEEK)
        self._pruned_at = 0.0

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        events, rolled = bounded_events(tracker)
        with self.session_scope() as session:
            mine = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == tracker.sender_id)
            if rolled:
                # The new session replaces everything stored for this conversation.
                mine.delete(synchronize_session=False)
                new = events
            else:
                new = list(self._additional_events(session, tracker))
                started = [e.timestamp for e in new if isinstance(e, SessionStarted)]
                if started:
                    # A new session began: the earlier ones are never read again.
                    mine.filter(self.SQLEvent.timestamp < min(started)).delete(
                        synchronize_session=False
                    )
            for event in new:
                session.add(self._row(tracker.sender_id, event))
            session.commit()
        self._prune()

    def _row(self, sender_id: str, event: Event) -> Any:
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=(data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY)
            if isinstance(event, UserUttered)
            else None,
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    def _prune(self) -> None:
        """Forget conversations silent for longer than `record_exp` (at most hourly)."""
        now = time.time()
        if now - self._pruned_at < self.PRUNE_EVERY:
            return
        self._pruned_at = now
        with self.session_scope() as session:
            latest = (
                session.query(self.SQLEvent.sender_id)
                .group_by(self.SQLEvent.sender_id)
                .having(sa.func.max(self.SQLEvent.timestamp) < now - self.record_exp)
            )
            stale = [row[0] for row in latest.all()]
            if stale:
                session.query(self.SQLEvent).filter(self.SQLEvent.sender_id.in_(stale)).delete(
                    synchronize_session=False
                )
                session.commit()
                log.info("pruned %d silent conversations from the tracker store", len(stale))
