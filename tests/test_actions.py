"""The answering action, run with rasa_sdk's CollectingDispatcher.

The tracker's latest message is what the NLU would give (intent, the
ResponseSelector's ranking, entities); the action reads it into a Turn and
sends the head, the details and the meta the channels need.
"""

from __future__ import annotations

import pytest
from actions.answers import ActionAnswer, ActionFallback
from phone_check import phone_like
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from soudan import catalogue
from soudan import knowledge as kb
from soudan.phone import as_entities, prefix_entities

WEEKDAY_NOON = "2026-11-24T12:00:00+09:00"
SATURDAY_NIGHT = "2026-11-28T20:00:00+09:00"


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch):
    monkeypatch.setenv("SOUDAN_NOW", WEEKDAY_NOON)


def tracker(
    intent: str,
    text: str = "テスト",
    *,
    entry: str | None = None,
    confidence: float = 0.9,
    entry_confidence: float = 0.9,
    misunderstood: float = 0.0,
    topic: str | None = None,
    entities: list | None = None,
    active_loop: dict | None = None,
) -> Tracker:
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "entities": entities if entities is not None else as_entities(text) + prefix_entities(text),
    }
    if entry:
        message["response_selector"] = {
            "faq": {
                "response": {"intent_response_key": f"faq/{entry}", "confidence": entry_confidence},
                "ranking": [
                    {"intent_response_key": f"faq/{entry}", "confidence": entry_confidence}
                ],
            }
        }
    return Tracker(
        sender_id="test",
        slots={"misunderstood": misunderstood, "topic": topic, "candidates": []},
        latest_message=message,
        events=[],
        paused=False,
        followup_action=None,
        active_loop=active_loop or {},
        latest_action_name="action_listen",
    )


async def run(action, trk):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, trk, {})
    return dispatcher.messages, {e["name"]: e["value"] for e in events}


def parts(messages):
    """(head, details, meta) of what the action sent."""
    meta = messages[-1]["custom"]["meta"]
    texts = [m["text"] for m in messages if m.get("text")]
    return texts[0], (texts[1] if len(texts) > 1 else ""), meta


@pytest.mark.parametrize("key", sorted(catalogue.entries()))
async def test_every_entry_is_sent_head_then_details(key):
    # an entry with required words is read only from a message that holds them
    text = catalogue.entry(key).title if catalogue.entry(key).requires else "テスト"
    messages, slots = await run(ActionAnswer(), tracker("faq", text, entry=key))
    head, details, meta = parts(messages)
    assert head.startswith(kb.render(catalogue.entry(key).now))
    assert meta["details"] is bool(details) and details
    assert meta["topic"] == key and slots["topic"] == key
    assert meta["intents"][0]["name"] == f"faq/{key}"
    assert phone_like(head + details) <= kb.known_numbers()


@pytest.mark.parametrize(
    "intent", ["greet", "thank", "goodbye", "bot_capabilities", "out_of_scope"]
)
async def test_small_talk_is_answered_from_the_copy(intent):
    messages, _ = await run(ActionAnswer(), tracker(intent, "こんにちは"))
    head, _, meta = parts(messages)
    assert kb.reply_for(intent).text in head
    assert meta["kind"] == "smalltalk"


async def test_an_entry_without_its_required_words_is_not_a_reading():
    """「Xで悪口を書かれた」 is not about the center's X account."""
    messages, _ = await run(
        ActionAnswer(),
        tracker("faq", "Xで毎日悪口を書かれてて、もう限界", entry="center_x_account"),
    )
    head, _, meta = parts(messages)
    assert meta["topic"] != "center_x_account"
    assert not head.startswith(kb.render(catalogue.entry("center_x_account").now))


async def test_crime_in_progress_leads_with_110():
    messages, slots = await run(ActionAnswer(), tracker("crime_in_progress", "助けて"))
    head, _, meta = parts(messages)
    assert kb.hotline("police_emergency").number in head.splitlines()[0]
    assert meta["urgent"] is True and slots["topic"] == "crime_in_progress"


async def test_each_hotline_offered_gets_a_tap_to_call_button():
    messages, _ = await run(
        ActionAnswer(), tracker("faq", "振り込んでしまった", entry="after_transfer")
    )
    calls = [b for b in messages[0]["buttons"] if b["payload"].startswith("tel:")]
    assert [b["payload"] for b in calls] == ["tel:%239110", "tel:110", "tel:188"]
    assert all(b["title"].endswith("に電話") for b in calls)


