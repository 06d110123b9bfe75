"""The append-only audit log of staff operations, in the records database
(staffops.records: the `audit_log` table).

An entry: `time` (ISO 8601, Japan time with its offset), `who`, `action` and
`details`. Written for every accepted change, refusal, retraining,
promotion and rollback. Rows are only ever inserted: nothing here updates
or deletes one.
"""

from __future__ import annotations

import getpass
import os
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from staffops.project import Project
from staffops.records import database
from staffops.records.tables import audit_log

JST = timezone(timedelta(hours=9), "JST")

ACTIONS = {
    "label",  # an example added to an existing intent (or out_of_scope)
    "new_topic",  # a new intent with its examples, rule, domain entry and answer
    "refused",  # a change refused by a rule or by the validator (files restored)
    "retrain",  # a candidate model trained
    "retrain_failed",
    "promote",  # a model made live on the Rasa servers
    "promote_refused",  # compare said no and no override reason was given
    "promote_failed",  # a server did not take the model (undone)
    "rollback",
    "inbox_resolve",
}


def default_who() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser() or "unknown"
    except Exception:  # no passwd entry in a container
        return "unknown"


def now() -> str:
    return datetime.now(JST).isoformat(timespec="seconds")


def _plain(value: Any) -> Any:
    """Details as JSON can hold them (paths and the like as text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def record(
    action: str, details: dict[str, Any], *, who: str | None = None, root=None
) -> dict[str, Any]:
    """Insert one entry and return it."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    when = database.to_utc()
    entry = {
        "time": database.to_jst(when),
        "who": (who or default_who())[:100],
        "action": action,
        "details": _plain(details),
    }
    with Project.at(root).records.begin() as conn:
        conn.execute(sa.insert(audit_log).values({**entry, "time": when}))
    return entry


def read(root=None, limit: int | None = None) -> list[dict[str, Any]]:
    """The entries, oldest first (the last `limit` ones when given)."""
    query = sa.select(audit_log).order_by(audit_log.c.id.desc())
    if limit:
        query = query.limit(limit)
    with Project.at(root).records.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        {
            "time": database.to_jst(r["time"]),
            "who": r["who"],
            "action": r["action"],
            "details": r["details"],
        }
        for r in reversed(rows)
    ]
