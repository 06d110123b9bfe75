"""The append-only audit log of staff operations: chatbot/staff/audit.jsonl.

One JSON object per line: `time` (ISO 8601, Japan time with its offset),
`who`, `action` and `details`. Written for every accepted change, refusal,
retraining, promotion and rollback. Lines are only ever appended (under an
exclusive lock, flushed to disk); nothing here rewrites the file.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from staffops.project import Project

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


def record(
    action: str, details: dict[str, Any], *, who: str | None = None, root=None
) -> dict[str, Any]:
    """Append one line and return it."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = {"time": now(), "who": who or default_who(), "action": action, "details": details}
    line = json.dumps(entry, ensure_ascii=False, default=str, sort_keys=False) + "\n"
    path = Project.at(root).audit_log
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    return entry


def read(root=None, limit: int | None = None) -> list[dict[str, Any]]:
    """The entries, oldest first (the last `limit` ones when given)."""
    path: Path = Project.at(root).audit_log
    if not path.is_file():
        return []
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return entries[-limit:] if limit else entries