async def test_follow_up_buttons_name_entries():
    messages, _ = await run(ActionAnswer(), tracker("faq", "知らない番号", entry="unknown_number"))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert '/faq{"entry":"answered_suspicious"}' in payloads


async def test_a_button_payload_names_the_entry_and_is_never_reviewed():
    pressed = tracker(
        "faq",
        '/faq{"entry":"voicemail"}',
        confidence=0.3,
        entities=[{"entity": "entry", "value": "voicemail"}],
    )
    messages, slots = await run(ActionAnswer(), pressed)
    _, _, meta = parts(messages)
    assert slots["topic"] == "voicemail" and meta["review"] is None


async def test_a_prefix_question_counts_the_prefix_for_analytics():
    messages, _ = await run(
        ActionAnswer(), tracker("faq", "0570から始まる番号ってなに？", entry="number_starts_with_9")
    )
    head, _, meta = parts(messages)
    assert "ナビダイヤル" in head
    assert meta["prefixes"] == ["0570"] and meta["group"] == "prefix"


async def test_fallback_once_then_hands_over_to_the_topics_line(monkeypatch):
    first, slots = await run(
        ActionFallback(), tracker("nlu_fallback", "ふがふが", topic="sns_defamation")
    )
    assert slots["misunderstood"] == 1.0
    assert parts(first)[2]["review"] == "fallback"
    monkeypatch.setenv("SOUDAN_NOW", SATURDAY_NIGHT)
    second, slots = await run(
        ActionFallback(),
        tracker("nlu_fallback", "ほげほげ", misunderstood=1.0, topic="sns_defamation"),
    )
    head, details, meta = parts(second)
    assert meta["review"] == "two_misses" and slots["misunderstood"] == 2.0
    assert kb.hotline("jinken").name in details
    assert kb.hotline("center").number not in head + details
    assert "受付が始まるまでの間は" in details


@pytest.mark.parametrize("text", ["", "😭😭😭", "！？！？", "\x00\x07"])
async def test_fallback_on_no_words_asks_for_text(text):
    messages, _ = await run(ActionFallback(), tracker("nlu_fallback", text))
    assert kb.reply_for("bad_input").text in messages[0]["text"]
    assert messages[0]["buttons"], "the menu is offered"


async def test_topic_survives_small_talk():
    _, slots = await run(ActionAnswer(), tracker("thank", "ありがとう", topic="stop_international"))
    assert slots["topic"] == "stop_international"


async def test_hours_question_uses_the_line_in_context():
    messages, _ = await run(
        ActionAnswer(), tracker("ask_hours", "何時まで？", topic="docomo_support_center")
    )
    assert messages[0]["text"].startswith(kb.hotline("docomo_support").name)
    assert "受付中（18:00まで）" in messages[0]["text"]


async def test_unsure_answers_are_marked_for_review():
    messages, _ = await run(
        ActionAnswer(),
        tracker("faq", "なんか電話きたかも", entry="unknown_number", entry_confidence=0.5),
    )
    assert parts(messages)[2]["review"] == "low_confidence"


async def test_yes_outside_a_question_is_not_an_answer():
    messages, _ = await run(
        ActionAnswer(), tracker("affirm", "それ、お金かかるん？", topic="sns_defamation")
    )
    head, _, meta = parts(messages)
    assert "ご相談の内容を書いてください" not in head
    assert meta["kind"] != "smalltalk" and meta["topic"] == "sns_defamation"


async def test_an_eligibility_question_read_as_the_schemes_entry_opens_the_check():
    """「…ドコモの補償してもらえますか」 read as faq/docomo_fraud_cover, with
    check_eligibility second: the check opens (and starts its form)."""
    text = "クレカを150万円分も勝手に使われました。ドコモの補償してもらえますか"
    asked = tracker("faq", text, entry="docomo_fraud_cover", confidence=0.72)
    asked.latest_message["intent_ranking"].append({"name": "check_eligibility", "confidence": 0.28})
    dispatcher = CollectingDispatcher()
    events = await ActionAnswer().run(dispatcher, asked, {})
    assert [(e["event"], e["name"]) for e in events] == [("followup", "action_eligibility_start")]
    assert dispatcher.messages == []
    # the same entry without an eligibility reading is answered as the entry
    plain = tracker("faq", text, entry="docomo_fraud_cover", confidence=0.9)
    messages, slots = await run(ActionAnswer(), plain)
    assert slots["topic"] == "docomo_fraud_cover" and messages
