"""The eligibility engine and the Japanese date parser (soudan.eligibility, soudan.dates)."""

from __future__ import annotations

import time
from datetime import date, datetime, timezone

import pytest

from soudan import knowledge as kb
from soudan.dates import Span, day_in_japan, parse_date
from soudan.eligibility import UNKNOWN, decide, most_payable, schemes

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2020年7月10日なら？", date(2020, 7, 10), date(2020, 7, 10)),
        ("２０２０年７月１０日", date(2020, 7, 10), date(2020, 7, 10)),
        ("2020/8/31に相談した", date(2020, 8, 31), date(2020, 8, 31)),
        ("令和2年7月1日", date(2020, 7, 1), date(2020, 7, 1)),
        ("令和元年5月", date(2019, 5, 1), date(2019, 5, 31)),
        ("平成31年4月30日", date(2019, 4, 30), date(2019, 4, 30)),
        ("2020年8月", date(2020, 8, 1), date(2020, 8, 31)),
        ("2020年", date(2020, 1, 1), date(2020, 12, 31)),
        ("去年の8月", date(2025, 8, 1), date(2025, 8, 31)),
        ("おととしの7月15日", date(2024, 7, 15), date(2024, 7, 15)),
        ("今日", TODAY, TODAY),
        ("きのう相談した", date(2026, 11, 21), date(2026, 11, 21)),
        ("先月", date(2026, 10, 1), date(2026, 10, 31)),
        ("7月10日", date(2026, 7, 10), date(2026, 7, 10)),
        ("12月24日", date(2025, 12, 24), date(2025, 12, 24)),
    ],
)
def test_dates(text, first, last):
    assert parse_date(text, TODAY) == Span(first, last)


@pytest.mark.parametrize("text", ["", "いつだっけ", "2020年2月30日", "13月", "😀"])
def test_no_date_or_an_impossible_one(text):
    assert parse_date(text, TODAY) is None


def test_span_names_the_date_it_judged():
    assert Span(date(2020, 7, 10), date(2020, 7, 10)).text == "2020年7月10日"
    assert Span(date(2025, 8, 1), date(2025, 8, 31)).text == "2025年8月"


def day(y, m, d) -> Span:
    return Span(date(y, m, d), date(y, m, d))


ALL_YES = {
    "docomo_line": True,
    "sns_topic": True,
    "first_case": True,
    "staff_not_adviser": True,
}


def test_every_scheme_renders_every_reason():
    for scheme in schemes():
        for cond in kb.knowledge()["eligibility"][scheme]["conditions"]:
            for key in ("met", "unmet"):
                assert "{" not in kb.render(cond[key])


def test_free_trial_today_is_over_and_says_so_first():
    decision = decide("free_trial", Span(TODAY, TODAY), ALL_YES)
    assert decision.eligible is False
    first = decision.reasons[0]
    assert first.rule == "in_period" and not first.met
    assert kb.knowledge()["docomo"]["free_trial"]["period_text"] in first.text
    assert decision.ended == kb.knowledge()["docomo"]["free_trial"]["period_text"]
    # every other rule is still judged, each with its own reason
    assert [r.rule for r in decision.reasons[1:]] == list(ALL_YES)
    assert all(r.met for r in decision.reasons[1:])


def test_nothing_is_asked_once_the_period_decides():
    decision = decide("free_trial", Span(TODAY, TODAY), {})
    assert decision.eligible is False
    assert decision.ask is None
    assert [r.rule for r in decision.reasons] == ["in_period"]


@pytest.mark.parametrize(
    ("when", "eligible"),
    [
        (day(2020, 6, 30), False),
        (day(2020, 7, 1), True),
        (day(2020, 8, 31), True),
        (day(2020, 9, 1), False),
    ],
)
def test_free_trial_period_edges(when, eligible):
    assert decide("free_trial", when, ALL_YES).eligible is eligible


@pytest.mark.parametrize(
    ("fact", "rule_text"),
    [
        ("docomo_line", "ドコモ回線契約者のみ"),
        ("sns_topic", "SNSの誹謗中傷に関する相談"),
        ("first_case", "一案件のみ"),
        ("staff_not_adviser", "消費生活アドバイザー"),
    ],
)
def test_each_failed_condition_gives_its_own_reason(fact, rule_text):
    decision = decide("free_trial", day(2020, 7, 10), {**ALL_YES, fact: False})
    assert decision.eligible is False
    [unmet] = decision.unmet
    assert unmet.rule == fact
    assert rule_text in unmet.text
    assert unmet.source == "docomo_2020"
    assert len(decision.reasons) == 5


def test_every_rule_together_gives_every_reason():
    no = {key: False for key in ALL_YES}
    decision = decide("free_trial", day(2020, 6, 1), no)
    assert decision.eligible is False
    assert [r.rule for r in decision.unmet] == ["in_period", *ALL_YES]
    assert len({r.text for r in decision.reasons}) == 5


