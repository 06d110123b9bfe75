"""The eligibility form's actions, run with rasa_sdk's CollectingDispatcher.

Each turn is played the way Rasa plays it: the form's from_text mapping puts
the raw answer in the requested slot, then validate_eligibility_form reads it
and names the next slot; the ask action asks it; the result action answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from actions.answers import ActionFallback
from actions.eligibility import (
    ActionEligibilityResult,
    ActionEligibilityStart,
    ActionExplainWhy,
    AskSlot,
    ValidateEligibilityForm,
)
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from soudan import catalogue
from soudan import knowledge as kb
from soudan.eligibility import UNKNOWN
from soudan.eligibility_replies import form_slots

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "chatbot" / "domain.yml").read_text(encoding="utf-8")
)
WEEKDAY_NOON = "2026-11-24T12:00:00+09:00"


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch):
    monkeypatch.setenv("SOUDAN_NOW", WEEKDAY_NOON)


class Conversation:
    """Slots carried from turn to turn, as Rasa's tracker would."""

    def __init__(self, topic: str | None = None) -> None:
        self.slots: dict[str, Any] = {"topic": topic, "requested_slot": None}
        self.said: list[dict[str, Any]] = []
        self.asked: list[str] = []
        self.meta: list[dict[str, Any]] = []

    def tracker(
        self, text: str, intent: str, confidence: float, events=(), entities=(), entry=None
    ) -> Tracker:
        message = {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": list(entities),
        }
        if entry:
            ranking = [{"intent_response_key": f"faq/{entry}", "confidence": confidence}]
            message["response_selector"] = {"faq": {"response": ranking[0], "ranking": ranking}}
        self.last = (text, intent, confidence, list(entities), entry)
        return Tracker(
            sender_id="test",
            slots=dict(self.slots),
            latest_message=message,
            events=list(events),
            paused=False,
            followup_action=None,
            active_loop={"name": "eligibility_form"},
            latest_action_name="action_listen",
        )

    async def run(self, action, trk: Tracker) -> None:
        dispatcher = CollectingDispatcher()
        events = await action.run(dispatcher, trk, DOMAIN)
        self.said += [m for m in dispatcher.messages if not m.get("custom")]
        self.meta += [m["custom"]["meta"] for m in dispatcher.messages if m.get("custom")]
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]

    async def ask_next(self) -> str | None:
        slot = self.slots.get("requested_slot")
        if slot:
            action = next(c for c in AskSlot.__subclasses__() if c.slot == slot)()
            last = self.last
            await self.run(action, self.tracker("", "", 1.0))
            self.last = last
            self.asked.append(slot)
        return slot

    async def start(self, text: str, intent: str = "check_eligibility") -> str | None:
        await self.run(ActionEligibilityStart(), self.tracker(text, intent, 1.0))
        await self.run(ValidateEligibilityForm(), self.tracker(text, intent, 1.0))
        return await self.ask_next()

    async def answer(
        self, text: str, intent: str = "nlu_fallback", confidence: float = 0.5, entry=None
    ):
        slot = self.slots["requested_slot"]
        self.slots[slot] = text  # the from_text mapping
        extracted = [{"event": "slot", "name": slot, "value": text}]
        await self.run(
            ValidateEligibilityForm(),
            self.tracker(text, intent, confidence, extracted, entry=entry),
        )
        return await self.ask_next()

    async def finish(self) -> str:
        """The result action, with the last user message still the latest (as in Rasa)."""
        assert self.slots["requested_slot"] is None
        text, intent, confidence, _events, entry = self.last
        before = len(self.said)
        await self.run(
            ActionEligibilityResult(), self.tracker(text, intent, confidence, entry=entry)
        )
        return "\n\n".join(m["text"] for m in self.said[before:] if m.get("text"))


async def test_eligible_in_2020_with_the_buttons():
    talk = Conversation()
    assert await talk.start("2020年7月10日に相談してたら無料やった？") == "docomo_line"
    assert "2020年7月10日の時点で確認します" in talk.said[0]["text"]
    assert [b["payload"] for b in talk.said[-1]["buttons"]] == [
        "/affirm",
        "/deny",
        "/dont_know",
        "/stop",
    ]
    assert await talk.answer("/affirm", "affirm", 1.0) == "sns_topic"
    assert await talk.answer("/affirm", "affirm", 1.0) == "first_case"
    assert await talk.answer("/affirm", "affirm", 1.0) == "staff_not_adviser"
    assert await talk.answer("/affirm", "affirm", 1.0) is None
    text = await talk.finish()
    assert text.startswith("2020年7月10日の時点では") and "対象です" in text.splitlines()[0]
    assert kb.hotline("docomo_support").number in text
    assert talk.slots["topic"] == "docomo_free_trial"
    assert talk.meta[-1]["topic"] == "docomo_free_trial"  # for the feedback buttons


