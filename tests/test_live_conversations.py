"""Multi-turn conversations over REST (the spec also makes the `rasa test` stories).

Each conversation of tests/conversations/spec.yml is played against the real
Rasa and action server, in a conversation of its own; after each turn the
topic in context (the answer's meta) and the tokens the reply must contain
(chatbot/blind/tokens.yml) are checked, and an urgent turn must lead with 110.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import httpx
import pytest
import yaml
from servers import ROOT, running_assistant

sys.path.insert(0, str(ROOT / "scripts"))
from replies_eval import check, load_tokens

pytestmark = pytest.mark.live

SPEC = yaml.safe_load((ROOT / "tests" / "conversations" / "spec.yml").read_text(encoding="utf-8"))
WEEKDAY = "2026-12-02T14:00:00+09:00"


@pytest.fixture(scope="module")
def rasa_url():
    model = os.environ.get("MODEL")
    if not model or not Path(model).is_file():
        pytest.fail("MODEL must name a trained model (run `make test-live`)")
    logs = ROOT / "results" / "live-conversation-logs"
    with running_assistant(model, logs, now=WEEKDAY) as assistant:
        yield assistant.url


def say(url: str, sender: str, text: str) -> tuple[list[str], dict]:
    resp = httpx.post(
        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=30
    )
    assert resp.status_code == 200, resp.text
    texts, meta = [], {}
    for item in resp.json():
        if item.get("text"):
            texts.append(item["text"])
        if isinstance(item.get("custom"), dict):
            meta = item["custom"].get("meta") or meta
    return texts, meta


@pytest.mark.parametrize("conversation", SPEC, ids=[c["name"] for c in SPEC])
def test_conversation(rasa_url, conversation):
    tokens, always = load_tokens()
    sender = uuid.uuid4().hex
    for number, turn in enumerate(conversation["turns"], start=1):
        texts, meta = say(rasa_url, sender, turn["say"])
        where = f"turn {number}: {turn['say']}"
        assert texts, where
        problems = check(turn, "\n".join(texts), tokens, always)
        assert problems == [], (where, problems, texts)
        if "topic" in turn:
            assert meta.get("topic") == turn["topic"], (where, meta, texts[0])
        if turn["intent"] == "crime_in_progress":
            assert "110" in texts[0].splitlines()[0], (where, texts[0])