def test_an_unmet_fact_given_early_stops_the_questions():
    decision = decide("free_trial", day(2020, 7, 10), {"first_case": False})
    assert decision.eligible is False and decision.ask is None


def test_an_unknown_fact_leaves_the_decision_open_after_the_other_questions():
    decision = decide("free_trial", day(2020, 7, 10), {"docomo_line": UNKNOWN})
    assert decision.eligible is None and decision.ask == "sns_topic"
    done = decide("free_trial", day(2020, 7, 10), {**ALL_YES, "docomo_line": UNKNOWN})
    assert done.eligible is None and done.ask is None
    assert done.unknown == ["docomo_line"]
    # an unknown fact does not hide a no
    no = decide(
        "free_trial", day(2020, 7, 10), {**ALL_YES, "docomo_line": UNKNOWN, "sns_topic": False}
    )
    assert no.eligible is False


def test_missing_fact_asks_one_question_at_a_time():
    decision = decide("free_trial", day(2020, 7, 10), {"docomo_line": True})
    assert decision.eligible is None
    assert decision.ask == "sns_topic"
    assert decision.question.endswith("？")
    assert [r.rule for r in decision.reasons] == ["in_period", "docomo_line"]


def test_a_month_partly_inside_the_period_is_flagged():
    decision = decide("free_articles", Span(date(2020, 6, 1), date(2020, 7, 31)), {})
    assert decision.eligible is True and decision.partly


def test_free_articles_are_for_anyone_in_july_2020():
    assert decide("free_articles", day(2020, 7, 31), {}).eligible is True
    assert decide("free_articles", day(2020, 8, 1), {}).eligible is False


def test_paid_service_needs_a_docomo_line_and_gives_the_price():
    yes = decide("paid_service", Span(TODAY, TODAY), {"docomo_line": True})
    assert yes.eligible is True
    assert kb.knowledge()["docomo"]["price"] in yes.reasons[0].text
    no = decide("paid_service", Span(TODAY, TODAY), {"docomo_line": False})
    assert no.eligible is False and "au" in no.reasons[0].text


def test_fraud_cover_needs_the_providers_recognition():
    facts = {"subscriber": True, "cashless_fraud": True, "provider_recognised": False}
    decision = decide("fraud_cover", Span(TODAY, TODAY), facts)
    assert decision.eligible is False
    assert kb.knowledge()["docomo"]["fraud_cover"]["condition"] in decision.reasons[-1].text


@pytest.mark.parametrize(
    ("loss", "provider", "most"),
    [
        (300_000, 0, 300_000),
        (300_000, 100_000, 200_000),
        (1_500_000, 0, 1_000_000),
        (1_500_000, 400_000, 1_000_000),
        (100_000, 200_000, 0),
    ],
)
def test_most_the_cover_could_pay(loss, provider, most):
    assert most_payable(loss, provider) == most


@pytest.mark.parametrize(
    ("utc", "eligible"),
    [
        # Japan is UTC+9: the trial's first day began at 15:00 UTC the day before.
        (datetime(2020, 6, 30, 14, 59, tzinfo=timezone.utc), False),  # 2020-06-30 23:59 JST
        (datetime(2020, 6, 30, 15, 0, tzinfo=timezone.utc), True),  # 2020-07-01 00:00 JST
        (datetime(2020, 8, 31, 14, 59, tzinfo=timezone.utc), True),  # 2020-08-31 23:59 JST
        (datetime(2020, 8, 31, 15, 0, tzinfo=timezone.utc), False),  # 2020-09-01 00:00 JST
    ],
)
def test_trial_edges_are_japan_days_on_a_utc_server(utc, eligible, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert decide("free_trial", day_in_japan(utc), ALL_YES).eligible is eligible
    finally:
        monkeypatch.undo()
        time.tzset()


def test_naive_moments_are_refused():
    with pytest.raises(ValueError):
        day_in_japan(datetime(2020, 7, 1))


@pytest.mark.parametrize(
    ("provider", "most"),
    [(0, 1_000_000), (300_000, 1_000_000), (1_200_000, 300_000), (1_500_000, 0)],
)
def test_a_claim_over_the_cap(provider, most):
    """A loss of 1,500,000 yen: the cover pays what the provider does not, at most the cap."""
    assert most_payable(1_500_000, provider) == most


def test_fraud_cover_asks_nothing_more_than_the_three_facts():
    decision = decide("fraud_cover", Span(TODAY, TODAY), {"subscriber": True})
    assert decision.ask == "cashless_fraud"
    done = decide(
        "fraud_cover",
        Span(TODAY, TODAY),
        {"subscriber": True, "cashless_fraud": True, "provider_recognised": True},
    )
    assert done.eligible is True and done.ended is None
