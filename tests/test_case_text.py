"""Reading a person's own words: scheme, facts, answers, amounts (soudan.case_text)."""

from __future__ import annotations

import pytest

from soudan.case_text import (
    Reply,
    amounts_in,
    answer_to,
    facts_in,
    format_yen,
    scheme_in,
    yen_in,
)


@pytest.mark.parametrize(
    ("text", "scheme"),
    [
        ("auでも使える？", "paid_service"),
        ("ソフトバンクやけど入れるん？", "paid_service"),
        ("アドバイザーも無料？", "free_trial"),
        ("2020年7月10日なら無料やった？", "free_trial"),
        ("記事ってタダで読めた？", "free_articles"),
        ("記事の無料公開", "free_articles"),
        ("カードを50万円不正利用された、補償される？", "fraud_cover"),
        ("PayPayで勝手に払われた、いくら出る？", "fraud_cover"),
        ("2020年7月10日なら？", None),
        ("こんにちは", None),
    ],
)
def test_scheme_named(text, scheme):
    assert scheme_in(text) == scheme


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        ("auでも使える？", {"docomo_line": False}),
        ("ａｕユーザーです", {"docomo_line": False}),
        ("ドコモじゃないけど使える？", {"docomo_line": False}),
        ("ドコモの回線じゃないんです", {"docomo_line": False}),
        ("うちはドコモです", {"docomo_line": True}),
        ("アドバイザーも無料？", {"staff_not_adviser": False}),
        ("2回目なんですが無料？", {"first_case": False}),
        ("はじめての相談で、ツイッターの悪口のことです", {"first_case": True, "sns_topic": True}),
        ("ネット通販の詐欺の相談", {"sns_topic": False}),
        ("ギフトカードを買わされた", {"cashless_fraud": False}),
        ("クレカを勝手に使われた", {"cashless_fraud": True}),
        (
            "カード会社に不正利用と認められなかった",
            {"cashless_fraud": True, "provider_recognised": False},
        ),
        ("あんしんサポートには入っていません", {"subscriber": False}),
        ("使えますか", {}),
        # a question about the rule, not a fact about the person
        ("ドコモじゃないとダメ？", {}),
        ("ドコモ限定なん？", {}),
    ],
)
def test_facts_stated_in_a_question(text, facts):
    assert facts_in(text) == facts


@pytest.mark.parametrize(
    ("fact", "text", "intent", "value"),
    [
        ("docomo_line", "はい", "affirm", True),
        ("docomo_line", "/affirm", "affirm", True),
        ("docomo_line", "/deny", "deny", False),
        ("docomo_line", "いいえ", None, False),
        ("docomo_line", "持ってません", None, False),
        ("docomo_line", "ソフトバンクです", "check_eligibility", False),
        ("docomo_line", "どこもです", None, True),
        ("docomo_line", "せやで", None, True),
        ("docomo_line", "ちゃうで", None, False),
        ("docomo_line", "ｈａｉ", None, None),
        ("first_case", "2回目です", "affirm", False),
        ("first_case", "はじめてです", None, True),
        ("staff_not_adviser", "アドバイザーさんでした", None, False),
        ("staff_not_adviser", "専門スタッフの人", None, True),
        ("sns_topic", "いや、ネット通販の詐欺のことです", None, False),
        ("sns_topic", "そうです、インスタの誹謗中傷です", None, True),
        ("provider_recognised", "まだ調査中って言われた", None, False),
        ("provider_recognised", "認めてもらえました", None, True),
        ("provider_recognised", "認めてもらえませんでした", None, False),
        ("docomo_line", "わからへん", None, Reply.UNKNOWN),
        ("docomo_line", "覚えてないです", "deny", Reply.UNKNOWN),
        ("docomo_line", "/dont_know", "dont_know", Reply.UNKNOWN),
        ("docomo_line", "やめる", None, Reply.STOP),
        ("docomo_line", "もうええわ", "goodbye", Reply.STOP),
        ("docomo_line", "/stop", "stop", Reply.STOP),
        ("docomo_line", "🙂", "nlu_fallback", None),
        ("docomo_line", "", None, None),
    ],
)
def test_answers_to_a_question(fact, text, intent, value):
    assert answer_to(fact, text, intent) == value


@pytest.mark.parametrize(
    ("text", "yen"),
    [
        ("30万円", 300_000),
        ("３０万円", 300_000),
        ("300,000円", 300_000),
        ("1,200,000", 1_200_000),
        ("120万", 1_200_000),
        ("百万円", 1_000_000),
        ("百二十万円です", 1_200_000),
        ("五十万", 500_000),
        ("123万4567円", 1_234_567),
        ("1.5万円", 15_000),
        ("5000円くらい", 5_000),
        ("0円", 0),
        ("わからない", None),
        ("7月10日", None),
    ],
)
def test_yen_in_an_answer(text, yen):
    assert yen_in(text) == yen


@pytest.mark.parametrize("text", ["なし", "ない", "ゼロ", "何ももらってない"])
def test_nothing_from_the_provider_is_zero(text):
    assert yen_in(text, zero_words=True) == 0
    assert yen_in(text) is None


def test_amounts_in_a_story():
    story = "カードを５０万円分使われて、カード会社が２０万円は補償してくれるそうです"
    assert amounts_in(story) == {"loss_yen": 500_000, "provider_paid_yen": 200_000}
    assert amounts_in("150万円もやられた") == {"loss_yen": 1_500_000}
    assert amounts_in("2020年7月10日に相談") == {}


@pytest.mark.parametrize(
    ("yen", "text"),
    [(1_000_000, "100万円"), (1_234_567, "123万4,567円"), (5_000, "5,000円"), (0, "0円")],
)
def test_format_yen(yen, text):
    assert format_yen(yen) == text
