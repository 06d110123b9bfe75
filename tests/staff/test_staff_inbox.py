"""The staff inbox in the records database: on the project's SQLite file and on
the machine's PostgreSQL (127.0.0.1:5432, a database of the test's own,
created and dropped: staffops.records.scratch)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import sqlalchemy as sa
from staffkit import ROOT

from staffops import audit, teach
from staffops.inbox import Inbox
from staffops.records import database
from staffops.records.scratch import scratch_database
from staffops.records.tables import inbox_items


@pytest.fixture(scope="module")
def postgres_url():
    with scratch_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def inbox(request, project):
    if request.param == "sqlite":
        yield Inbox(project.records)
        return
    url = request.getfixturevalue("postgres_url")
    engine = database.connect(url)
    with engine.begin() as conn:
        conn.execute(sa.delete(inbox_items))
    yield Inbox(engine)


def item(**fields) -> dict:
    return {
        "text": "知らない番号から電話",
        "channel": "web",
        "reason": "low_confidence",
        "intents": [{"name": "faq/unknown_number", "confidence": 0.41}],
        "bot_reply": "こちらはでんわんセンターです",
        **fields,
    }


def test_add_list_get_resolve(inbox):
    first = inbox.add(item(text="一件目", time="2026-11-24T10:00:00+09:00"))
    second = inbox.add(
        item(
            text="二件目",
            channel="line",
            reason="two_misses",
            time="2026-11-24T11:00:00+09:00",
            intents=[("nlu_fallback", 0.9), ("out_of_scope", 0.05)],
        )
    )
    assert [i["id"] for i in inbox.list()] == [second["id"], first["id"]]  # newest first
    assert inbox.count() == 2
    assert inbox.get(second["id"])["intents"] == [
        {"name": "nlu_fallback", "confidence": 0.9},
        {"name": "out_of_scope", "confidence": 0.05},
    ]
    assert inbox.get(first["id"]) == first and first["status"] == "open"
    assert first["time"] == "2026-11-24T10:00:00+09:00"

    resolved = inbox.resolve(first["id"], who="sato", resolution={"intent": "greet"})
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == "sato"
    assert resolved["resolved_at"].endswith("+09:00")
    assert [i["id"] for i in inbox.list()] == [second["id"]]
    assert {i["id"] for i in inbox.list(include_resolved=True)} == {first["id"], second["id"]}
    assert inbox.get(first["id"])["resolution"] == {"intent": "greet"}
    assert inbox.get("nope") is None
    with pytest.raises(KeyError):
        inbox.resolve("nope")


def test_misroutes_and_ambiguous_readings_are_reasons_too(inbox):
    for reason in ("misroute", "ambiguous"):
        assert inbox.get(inbox.add(item(reason=reason))["id"])["reason"] == reason


def test_add_masks_again_and_checks_fields(inbox):
    stored = inbox.add(
        item(
            text="田中様の携帯０９０－１２３４－５６７８とtaro@example.jpに連絡して",
            bot_reply="090-1234-5678は携帯電話の番号です。でんわんセンター 03-6162-1111",
        )
    )
    assert stored["text"] == "〈名前〉様の携帯〈電話番号〉と〈メール〉に連絡して"
    assert stored["bot_reply"] == "〈電話番号〉は携帯電話の番号です。でんわんセンター 03-6162-1111"
    with inbox.engine.connect() as conn:
        row = conn.execute(sa.select(inbox_items).where(inbox_items.c.id == stored["id"])).one()
    raw = json.dumps([str(v) for v in row], ensure_ascii=False)
    assert "1234" not in raw and "taro" not in raw
    for bad in ({"channel": "sms"}, {"reason": "bored"}, {"text": " "}, {"id": "a b"}):
        with pytest.raises(ValueError):
            inbox.add(item(**bad))


def test_cli_lists_shows_and_labels(project):
    inbox = Inbox.of(project)
    added = inbox.add(item(text="CLIで見る一件、知らない番号から着信があった"))

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "staffops", "--root", str(project.root), "--json", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        )

    listed = cli("inbox", "list")
    assert listed.returncode == 0, listed.stderr
    assert [i["text"] for i in json.loads(listed.stdout)] == [added["text"]]
    shown = json.loads(cli("inbox", "show", added["id"]).stdout)
    assert shown["id"] == added["id"]

    # Labelling an item (in a copy of the project) resolves it.
    labelled = cli("label", added["id"], "--intent", "faq/unknown_number")
    assert labelled.returncode == 0, labelled.stderr
    assert ("faq/unknown_number", added["text"]) in teach.read_examples(project.staff_nlu)
    assert inbox.get(added["id"])["status"] == "resolved"
    assert inbox.get(added["id"])["resolution"] == {
        "action": "label",
        "intent": "faq/unknown_number",
    }
    assert json.loads(cli("inbox", "list").stdout) == []
    entry = audit.read(project)[-1]
    assert entry["action"] == "label" and entry["details"]["inbox_id"] == added["id"]


def test_cli_takes_a_database_url(project, postgres_url):
    """--database-url: the inbox and the audit log of the command go there."""
    added = Inbox(database.connect(postgres_url)).add(item(text="PostgreSQLの一件"))
    done = subprocess.run(
        [
            *(sys.executable, "-m", "staffops", "--root", str(project.root)),
            *("--database-url", postgres_url, "--who", "cli", "--json"),
            *("inbox", "resolve", added["id"], "--note", "見た"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert Inbox(database.connect(postgres_url)).get(added["id"])["status"] == "resolved"
    pg_project = type(project)(project.root, postgres_url)
    assert audit.read(pg_project)[-1]["action"] == "inbox_resolve"
    assert all(e["action"] != "inbox_resolve" for e in audit.read(project))
