"""On LINE the 「くわしく」 part of a split answer is the message that follows
its head (the same Rasa answer as the web's), against the stand-in Rasa and
the fake LINE API with the real SDK client."""

from __future__ import annotations

import pytest

from tests.api.routes.test_line import SECRET, TOKEN, post, quick_actions, text_event, texts
from tests.fake_line import FakeLineServer
from tests.stand_in_rasa import PLAIN, SPLIT, StandInRasa, plain, split


@pytest.fixture
def fake_line():
    with FakeLineServer(TOKEN) as line:
        yield line


def line_settings(rasa: str, fake_line) -> dict:
    return {
        "RASA_URLS": [rasa],
        "ACTIONS_URL": rasa,
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_URL": fake_line.url,
    }


async def ask(gateway, fake_line, rasa: str, message: str):
    async with gateway(**line_settings(rasa, fake_line)) as client:
        resp = await post(client, [text_event(message)])
        assert resp.status_code == 200
        await client.app.state.line.drain()
    [reply] = fake_line.replies
    return reply


async def test_the_details_follow_the_head(gateway, fake_line):
    head, details, _ = split("unknown_number")
    with StandInRasa(topic=None) as rasa:
        reply = await ask(gateway, fake_line, rasa, SPLIT)
    assert reply.status == 200
    assert texts(reply) == [head, details]
    assert reply.body["messages"][0].get("quickReply") is None
    assert {"type": "uri", "label": "でんわんセンターに電話", "uri": "tel:0361621111"} in (
        quick_actions(reply)
    )


async def test_the_details_follow_the_head_of_an_answer_with_a_topic(gateway, fake_line):
    head, details, _ = split("unknown_number")
    with StandInRasa(topic="unknown_number") as rasa:
        reply = await ask(gateway, fake_line, rasa, SPLIT)
    assert texts(reply) == [head, details]
    assert any(a.get("data", "").startswith("feedback:") for a in quick_actions(reply))


async def test_an_answer_without_details_is_one_message(gateway, fake_line):
    text, _ = plain()
    with StandInRasa(topic=None) as rasa:
        reply = await ask(gateway, fake_line, rasa, PLAIN)
    assert texts(reply) == [text]
