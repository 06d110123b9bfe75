"""Reading caller numbers out of messages (soudan.phone) and what the bot says about them."""

from __future__ import annotations

from datetime import datetime

import pytest

from soudan import knowledge as kb
from soudan.dialogue import number_answer
from soudan.hours import JST
from soudan.phone import (
    as_entities,
    classify,
    find_callers,
    find_prefixes,
    from_entities,
    prefix_entities,
    prefixes_from_entities,
)

# (as the user types it, kind, how the bot writes it back, area or country)
# Real ranges: city halls, well-known public lines, Ofcom's drama range,
# numbers the `phonenumbers` metadata accepts as valid.
NUMBERS = [
    ("03-3581-4321", "fixed", "03-3581-4321", "東京"),
    ("06-6345-6789", "fixed", "06-6345-6789", "大阪"),
    ("052-961-1111", "fixed", "052-961-1111", "名古屋"),
    ("011-231-4111", "fixed", "011-231-4111", "札幌"),
    ("092-711-4111", "fixed", "092-711-4111", "福岡"),
    ("075-222-3111", "fixed", "075-222-3111", "京都"),
    ("022-261-1111", "fixed", "022-261-1111", "仙台"),
    ("098-866-2333", "fixed", "098-866-2333", "那覇"),
    ("045-671-2121", "fixed", "045-671-2121", "横浜"),
    ("0466-25-1111", "fixed", "0466-25-1111", "藤沢"),
    ("0827-22-1111", "fixed", "0827-22-1111", "岩国"),
    ("(03)3581-4321", "fixed", "03-3581-4321", "東京"),
    ("０６－６３４５－６７８９", "fixed", "06-6345-6789", "大阪"),
    ("090-1234-5678", "mobile", "090-1234-5678", None),
    ("080-2345-6789", "mobile", "080-2345-6789", None),
    ("070-3456-7890", "mobile", "070-3456-7890", None),
    ("09012345678", "mobile", "090-1234-5678", None),
    ("０８０ー２３４５ー６７８９", "mobile", "080-2345-6789", None),
    ("050-3123-4567", "ip", "050-3123-4567", None),
    ("050 1234 5678", "ip", "050-1234-5678", None),
    ("0800-123-4567", "freedial", "0800-123-4567", None),
    ("0120-123-456", "freedial", "0120-123-456", None),
    ("0570-000-111", "navi", "0570-000-111", None),
    ("０５７０－０６４－３７０", "navi", "0570-064-370", None),
    ("0990-123-456", "premium", "0990-123-456", None),
    ("020-4123-4567", "m2m", "020-4123-4567", None),
    ("+44 20 7946 0958", "international", "+44 20 7946 0958", "イギリス"),
    ("+1 212-555-0123", "international", "+1 212-555-0123", "アメリカ合衆国"),
    ("+82 2-312-3456", "international", "+82 2-312-3456", "大韓民国"),
    ("+86 10 1234 5678", "international", "+86 10 1234 5678", "中華人民共和国"),
    ("+63 2 8123 4567", "international", "+63 2 8123 4567", "フィリピン"),
    ("+234 1 234 5678", "international", "+234 12345678", "ナイジェリア"),
    ("+7 495 123-45-67", "international", "+7 495 123-45-67", "ロシア"),
    ("+33 1 23 45 67 89", "international", "+33 1 23 45 67 89", "フランス"),
    ("+49 30 1234567", "international", "+49 30 1234567", "ドイツ"),
    ("+675 321 1234", "international", "+675 321 1234", "パプアニューギニア"),
    ("010-44-20-7946-0958", "international", "+44 20 7946 0958", "イギリス"),
    ("0044 20 7946 0958", "international", "+44 20 7946 0958", "イギリス"),
    ("999-123-4567", "starts_with_9", "999-123-4567", None),
    ("9-1234-5678", "starts_with_9", "9-1234-5678", None),
    ("91 98765 43210", "starts_with_9", "91 98765 43210", None),
    ("03-1234-56789", "invalid", "03-1234-56789", None),
    ("031234567890123456789", "invalid", "031234567890123456789", None),
]


@pytest.mark.parametrize(("typed", "kind", "shown", "where"), NUMBERS)
def test_numbers_are_classified(typed, kind, shown, where):
    [caller] = find_callers(f"{typed}から着信がありました")
    assert (caller.kind, caller.display) == (kind, shown)
    assert (caller.country if kind == "international" else caller.area) == where
    assert caller.known is None


@pytest.mark.parametrize("typed", ["03-6162-1111", "０３－６１６２－１１１１", "03ー6162ー1111"])
def test_the_centers_own_number_is_recognised(typed):
    [caller] = find_callers(typed)
    assert caller.known == kb.hotline("center")


@pytest.mark.parametrize("key", ["center", "docomo_support", "intl_stop"])
def test_every_official_number_in_the_knowledge_file_is_recognised(key):
    line = kb.hotline(key)
    [caller] = find_callers(f"{line.number}って何の番号？")
    assert caller.known == line


@pytest.mark.parametrize(
    ("typed", "word"),
    [
        ("非通知でかかってきた", "非通知"),
        ("ひつうちって出た", "非通知"),
        ("公衆電話から何度も", "公衆電話"),
        ("表示圏外って出た", "表示圏外"),
        ("通知不可能と表示", "通知不可能"),
    ],
)
def test_display_words(typed, word):
    [caller] = find_callers(typed)
    assert (caller.kind, caller.word) == ("display", word)