async def test_free_text_answers_in_dialect_and_full_width():
    talk = Conversation()
    await talk.start("２０２０年８月３１日なら無料で相談できた？")
    assert await talk.answer("せやで、ドコモや", "affirm", 0.7) == "sns_topic"
    assert (
        await talk.answer("インスタで悪口書かれたことです", "faq", 0.9, entry="sns_defamation")
        == "first_case"
    )
    assert await talk.answer("はじめてです") == "staff_not_adviser"
    # 「アドバイザー」 answers the question even though the NLU hears a topic
    assert (
        await talk.answer("消費生活アドバイザーの人でした", "faq", 0.95, entry="docomo_adviser_fee")
        is None
    )
    text = await talk.finish()
    assert "対象外" in text.splitlines()[0]
    assert text.splitlines()[2].startswith("× ") and "消費生活アドバイザー" in text


async def test_not_eligible_today_asks_nothing():
    talk = Conversation(topic="docomo_free_trial")
    assert await talk.start("今から無料で相談できる？") is None
    text = await talk.finish()
    assert "すでに終了しています" in text.splitlines()[0]
    assert talk.asked == []


async def test_facts_in_the_question_are_not_asked_again():
    talk = Conversation(topic="docomo_service")
    assert await talk.start("auでも使える？") is None
    assert "対象外" in (await talk.finish())
    assert talk.asked == []


async def test_abandoned_half_way():
    talk = Conversation()
    await talk.start("2020年7月20日なら無料だった？")
    assert await talk.answer("はい", "affirm", 0.95) == "sns_topic"
    assert await talk.answer("やめる", "stop", 0.99) is None
    text = await talk.finish()
    assert "中断しました" in text
    assert kb.hotline("docomo_support").number in text
    assert talk.slots["elig_exit"] is None  # cleared for the next check


async def test_dont_know_is_kept_open_and_named():
    talk = Conversation()
    await talk.start("2020年7月20日なら無料だった？")
    assert await talk.answer("わからへん", "dont_know", 0.9) == "sns_topic"
    assert talk.slots["docomo_line"] == UNKNOWN
    for _ in range(3):
        await talk.answer("/affirm", "affirm", 1.0)
    text = await talk.finish()
    assert "判断できません" in text and "ドコモの回線契約をお持ちですか" in text


async def test_an_unreadable_answer_is_asked_again_then_taken_as_unknown():
    talk = Conversation()
    await talk.start("2020年7月20日なら無料だった？")
    assert await talk.answer("うーん🤔") == "docomo_line"
    assert "読み取れませんでした" in talk.said[-2]["text"]
    assert (
        talk.said[-1]["text"] == kb.knowledge()["eligibility"]["free_trial"]["conditions"][1]["ask"]
    )
    assert await talk.answer("ほげ") == "sns_topic"
    assert talk.slots["docomo_line"] == UNKNOWN


async def test_a_new_question_ends_the_check_and_is_answered():
    talk = Conversation()
    await talk.start("2020年7月20日なら無料だった？")
    assert (
        await talk.answer("知らない番号から電話がかかってきた", "faq", 0.99, entry="unknown_number")
        is None
    )
    text = await talk.finish()
    assert text.startswith(kb.render(catalogue.entry("unknown_number").now))
    assert talk.slots["topic"] == "unknown_number"
    assert talk.slots["docomo_line"] is None


async def test_a_crime_in_progress_inside_the_check_gets_110_first():
    talk = Conversation()
    await talk.start("ネットトラブルあんしんサポートって使える？")
    assert await talk.answer("いまATMの前で電話の指示を受けてるんです") is None
    text = await talk.finish()
    assert text.splitlines()[0].startswith("今すぐ" + kb.hotline("police_emergency").number)
    assert talk.slots["topic"] == "crime_in_progress"


async def test_payment_claim_above_the_cap():
    talk = Conversation(topic="docomo_fraud_cover")
    assert await talk.start("カードを150万円不正利用された。補償される？") == "subscriber"
    assert await talk.answer("入ってます") == "provider_recognised"  # card: already said
    assert await talk.answer("はい、認めてもらいました", "affirm", 0.8) == "provider_paid_yen"
    assert await talk.answer("ゼロです") is None
    text = await talk.finish()
    assert "最大100万円" in text and "被害額150万円" in text
    assert "約束するものではありません" in text


async def test_amounts_asked_when_not_in_the_story():
    talk = Conversation(topic="docomo_fraud_cover")
    await talk.start("PayPayで勝手に払われたけど補償ある？")
    await talk.answer("加入してます")
    await talk.answer("/affirm", "affirm", 1.0)
    assert talk.slots["requested_slot"] == "loss_yen"
    assert [b["payload"] for b in talk.said[-1]["buttons"]] == ["/dont_know", "/stop"]
    assert await talk.answer("30万円") == "provider_paid_yen"
    assert await talk.answer("１２万円") is None
    assert "最大18万円" in await talk.finish()


