"""Eligibility answers: the case a question opens, the reply, the copy (soudan.eligibility_replies)."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from phone_check import phone_like

from soudan import knowledge as kb
from soudan.dates import Span
from soudan.eligibility import UNKNOWN
from soudan.eligibility_replies import (
    SCHEME_SLOT,
    Case,
    case_for_question,
    copy,
    decision_text,
    explain,
    is_settled,
    question_buttons,
    read_answer,
    result,
    stopped,
)
from soudan.hours import JST

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=JST)
SATURDAY_NIGHT = datetime(2026, 11, 28, 20, 0, tzinfo=JST)
TRIAL_YES = {"docomo_line": True, "sns_topic": True, "first_case": True, "staff_not_adviser": True}
COVER_YES = {"subscriber": True, "cashless_fraud": True, "provider_recognised": True}


def today() -> Span:
    return Span(TODAY, TODAY)


def test_a_question_opens_a_case_for_today_with_its_own_facts():
    case = case_for_question("auでも使える？", TODAY)
    assert case.scheme == "paid_service"
    assert case.judged == today()
    assert case.facts == {"docomo_line": False}
    assert case.next_question() is None


def test_a_follow_up_keeps_the_scheme_and_the_facts_and_takes_the_new_date():
    first = Case("free_trial", today(), {"docomo_line": True, "first_case": UNKNOWN})
    follow = case_for_question("じゃあ2020年7月10日なら？", TODAY, previous=first)
    assert follow.scheme == "free_trial"
    assert follow.judged == Span(date(2020, 7, 10), date(2020, 7, 10))
    # what the person knew is kept; what they did not know is asked again
    assert follow.facts == {"docomo_line": True}
    assert follow.next_question() == "sns_topic"


def test_a_follow_up_without_a_date_keeps_the_date_judged():
    first = Case("free_trial", Span(date(2020, 7, 10), date(2020, 7, 10)), {})
    follow = case_for_question("アドバイザーに相談した場合は？", TODAY, previous=first)
    assert follow.judged == first.judged
    assert follow.facts == {"staff_not_adviser": False}


def test_the_topic_in_context_names_the_scheme_when_the_text_does_not():
    case = case_for_question("私は対象になる？", TODAY, topic="docomo_fraud_cover")
    assert case.scheme == "fraud_cover"
    assert case.next_question() == "subscriber"


def test_no_scheme_anywhere_asks_which_one_with_buttons():
    case = case_for_question("これって私もいけるん？", TODAY)
    assert case.scheme is None
    assert case.next_question() == SCHEME_SLOT
    titles = [b["title"] for b in question_buttons(SCHEME_SLOT)]
    # each button's text is read back as its own scheme
    assert [read_answer(SCHEME_SLOT, t, None) for t in titles] == list(copy()["scheme_buttons"])


def test_amounts_are_asked_after_the_facts_and_read_from_the_story():
    case = case_for_question("カードを150万円使われた、補償される？", TODAY)
    assert case.amounts == {"loss_yen": 1_500_000}
    case.facts |= COVER_YES
    assert case.next_question() == "provider_paid_yen"


def test_today_the_trial_is_over_and_the_reply_says_so_first():
    text = decision_text(Case("free_trial", today(), {}), TODAY)
    first, second = text.splitlines()[:2]
    assert "終了" in first and kb.knowledge()["docomo"]["free_trial"]["period_text"] in first
    assert "今日（2026年11月24日）" in second and "対象外" in second


def test_eligible_in_2020_lists_every_reason_and_the_next_step():
    case = Case("free_trial", Span(date(2020, 7, 10), date(2020, 7, 10)), TRIAL_YES)
    answer = result(case, SATURDAY_NIGHT, TODAY)
    assert answer.text.startswith("2020年7月10日の時点では")
    assert answer.text.count("○ ") == 5 and "× " not in answer.text
    assert kb.hotline("docomo_support").number in answer.text
    assert "受付時間外" in answer.text  # Saturday night
    assert kb.knowledge()["docomo"]["site"] in answer.text  # current terms
    assert [b["payload"] for b in answer.button_dicts()] == [kb.hotline("docomo_support").tel_uri]


def test_unmet_reasons_come_first():
    case = Case(
        "free_trial", Span(date(2020, 7, 10), date(2020, 7, 10)), {**TRIAL_YES, "first_case": False}
    )
    reasons = [line for line in decision_text(case, TODAY).splitlines() if line[:2] in {"○ ", "× "}]
    assert reasons[0].startswith("× ") and "一案件" in reasons[0]
    assert all(r.startswith("○ ") for r in reasons[1:])


@pytest.mark.parametrize(
    ("loss", "provider", "expected"),
    [
        (1_500_000, 0, "最大100万円"),
        (1_500_000, 300_000, "最大100万円"),
        (1_500_000, 1_200_000, "最大30万円"),
        (300_000, 300_000, "支払われる額はありません"),
    ],
)
def test_the_cover_arithmetic_is_shown_and_never_promised(loss, provider, expected):
    amounts = {"loss_yen": loss, "provider_paid_yen": provider}
    text = decision_text(Case("fraud_cover", today(), COVER_YES, amounts), TODAY)
    assert expected in text
    assert "約束するものではありません" in text
    assert "なりえます" in text.splitlines()[0]  # never 「対象です」: no promise


def test_unknown_amounts_give_the_cap_only():
    text = decision_text(Case("fraud_cover", today(), COVER_YES, {"loss_yen": UNKNOWN}), TODAY)
    assert "最大" + kb.knowledge()["docomo"]["fraud_cover"]["cap_text"] in text


def test_an_unknown_fact_is_named_and_sent_to_the_hotline():
    case = Case("paid_service", today(), {"docomo_line": UNKNOWN})
    answer = result(case, NOW, TODAY)
    assert "判断できません" in answer.text
    assert "ドコモの回線契約をお持ちですか" in answer.text
    assert kb.hotline("docomo_support").number in answer.text


def test_why_repeats_the_same_reasons():
    case = Case("paid_service", today(), {"docomo_line": False})
    decided = result(case, NOW, TODAY).text
    why = explain(case, NOW, TODAY).text
    reason = next(line for line in decided.splitlines() if line.startswith("× "))
    assert reason in why
    assert explain(None, NOW, TODAY).text == copy()["no_decision"]


def test_stopping_points_to_the_hotline():
    assert kb.hotline("docomo_support").number in stopped("free_trial", NOW).text
    assert "中断" in stopped(None, NOW).text


@pytest.mark.parametrize(
    ("key", "text", "intent", "value"),
    [
        ("docomo_line", "はい", "affirm", True),
        ("docomo_line", "わからん", None, UNKNOWN),
        ("loss_yen", "30万円", None, 300_000),
        ("loss_yen", "/dont_know", "dont_know", UNKNOWN),
        ("provider_paid_yen", "なし", None, 0),
        ("provider_paid_yen", "まだわかりません", None, UNKNOWN),
        ("loss_yen", "たくさん", None, None),
        (SCHEME_SLOT, "補償のこと", None, "fraud_cover"),
        (SCHEME_SLOT, "なんやろ", None, None),
    ],
)
def test_read_answer(key, text, intent, value):
    assert read_answer(key, text, intent) == value


def test_settled_values_are_not_read_again():
    assert is_settled("docomo_line", True) and is_settled("docomo_line", UNKNOWN)
    assert not is_settled("docomo_line", "はい")
    assert is_settled("loss_yen", 0) and not is_settled("loss_yen", "30万円")
    assert is_settled(SCHEME_SLOT, "free_trial") and not is_settled(SCHEME_SLOT, "無料")


def test_copy_holds_no_digits_or_urls_and_renders():
    for key, value in copy().items():
        if not isinstance(value, str):
            continue
        bare = kb.PLACEHOLDER.sub("", value)
        assert not re.search(r"\d|[０-９]", bare), key
        assert "http" not in bare, key


@pytest.mark.parametrize(
    "case",
    [
        Case("free_trial", today(), {}),
        Case("free_trial", Span(date(2020, 7, 10), date(2020, 7, 10)), TRIAL_YES),
        Case("free_articles", Span(date(2020, 7, 1), date(2020, 7, 31)), {}),
        Case("paid_service", today(), {"docomo_line": True}),
        Case("fraud_cover", today(), COVER_YES, {"loss_yen": 2_000_000, "provider_paid_yen": 0}),
    ],
)
def test_no_eligibility_reply_carries_an_unknown_phone_number(case):
    for moment in (NOW, SATURDAY_NIGHT):
        text = result(case, moment, TODAY).text
        assert "{" not in text
        assert phone_like(text) <= kb.known_numbers()
