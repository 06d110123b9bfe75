"""The staff inbox against a real Redis (127.0.0.1:6379, db 8, a random key prefix).

Marked `live` (it needs the Redis server). Only keys under this test's own
prefix are touched, and they are deleted at the end.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys

import pytest
import redis
from staffkit import ROOT

from staffops import audit, teach
from staffops.inbox import TTL_DAYS, Inbox

pytestmark = pytest.mark.live
REDIS_URL = "redis://127.0.0.1:6379/8"


@pytest.fixture
def inbox():
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    prefix = f"test:staffops:{secrets.token_hex(4)}:"
    yield Inbox(client, prefix=prefix)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)


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

    resolved = inbox.resolve(first["id"], who="sato", resolution={"intent": "greet"})
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == "sato"
    assert [i["id"] for i in inbox.list()] == [second["id"]]
    assert {i["id"] for i in inbox.list(include_resolved=True)} == {first["id"], second["id"]}
    assert inbox.get(first["id"])["resolution"] == {"intent": "greet"}
    assert inbox.get("nope") is None
    with pytest.raises(KeyError):
        inbox.resolve("nope")


def test_keys_live_under_the_prefix_and_expire(inbox):
    added = inbox.add(item())
    keys = set(inbox.redis.scan_iter(match=inbox.prefix + "*"))
    assert keys == {
        f"{inbox.prefix}inbox:item:{added['id']}",
        f"{inbox.prefix}inbox:open",
        f"{inbox.prefix}inbox:all",
    }
    for key in keys:
        assert 0 < inbox.redis.ttl(key) <= TTL_DAYS * 86400
    # An item that expired leaves the list (and its index entry goes).
    inbox.redis.delete(f"{inbox.prefix}inbox:item:{added['id']}")
    assert inbox.list() == []
    assert inbox.redis.zcard(f"{inbox.prefix}inbox:open") == 0


def test_add_masks_again_and_checks_fields(inbox):
    stored = inbox.add(
        item(
            text="田中様の携帯０９０－１２３４－５６７８とtaro@example.jpに連絡して",
            bot_reply="090-1234-5678は携帯電話の番号です。でんわんセンター 03-6162-1111",
        )
    )
    assert stored["text"] == "〈名前〉様の携帯〈電話番号〉と〈メール〉に連絡して"
    assert stored["bot_reply"] == "〈電話番号〉は携帯電話の番号です。でんわんセンター 03-6162-1111"
    raw = inbox.redis.get(f"{inbox.prefix}inbox:item:{stored['id']}")
    assert "1234" not in raw and "taro" not in raw
    for bad in ({"channel": "sms"}, {"reason": "bored"}, {"text": " "}, {"id": "a b"}):
        with pytest.raises(ValueError):
            inbox.add(item(**bad))


def test_cli_lists_shows_and_labels(inbox, project):
    added = inbox.add(item(text="CLIで見る一件、知らない番号から着信があった"))

    def cli(*args):
        return subprocess.run(
            [
                *(sys.executable, "-m", "staffops", "--redis-url", REDIS_URL),
                *("--prefix", inbox.prefix, "--json", *args),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )

    listed = cli("inbox", "list")
    assert listed.returncode == 0, listed.stderr
    assert [i["text"] for i in json.loads(listed.stdout)] == [added["text"]]
    shown = json.loads(cli("inbox", "show", added["id"]).stdout)
    assert shown["id"] == added["id"]

    # Labelling an item (in a copy of the project) resolves it.
    labelled = cli(
        "--root", str(project.root), "label", added["id"], "--intent", "faq/unknown_number"
    )
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
