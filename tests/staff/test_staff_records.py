"""The records' migrations and tables under SQLAlchemy 1.4 (this environment; the
gateway's tests run the same on 2.x): up to head, down to base, up again, on
SQLite and on a PostgreSQL database of the test's own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import sqlalchemy as sa
from staffkit import ROOT

from staffops import audit
from staffops.records import database, feedback, turns
from staffops.records.scratch import scratch_database
from staffops.records.tables import turns as turn_rows

TABLES = {"inbox_items", "feedback", "audit_log", "dead_letters", "turns"}


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.sqlite'}"
        return
    with scratch_database() as found:
        yield found


def tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade(url):
    engine = database.create(url)
    try:
        database.migrate(engine)
        assert tables(engine) == TABLES
        feedback.add(engine, "faq/unknown_number", True)
        database.downgrade(engine)
        assert tables(engine) == set()
        database.migrate(engine)
        assert tables(engine) == TABLES
        assert feedback.counts(engine) == {}  # the downgrade dropped the rows
        feedback.add(engine, "faq/unknown_number", False)
        assert feedback.counts(engine) == {"faq/unknown_number": {"helpful": 0, "not_helpful": 1}}
    finally:
        engine.dispose()


def test_the_command_line_migrates(url):
    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "staffops.records", "--database-url", url, *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )

    assert run("upgrade").returncode == 0
    current = run("current")
    assert current.returncode == 0 and "0002_inbox_topic (head)" in current.stdout, current.stderr
    assert run("downgrade", "base").returncode == 0
    engine = database.create(url)
    try:
        assert tables(engine) == set()
    finally:
        engine.dispose()


def test_a_turn_keeps_no_text_unless_it_fell_back(url):
    engine = database.connect(url)
    answered = turns.add(
        engine,
        channel="web",
        text="0120-444-444から電話があった",
        topic="faq/unknown_number",
        intents=[{"name": "faq/unknown_number", "confidence": 0.93}],
        kind="answer",
        prefixes=["0120"],
    )
    missed = turns.add(
        engine,
        channel="line",
        text="山田さんの090-1234-5678がぷぉぱ",
        intents=[{"name": "nlu_fallback", "confidence": 0.31}],
        kind="fallback",
        review="fallback",
    )
    assert answered["fallback_text"] is None and not answered["fallback"]
    assert missed["fallback"] and "1234" not in missed["fallback_text"]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(turn_rows)).mappings().all()
    assert [(r["channel"], r["intent"], r["fallback"]) for r in rows] == [
        ("web", "faq/unknown_number", False),
        ("line", "nlu_fallback", True),
    ]
    assert rows[0]["prefixes"] == ["0120"] and rows[0]["confidence"] == pytest.approx(0.93)
    assert "5678" not in str(list(rows[1].values()))
    database.forget(url)


def test_an_older_audit_log_file_is_imported_once(project):
    older = project.staff_dir / "audit.jsonl"
    older.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        {"time": "2026-11-20T10:00:00+09:00", "who": "sato", "action": "label", "details": {}},
        {"time": "2026-11-21T11:30:00+09:00", "who": "suzuki", "action": "retrain", "details": {}},
    ]
    older.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))

    def run():
        return subprocess.run(
            [sys.executable, "-m", "staffops.records", "--root", str(project.root), "import-audit"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )

    done = run()
    assert done.returncode == 0 and "2 audit entries" in done.stderr, done.stderr
    assert audit.read(project) == lines
    assert not older.exists() and older.with_name("audit.jsonl.imported").is_file()
    assert run().returncode == 0 and audit.read(project) == lines  # nothing twice
