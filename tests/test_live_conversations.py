"""Multi-turn conversations over REST (the spec also makes the `rasa test` stories).

The conversations of tests/conversations/spec.yml are played against the
real Rasa and action server, each in a conversation of its own. `rasa test`
checks their dialogue (the action after each intent) exactly; here the whole
replies are checked, and they depend on the model reading real messages:

- every urgent turn leads with 110, in any position (no exception);
- no reply carries a phone number the knowledge file lacks (a number the
  person typed, said back to them, is theirs, not a fact of the bot's);
- at least FLOOR of the turns carry what the spec says the reply must
  contain (chatbot/blind/tokens.yml), and every turn that misses is printed
  with its reply (these are the project's own conversations, for reading).
"""

from __future__ import annotations

import re
import sys
import uuid

import httpx
import pytest
import yaml
from phone_check import phone_like
from servers import ROOT

from soudan import knowledge as kb

sys.path.insert(0, str(ROOT / "scripts"))
from replies_eval import check, load_tokens

pytestmark = pytest.mark.live

SPEC = yaml.safe_load((ROOT / "tests" / "conversations" / "spec.yml").read_text(encoding="utf-8"))
# The share of turns whose reply must carry the spec's tokens (measured 0.93
# with the current model; a lower figure means the model or the answers got
# worse).
FLOOR = 0.9


@pytest.fixture(scope="module")
def played(rasa_url):
    """Every conversation played on the shared live stack (conftest.py)."""
    tokens, always = load_tokens()
    turns = []
    http = httpx.Client(timeout=30)
    for conversation in SPEC:
        sender = uuid.uuid4().hex
        said: list[str] = []
        for number, turn in enumerate(conversation["turns"], start=1):
            said.append(turn["say"])
            resp = http.post(
                f"{rasa_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": turn["say"]},
            )
            assert resp.status_code == 200, resp.text
            texts = [m["text"] for m in resp.json() if m.get("text")]
            turns.append(
                {
                    "where": f"{conversation['name']} / turn {number}: {turn['say']}",
                    "urgent": turn["intent"] == "crime_in_progress",
                    "texts": texts,
                    "said": list(said),
                    "problems": check(turn, "\n".join(texts), tokens, always),
                }
            )
    return turns


def test_every_urgent_turn_leads_with_110(played):
    urgent = [t for t in played if t["urgent"]]
    assert len(urgent) >= 10
    emergency = kb.hotline("police_emergency").number
    late = [t["where"] for t in urgent if emergency not in t["texts"][0].splitlines()[0]]
    assert late == []


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def test_no_reply_carries_an_unknown_number(played):
    known = {_digits(n) for n in kb.known_numbers()}
    unknown = {}
    for t in played:
        typed = {_digits(n) for n in phone_like("\n".join(t["said"]))}
        found = phone_like("\n".join(t["texts"]))
        unknown[t["where"]] = {n for n in found if _digits(n) not in known | typed}
    assert {k: v for k, v in unknown.items() if v} == {}
    # ... and the check does find a number that is in neither
    assert phone_like("03-1234-9999 へどうぞ") and "0312349999" not in known


def test_replies_carry_what_the_spec_says(played):
    missed = [t for t in played if t["problems"]]
    rate = 1 - len(missed) / len(played)
    for t in missed:
        print(f"MISS {t['where']}: {t['problems']}\n  {t['texts'][0][:120]!r}")
    print(f"turns: {len(played)}, right: {rate:.3f}")
    assert rate >= FLOOR, f"{rate:.3f} of {len(played)} turns carry what they must"
