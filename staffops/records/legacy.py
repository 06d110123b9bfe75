"""Records of older versions, brought into the records database once.

The audit log used to be a JSON-lines file (chatbot/staff/audit.jsonl): each
line becomes a row with its own time; the file is then renamed
`.imported`, so a second run imports nothing twice.
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from staffops.records import database
from staffops.records.tables import audit_log


def import_audit(engine: sa.engine.Engine, path: Path) -> int:
    """Insert the entries of an audit.jsonl; how many. A missing file: 0."""
    if not path.is_file():
        return 0
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        rows.append(
            {
                "time": database.to_utc(entry["time"]),
                "who": str(entry.get("who") or "unknown")[:100],
                "action": str(entry["action"])[:32],
                "details": entry.get("details") or {},
            }
        )
    with engine.begin() as conn:
        if rows:
            conn.execute(sa.insert(audit_log), rows)
    path.rename(path.with_name(path.name + ".imported"))
    return len(rows)