async def test_which_scheme_is_asked_with_buttons():
    talk = Conversation()
    assert await talk.start("ドコモのあれって私も関係ありますか") == "elig_scheme"
    titles = [b["title"] for b in talk.said[-1]["buttons"]]
    assert await talk.answer(titles[3]) == "subscriber"


async def test_why_gives_the_same_reasons():
    talk = Conversation(topic="docomo_service")
    await talk.start("ソフトバンクやけど入れる？")
    decided = await talk.finish()
    await talk.run(ActionExplainWhy(), talk.tracker("なんで？", "ask_why", 0.99))
    why = talk.said[-1]["text"]
    reason = next(line for line in decided.splitlines() if line.startswith("× "))
    assert reason in why


async def test_an_unsure_why_after_a_decision_gets_its_reasons():
    # 「どうして？」 read as nlu_fallback, with ask_why third
    talk = Conversation(topic="docomo_service")
    await talk.start("ソフトバンクやけど入れる？")
    await talk.finish()
    trk = talk.tracker("どうして？", "nlu_fallback", 0.45)
    trk.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.45},
        {"name": "ask_what_now", "confidence": 0.32},
        {"name": "ask_why", "confidence": 0.15},
    ]
    dispatcher = CollectingDispatcher()
    await ActionFallback().run(dispatcher, trk, DOMAIN)
    assert "判断の理由" in dispatcher.messages[0]["text"]
    # with no decision in context, or a longer message, it is the usual fallback
    fresh = Conversation()
    trk = fresh.tracker("どうして？", "nlu_fallback", 0.45)
    trk.latest_message["intent_ranking"] = [{"name": "ask_why", "confidence": 0.4}]
    dispatcher = CollectingDispatcher()
    await ActionFallback().run(dispatcher, trk, DOMAIN)
    assert "判断の理由" not in dispatcher.messages[0]["text"]


async def test_why_without_a_decision_says_so():
    talk = Conversation()
    await talk.run(ActionExplainWhy(), talk.tracker("なんで？", "ask_why", 0.99))
    assert "どの判断の理由" in talk.said[-1]["text"]


def test_every_form_slot_has_its_ask_action_in_the_domain():
    asked = {c.slot for c in AskSlot.__subclasses__()}
    assert asked == set(form_slots())
    assert {f"action_ask_{s}" for s in asked} <= set(DOMAIN["actions"])
    assert DOMAIN["forms"]["eligibility_form"]["required_slots"] == form_slots()


async def test_a_pasted_caller_number_gets_the_numbers_answer_not_the_check():
    talk = Conversation()
    number = [{"entity": "phone_number", "value": "0570-000-111"}]

    def trk():
        return talk.tracker("0570-000-111って何？", "check_eligibility", 0.6, entities=number)

    await talk.run(ActionEligibilityStart(), trk())
    await talk.run(ValidateEligibilityForm(), trk())
    assert talk.slots["requested_slot"] is None
    await talk.run(ActionEligibilityResult(), trk())
    assert "ナビダイヤル" in talk.said[-2]["text"]
    assert talk.asked == []


@pytest.mark.parametrize(
    "text, entry",
    [
        (
            "息子を名乗る男から電話で、会社のお金をなくしたから今日中に300万円必要だと言われた",
            "ore_ore",
        ),
        ("市役所の職員から医療費の還付金があるのでATMに行ってくださいと電話がありました", "refund"),
    ],
)
async def test_money_words_alone_never_start_the_check(text, entry):
    """The issue's misroutes: a scam story read as an eligibility question gets its entry."""
    talk = Conversation()
    await talk.run(
        ActionEligibilityStart(), talk.tracker(text, "check_eligibility", 0.6, entry=entry)
    )
    await talk.run(
        ValidateEligibilityForm(), talk.tracker(text, "check_eligibility", 0.6, entry=entry)
    )
    assert talk.slots["requested_slot"] is None and talk.asked == []
    answer = await talk.finish()
    assert answer.startswith(kb.render(catalogue.entry(entry).now))
    assert "どれについて確認しますか" not in answer


async def test_the_check_opened_from_an_answer_starts_its_form():
    """action_answer hands an eligibility question over (intent faq): no rule
    follows with the form, so the start action asks for it."""
    talk = Conversation()
    text = "クレカを150万円分も勝手に使われました。ドコモの補償してもらえますか"
    dispatcher = CollectingDispatcher()
    opened = await ActionEligibilityStart().run(
        dispatcher, talk.tracker(text, "faq", 0.7, entry="docomo_fraud_cover"), DOMAIN
    )
    assert {"event": "followup", "name": "eligibility_form"}.items() <= opened[-1].items()
    asked = await ActionEligibilityStart().run(
        CollectingDispatcher(), talk.tracker(text, "check_eligibility", 0.7), DOMAIN
    )
    assert all(e.get("event") != "followup" for e in asked)
