"""Migrate the records database: `python -m staffops.records upgrade|downgrade|current`;
bring in the audit log of older versions (a JSON-lines file): `import-audit [FILE]`.

The database is DATABASE_URL's, else the project's SQLite file (see database.py);
`--root` names the project (default: $STAFFOPS_ROOT or this checkout).
`make run` runs `upgrade` before the gateway starts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from alembic import command

from staffops.project import Project
from staffops.records import database, legacy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m staffops.records", description=__doc__)
    parser.add_argument("--root", help="the project tree (default: this checkout)")
    parser.add_argument("--database-url", help="default: $DATABASE_URL, else the SQLite file")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("upgrade", help="to the head revision").add_argument(
        "revision", nargs="?", default="head"
    )
    sub.add_parser("downgrade", help="to a revision (base: no tables)").add_argument(
        "revision", nargs="?", default="base"
    )
    sub.add_parser("current", help="the revision the database is at")
    sub.add_parser(
        "import-audit", help="insert an older chatbot/staff/audit.jsonl (then renamed .imported)"
    ).add_argument("file", nargs="?", help="default: the project's chatbot/staff/audit.jsonl")
    args = parser.parse_args(argv)
    project = Project.at(args.root)
    url = project.records_url(args.database_url)
    if args.command == "import-audit":
        path = Path(args.file) if args.file else project.staff_dir / "audit.jsonl"
        count = legacy.import_audit(database.connect(url), path)
        print(f"{count} audit entries imported from {path}", file=sys.stderr)
        return 0
    engine = database.create(url)
    try:
        if args.command == "upgrade":
            database.migrate(engine, args.revision)
        elif args.command == "downgrade":
            database.downgrade(engine, args.revision)
        else:
            with engine.connect() as conn:
                command.current(database.alembic_config(conn))
    finally:
        engine.dispose()
    print(f"records database: {engine.url.render_as_string(hide_password=True)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
