"""The turn service (app.services.turns) over a real records database and
Redis or this process's memory: the inbox item of a flagged turn, misroutes,
abandoned answers."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from app.core.config import Settings
from app.models import BotMessage
from app.services.rasa import Answer, Meta
from app.services.review import Review
from app.services.turns import Turns, is_misroute
from staffops.records import database
from tests.services.conftest import redis_down

QUESTION = "知らない番号から何回も電話がかかってきます"
INTENTS = [{"name": "faq/unknown_number", "confidence": 0.93}]


def answer(text: str = "でんわんセンターに相談できます。", **meta) -> Answer:
    fields = {"topic": "unknown_number", "intents": INTENTS, "kind": "answer", **meta}
    return Answer([BotMessage(text=text)], Meta(**fields))


@pytest.fixture
def records(tmp_path):
    url = f"sqlite:///{tmp_path / 'records.sqlite'}"
    engine = database.connect(url)
    yield engine
    database.forget(url)


def turns_over(shared, records, **kwargs) -> Turns:
    review = Review(Settings(REDIS_KEY_PREFIX=shared.prefix), shared, records)
    return Turns(review, shared, **{"abandoned_after": 0.2, **kwargs})


@pytest.fixture
def turns(any_shared, records) -> Turns:
    return turns_over(any_shared, records)


def cid() -> str:
    return secrets.token_urlsafe(32)


async def items(turns: Turns) -> list[dict]:
    return await turns.review.items()


async def test_a_flagged_turn_is_the_same_inbox_item_on_the_web_and_on_line(turns):
    flagged = answer(review="low_confidence")
    for channel in ("web", "line"):
        await turns.answered(channel=channel, conversation=cid(), text=QUESTION, answer=flagged)
    web, line = sorted(await items(turns), key=lambda i: i["channel"])[::-1]
    assert (web["channel"], line["channel"]) == ("web", "line")
    same = ("text", "reason", "intents", "bot_reply")
    assert {k: web[k] for k in same} == {k: line[k] for k in same}
    assert web["reason"] == "low_confidence" and web["text"] == QUESTION


@pytest.mark.parametrize("typed", ["役に立たなかった", "違う", "そうじゃなくて"])
async def test_a_misroute_typed_after_an_answer_puts_that_answer_into_the_inbox(turns, typed):
    conversation = cid()
    await turns.answered(channel="web", conversation=conversation, text=QUESTION, answer=answer())
    assert await items(turns) == []
    # The assistant flags 「違う」 itself; a typed 「役に立たなかった」 is not flagged.
    flag = None if typed == "役に立たなかった" else "misroute"
    reply = answer("すみません、どのようなことでお困りですか。", review=flag, topic=None)
    await turns.answered(channel="web", conversation=conversation, text=typed, answer=reply)
    [item] = await items(turns)
    assert item["reason"] == "misroute"
    # The answer that missed: its question, its reply, its intents (one item).
    assert item["text"] == QUESTION
    assert item["bot_reply"] == "でんわんセンターに相談できます。"
    assert item["intents"][0]["name"] == "faq/unknown_number"


async def test_a_misroute_without_an_answer_before_keeps_the_assistants_flag(turns):
    reply = answer("すみません。", review="misroute", topic=None)
    await turns.answered(channel="line", conversation=cid(), text="違う", answer=reply)
    [item] = await items(turns)
    assert (item["reason"], item["text"], item["channel"]) == ("misroute", "違う", "line")


def test_what_counts_as_a_misroute():
    for text in ("役に立たなかった", "役に立たない", "違う", "ちがいます", "そうじゃなくて…"):
        assert is_misroute(text), text
    for text in ("役に立った", "知らない番号", "違う番号からも電話が来た", "電話が違う"):
        assert not is_misroute(text), text
    # a question of its own that begins like a complaint
    for text in (
        "役に立たない情報商材を買ってしまった",
        "役に立たないアプリを入れろと言われた",
        "そうじゃないかと思うんですが、この電話は詐欺ですか",
    ):
        assert not is_misroute(text), text
    assert is_misroute("そうじゃなくて、SMSのことです")


async def test_one_miss_is_one_inbox_item_however_often_the_person_says_so(turns):
    conversation = cid()
    await turns.answered(channel="web", conversation=conversation, text=QUESTION, answer=answer())
    # the assistant's misroute reply (soudan.turn.misroute) is of kind "fallback"
    reply = answer(
        "すみません、どのようなことでお困りですか。", review="misroute", topic=None, kind="fallback"
    )
    for typed in ("違う", "違うよ", "役に立たなかった"):
        await turns.answered(channel="web", conversation=conversation, text=typed, answer=reply)
    [item] = await items(turns)
    assert (item["reason"], item["text"]) == ("misroute", QUESTION)


async def test_what_was_meant_after_そうじゃなくて_keeps_its_own_flag(turns):
    conversation = cid()
    await turns.answered(channel="web", conversation=conversation, text=QUESTION, answer=answer())
    meant = "そうじゃなくて、SMSで届いたリンクのことです"
    reply = answer("すみません、はっきりわかりませんでした。", review="fallback", kind="fallback")
    await turns.answered(channel="web", conversation=conversation, text=meant, answer=reply)
    found = {item["reason"]: item["text"] for item in await items(turns)}
    assert found == {"misroute": QUESTION, "fallback": meant}


async def test_a_reply_without_content_still_means_the_person_came_back(turns):
    conversation = cid()
    await turns.answered(channel="line", conversation=conversation, text=QUESTION, answer=answer())
    # Rasa answered nothing this time: the person still wrote again.
    await turns.answered(
        channel="line", conversation=conversation, text="ありがとう", answer=Answer([], None)
    )
    await asyncio.sleep(0.3)
    assert await turns.sweep() == 0


async def test_an_answer_left_without_a_word_goes_into_the_inbox_as_abandoned(turns):
    conversation = cid()
    await turns.answered(channel="line", conversation=conversation, text=QUESTION, answer=answer())
    assert await turns.sweep() == 0  # not yet
    await asyncio.sleep(0.3)
    assert await turns.sweep() == 1
    [item] = await items(turns)
    assert item["reason"] == "abandoned" and item["channel"] == "line"
    assert item["text"] == QUESTION and item["bot_reply"] == "でんわんセンターに相談できます。"
    assert item["intents"][0]["name"] == "faq/unknown_number"
    assert await turns.sweep() == 0  # once


async def test_not_abandoned_when_the_person_wrote_again_or_gave_feedback(turns):
    wrote, rated = cid(), cid()
    for conversation in (wrote, rated):
        await turns.answered(
            channel="web", conversation=conversation, text=QUESTION, answer=answer()
        )
    await turns.answered(channel="web", conversation=wrote, text="ありがとう", answer=answer())
    await turns.feedback_given(rated)
    await asyncio.sleep(0.3)
    assert await turns.sweep() == 0
    assert await items(turns) == []


@pytest.mark.parametrize(
    "reply",
    [
        answer(review="low_confidence"),  # not confident (an inbox item of its own)
        answer(urgent=True),  # a crime in progress
        answer(kind="fallback", topic=None),
    ],
)
async def test_only_a_confident_answer_to_the_first_question_can_be_abandoned(turns, reply):
    await turns.answered(channel="web", conversation=cid(), text=QUESTION, answer=reply)
    second = cid()
    await turns.answered(channel="web", conversation=second, text=QUESTION, answer=answer())
    await turns.answered(channel="web", conversation=second, text="ほかには？", answer=answer())
    await asyncio.sleep(0.3)
    assert await turns.sweep() == 0
    assert not [i for i in await items(turns) if i["reason"] == "abandoned"]


async def test_with_redis_down_the_turns_are_kept_in_memory(records):
    down = redis_down()
    try:
        turns = turns_over(down, records)
        conversation = cid()
        await turns.answered(
            channel="web", conversation=conversation, text=QUESTION, answer=answer()
        )
        await turns.answered(
            channel="web", conversation=conversation, text="役に立たなかった", answer=answer()
        )
        other = cid()
        await turns.answered(channel="web", conversation=other, text=QUESTION, answer=answer())
        await asyncio.sleep(0.3)
        assert await turns.sweep() == 1
        reasons = sorted(i["reason"] for i in await items(turns))
        assert reasons == ["abandoned", "misroute"]
    finally:
        await down.close()