@pytest.mark.parametrize(
    "text",
    [
        "〒100-8926に住んでます",
        "郵便番号1000013です",
        "2026-11-22に電話があった",
        "12,000円払えと言われた",
        "100000000円の請求",
        "0312345",
        "電話は3回かかってきた",
        "20時15分ごろ",
        "",
        "😀😀😀",
    ],
)
def test_false_friends_are_not_phone_numbers(text):
    assert find_callers(text) == []


def test_several_numbers_in_one_message_in_order_without_repeats():
    text = "090-1234-5678と+44 20 7946 0958と、また090-1234-5678から。あと非通知も"
    assert [c.kind for c in find_callers(text)] == ["mobile", "international", "display"]


def test_a_very_long_digit_string_does_not_crash_or_claim():
    callers = find_callers("1" * 5000)
    assert all(c.kind in {"invalid", "starts_with_9"} for c in callers)
    assert classify("0" * 40).kind == "invalid"


def test_entities_round_trip_for_the_rasa_pipeline():
    text = "さっき０５７０－０００－１１１と非通知から"
    entities = as_entities(text)
    assert [e["entity"] for e in entities] == ["phone_number", "caller_display"]
    assert [c.kind for c in from_entities(entities)] == ["navi", "display"]


MOMENT = datetime(2026, 11, 24, 12, 0, tzinfo=JST)  # a Tuesday noon


def reply_to(text: str) -> str:
    return number_answer(find_callers(text), find_prefixes(text), MOMENT).full_text


@pytest.mark.parametrize("typed, _k, _s, _w", [*NUMBERS, ("03-6162-1111", "", "", "")])
def test_the_bot_never_calls_a_number_safe_or_a_scammers(typed, _k, _s, _w):
    text = reply_to(typed)
    assert kb.render("{numbering.spoofing}") in text
    for claim in ("安全です", "安全な番号", "詐欺の番号です", "詐欺師の番号"):
        assert claim not in text


def test_known_number_is_named_with_the_spoofing_warning():
    text = reply_to("03-6162-1111から電話")
    assert text.startswith(f"03-6162-1111は、{kb.hotline('center').name}の番号です。")


def test_international_number_leads_to_stopping_international_calls():
    result = number_answer(find_callers("+44 20 7946 0958から着信"), [], MOMENT)
    assert "イギリスからの" in result.text.splitlines()[0]
    assert kb.hotline("intl_stop").number in result.text
    assert "受付中" in result.full_text
    assert result.topic == "international_call"


def test_navi_dial_explains_the_charge():
    assert "かけ放題のプランでも無料になりません" in reply_to("0570-000-111って何？")


def test_a_number_starting_with_9_is_uncertain():
    text = reply_to("999-123-4567")
    assert "確かではありません" in text


def test_only_three_numbers_are_explained_at_once():
    text = reply_to("090-1234-5678、080-2345-6789、070-3456-7890、050-3123-4567")
    assert "ほかに1件" in text
    assert "050-3123-4567" not in text


# Questions about a prefix alone (issue: 「＋１から始まる番号」「０９０から始まる」
# 「0570から始まる番号ってなに？」 were all answered as numbers starting with 9).
@pytest.mark.parametrize(
    "text, value, entry",
    [
        ("＋１から始まる番号から着信がありました", "+1", "international_call"),
        ("０９０から始まる知らない番号から着信", "090", "prefix_mobile"),
        ("0570から始まる番号ってなに？", "0570", "prefix_navi"),
        ("0120の番号って無料？", "0120", "prefix_freedial"),
        ("0800からの電話", "0800", "prefix_freedial"),
        ("050の番号ってどこからかけてるの", "050", "prefix_ip"),
        ("070で始まる番号", "070", "prefix_mobile"),
        ("020から始まる番号って何", "020", "prefix_020"),
        ("060の番号から着信", "060", "prefix_060"),
        ("0990から始まる番号", "0990", "prefix_0990"),
        ("184をつけてかけると？", "184", "prefix_184_186"),
        ("186って何", "186", "prefix_184_186"),
        ("9から始まる番号から電話があった", "9", "number_starts_with_9"),
        ("+44の番号から電話", "+44", "international_call"),
        ("+675って何？", "+675", "international_call"),
        ("＋から始まる電話", "+", "international_call"),
        ("010から始まる番号が表示された", "010", "prefix_010"),
        ("03から始まる番号から何度も", "03", "prefix_fixed"),
    ],
)
def test_prefix_questions_are_read_as_their_prefix(text, value, entry):
    found = find_prefixes(text)
    assert [(p.value, p.entry) for p in found] == [(value, entry)]
    assert [p.value for p in prefixes_from_entities(prefix_entities(text))] == [value]


@pytest.mark.parametrize(
    "text",
    ["1000円払った", "2020年7月", "3時に電話", "090-1234-5678から電話", "180日", "電話は110番"],
)
def test_prices_dates_and_whole_numbers_are_not_prefixes(text):
    assert find_prefixes(text) == []


def test_international_prefix_names_the_country():
    (plus1,) = find_prefixes("+1から始まる番号")
    assert plus1.country and plus1.country.endswith("など")  # +1 is shared (US, Canada...)
    (uk,) = find_prefixes("+44の番号")
    assert uk.country.startswith("イギリス")


@pytest.mark.parametrize(
    "text, expected, wrong",
    [
        ("＋１から始まる番号から着信がありました", "国際電話", "9から始まる番号は"),
        ("０９０から始まる知らない番号から着信", "携帯電話の番号", "9から始まる番号は"),
        ("0570から始まる番号ってなに？", "ナビダイヤル", "9から始まる番号は"),
    ],
)
def test_prefix_answers_are_right_for_the_prefix(text, expected, wrong):
    result = number_answer(find_callers(text), find_prefixes(text), MOMENT)
    assert expected in result.text
    assert wrong not in result.full_text
