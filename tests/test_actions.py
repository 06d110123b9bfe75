"""Custom actions, run with rasa_sdk's CollectingDispatcher."""

from __future__ import annotations

import pytest
from actions.answers import ActionAnswer, ActionFallback
from phone_check import phone_like
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from soudan import dialogue
from soudan import knowledge as kb
from soudan.hours import now_jst

WEEKDAY_NOON = "2026-11-24T12:00:00+09:00"
SATURDAY_NIGHT = "2026-11-28T20:00:00+09:00"


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch):
    monkeypatch.setenv("SOUDAN_NOW", WEEKDAY_NOON)


def tracker(intent: str, text: str = "テスト", misunderstood: float = 0.0, topic=None) -> Tracker:
    return Tracker(
        sender_id="test",
        slots={"misunderstood": misunderstood, "topic": topic},
        latest_message={"text": text, "intent": {"name": intent, "confidence": 0.9}},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def run(action, trk):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, trk, {})
    return dispatcher.messages, {e["name"]: e["value"] for e in events}


@pytest.mark.parametrize("intent", [i for i in kb.answer_intents() if i not in {"bad_input"}])
async def test_answer_action_renders_the_intent(intent):
    messages, slots = await run(ActionAnswer(), tracker(intent))
    assert len(messages) == 2 and messages[1]["custom"]["meta"]["review"] is None
    assert messages[0]["text"] == dialogue.answer(intent, None, now_jst()).text
    assert kb.reply_for(intent).text in messages[0]["text"]
    assert phone_like(messages[0]["text"]) <= kb.known_numbers()
    assert slots["misunderstood"] == 0.0


async def test_crime_in_progress_leads_with_110():
    messages, slots = await run(ActionAnswer(), tracker("crime_in_progress"))
    first_line = messages[0]["text"].splitlines()[0]
    assert kb.hotline("police_emergency").number in first_line
    assert slots["topic"] == "crime_in_progress"


async def test_center_contact_gives_number_hours_fee_and_state():
    messages, _ = await run(ActionAnswer(), tracker("center_contact"))
    text = messages[0]["text"]
    center = kb.hotline("center")
    assert center.number in text and center.hours_text in text
    assert kb.knowledge()["hotlines"]["center"]["fee_text"] in text
    assert "受付中（17:00まで）" in text


async def test_buttons_carry_intent_payloads():
    messages, _ = await run(ActionAnswer(), tracker("faq_unknown_number"))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert "/faq_answered_suspicious" in payloads


async def test_each_hotline_offered_gets_a_tap_to_call_button():
    messages, _ = await run(ActionAnswer(), tracker("damage_done"))
    calls = [b for b in messages[0]["buttons"] if b["payload"].startswith("tel:")]
    assert [b["payload"] for b in calls] == ["tel:%239110", "tel:110", "tel:188"]
    assert all(b["title"].endswith("に電話") for b in calls)


async def test_unknown_intent_gets_the_fallback_text():
    messages, _ = await run(ActionAnswer(), tracker("no_such_intent"))
    assert kb.reply_for("nlu_fallback").text in messages[0]["text"]


async def test_fallback_once_then_escalates():
    first, slots = await run(ActionFallback(), tracker("nlu_fallback", "ふがふが"))
    assert kb.reply_for("nlu_fallback").text in first[0]["text"]
    assert slots["misunderstood"] == 1.0
    second, slots = await run(ActionFallback(), tracker("nlu_fallback", "ほげほげ", 1.0))
    assert kb.reply_for("escalate").text in second[0]["text"]
    assert kb.hotline("center").number in second[0]["text"]
    assert slots["misunderstood"] == 2.0


async def test_escalation_offers_the_line_of_the_topic_in_context(monkeypatch):
    monkeypatch.setenv("SOUDAN_NOW", SATURDAY_NIGHT)
    messages, _ = await run(
        ActionFallback(), tracker("nlu_fallback", "ほげ", 1.0, topic="sns_defamation")
    )
    text = messages[0]["text"]
    assert kb.hotline("docomo_support").number in text
    assert "次は11月30日（月）10:00から受付" in text
    assert "受付が始まるまでの間は" in text


@pytest.mark.parametrize("text", ["", "😭😭😭", "！？！？", "\x00\x07"])
async def test_fallback_on_no_words_asks_for_text(text):
    messages, _ = await run(ActionFallback(), tracker("nlu_fallback", text))
    assert kb.reply_for("bad_input").text in messages[0]["text"]
    assert messages[0]["buttons"], "the menu is offered"


async def test_topic_survives_small_talk():
    _, slots = await run(ActionAnswer(), tracker("thank", topic="faq_stop_international"))
    assert slots["topic"] == "faq_stop_international"


async def test_hours_question_uses_the_line_in_context():
    messages, _ = await run(ActionAnswer(), tracker("ask_hours", topic="docomo_support_center"))
    assert messages[0]["text"].startswith(kb.hotline("docomo_support").name)
    assert "受付中（18:00まで）" in messages[0]["text"]


async def test_every_answer_carries_its_topic_for_the_channels():
    messages, _ = await run(ActionAnswer(), tracker("sns_defamation"))
    meta = messages[-1]["custom"]["meta"]
    assert meta["topic"] == "sns_defamation"
    assert meta["intents"] == [{"name": "sns_defamation", "confidence": 0.9}]


async def test_unsure_answers_are_marked_for_review():
    unsure = tracker("faq_unknown_number", "なんか電話きたかも")
    unsure.latest_message["intent"]["confidence"] = 0.5
    messages, _ = await run(ActionAnswer(), unsure)
    assert messages[-1]["custom"]["meta"]["review"] == "low_confidence"
    first, _ = await run(ActionFallback(), tracker("nlu_fallback", "ふがふが"))
    assert first[-1]["custom"]["meta"]["review"] == "fallback"
    second, _ = await run(ActionFallback(), tracker("nlu_fallback", "ほげほげ", 1.0))
    assert second[-1]["custom"]["meta"]["review"] == "two_misses"


async def test_button_payloads_are_never_reviewed():
    pressed = tracker("faq_unknown_number", "/faq_unknown_number")
    pressed.latest_message["intent"]["confidence"] = 0.3
    messages, _ = await run(ActionAnswer(), pressed)
    assert messages[-1]["custom"]["meta"]["review"] is None
