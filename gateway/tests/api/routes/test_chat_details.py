"""An answer in two parts (CONTRACTS.md: head, details, `meta.details`) through
/api/chat, against the stand-in Rasa: one message with its `details`, kept in
the history, whole in the staff inbox; answers without details unchanged."""

from __future__ import annotations

import pytest

from tests.helpers import say
from tests.stand_in_rasa import PLAIN, SPLIT, StandInRasa, plain, split


@pytest.fixture
def stand_in():
    with StandInRasa(review="low_confidence") as url:
        yield url


async def test_a_split_answer_is_one_message_with_its_details(gateway, stand_in):
    head, details, buttons = split("unknown_number")
    async with gateway(RASA_URLS=[stand_in], ACTIONS_URL=stand_in) as client:
        resp = await say(client, SPLIT)
        assert resp.status_code == 200
        body = resp.json()
        assert body["status"] == "ok"
        assert body["messages"] == [{"text": head, "buttons": buttons, "details": details}]
        assert body["topic"] == "unknown_number"
        # the history shows it the same way after a reload
        history = (await client.get("/api/history")).json()["messages"]
        assert history[-1] == {"role": "bot", "text": head, "buttons": buttons, "details": details}
        # staff see the whole answer, details included (masked, as always)
        items = [i for i in await client.app.state.review.items() if i["text"] == SPLIT]
        assert len(items) == 1
        assert head.splitlines()[0] in items[0]["bot_reply"]
        assert "【相談先】" in details and "【相談先】" in items[0]["bot_reply"]


async def test_an_answer_without_details_is_as_before(gateway, stand_in):
    text, buttons = plain()
    async with gateway(RASA_URLS=[stand_in], ACTIONS_URL=stand_in) as client:
        body = (await say(client, PLAIN)).json()
        assert body["messages"] == [{"text": text, "buttons": buttons}]  # as before details
        history = (await client.get("/api/history")).json()["messages"]
        assert history[-1] == {"role": "bot", "text": text, "buttons": buttons}


async def test_the_schema_documents_details(gateway):
    async with gateway() as client:
        schema = (await client.get("/api/openapi.json")).json()["components"]["schemas"]
    for model in ("BotMessage", "HistoryEntry"):
        details = schema[model]["properties"]["details"]
        assert {"type": "string"} in details["anyOf"] and {"type": "null"} in details["anyOf"]
        assert "くわしく" in details["description"]
        assert "details" not in schema[model].get("required", [])
