"""One turn's decision (soudan.turn.respond), from what the NLU read and the context.

Plain tests over soudan: the NLU's reading is given, so each rule of the
decision is pinned (urgent first, entries, follow-ups for the topic in
context, yes/no only as answers, a fallback that helps).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from soudan import catalogue
from soudan import knowledge as kb
from soudan.hours import JST
from soudan.phone import find_callers, find_prefixes
from soudan.turn import Turn, respond

WEEKDAY = datetime(2026, 11, 24, 14, 0, tzinfo=JST)  # Tuesday afternoon
SATURDAY_NIGHT = datetime(2026, 11, 28, 20, 0, tzinfo=JST)
EMERGENCY = kb.hotline("police_emergency").number
CENTER = kb.hotline("center").number


def turn(text, intent="faq", confidence=0.9, selector=(), topic=None, moment=WEEKDAY, **kw):
    return Turn(
        text=text,
        intent=intent,
        confidence=confidence,
        ranking=[(intent, confidence)],
        selector=list(selector),
        topic=topic,
        moment=moment,
        callers=find_callers(text),
        prefixes=find_prefixes(text),
        **kw,
    )


def first_line(answer) -> str:
    return answer.text.splitlines()[0]


# --- 1. a crime in progress wins in any turn -------------------------------


@pytest.mark.parametrize(
    "text, intent, topic",
    [
        ("警察を名乗る人がカードを取りに来るって", "faq", None),  # first message
        ("もう家の前に来てるみたい", "nlu_fallback", "nise_keisatsu"),  # in the middle
        ("いまATMの前で電話の指示を受けています", "ask_where", "refund"),  # read as a follow-up
        ("誰にも言うなって言われて電話つないだままです", "affirm", None),  # read as yes
    ],
)
def test_an_urgent_turn_leads_with_110(text, intent, topic):
    result = respond(turn(text, intent=intent, topic=topic)).answer
    assert result.urgent
    assert EMERGENCY in first_line(result)
    assert result.topic == "crime_in_progress"


def test_the_urgent_reply_says_what_not_to_do_for_the_situation():
    at_door = respond(turn("玄関に知らない男が来てカードを渡せと", topic="card_swap")).answer
    assert "渡さないでください" in at_door.text.splitlines()[1]
    at_atm = respond(turn("ATMの前にいて電話で操作を言われてる")).answer
    assert "ATMの操作をやめて" in at_atm.text


def test_the_nlu_reading_of_crime_in_progress_is_enough():
    result = respond(turn("やばいやばい", intent="crime_in_progress", confidence=0.7)).answer
    assert result.urgent and EMERGENCY in first_line(result)


# --- 2. entries, buttons, numbers --------------------------------------------


def test_a_confident_catalogue_reading_gets_its_entry():
    result = respond(turn("息子を名乗る男から300万円必要と電話", selector=[("ore_ore", 0.92)]))
    assert result.answer.topic == "ore_ore"
    assert result.answer.text == kb.render(catalogue.entry("ore_ore").now)
    assert result.answer.details  # the rest is behind 「くわしく」


def test_a_button_names_its_entry():
    result = respond(turn('/faq{"entry":"voicemail"}', entry="voicemail", selector=[]))
    assert result.answer.topic == "voicemail"


def test_close_entries_of_one_family_share_their_safe_answer():
    result = respond(
        turn("警察から電話でカードを", selector=[("nise_keisatsu", 0.48), ("card_swap", 0.40)])
    ).answer
    assert result.review == "ambiguous"
    family = catalogue.family("police_impostor")
    assert result.text.startswith(kb.render(family.now).splitlines()[0])
    assert {b.intent for b in result.buttons} == {"nise_keisatsu", "card_swap"}


def test_a_prefix_question_gets_the_prefix_entry_not_the_nine():
    result = respond(turn("0570から始まる番号ってなに？", selector=[("number_starts_with_9", 0.6)]))
    assert result.answer.topic == "prefix_navi"
    assert result.answer.prefixes == ["0570"]
    assert "ナビダイヤル" in result.answer.text


def test_a_pasted_number_is_explained_first():
    result = respond(turn("+44 20 7946 0958から着信がありました", selector=[]))
    assert first_line(result.answer).startswith("+44 20 7946 0958は、イギリス")
    assert result.answer.topic == "international_call"


# --- 4. follow-ups, for the topic in context --------------------------------


def test_where_to_call_follows_the_topic():
    sns = respond(turn("どこに相談すればいいの", intent="ask_where", topic="sns_defamation")).answer
    assert sns.kind == "followup"
    assert kb.hotline("jinken").number in sns.text
    assert not sns.text.startswith(kb.hotline("center").name)
    calls = respond(turn("どこに電話すれば", intent="ask_where", topic="unknown_number")).answer
    assert CENTER in calls.text


def test_is_it_free_follows_the_topic():
    sns = respond(turn("相談するのにお金かかりますか？", intent="ask_cost", topic="sns_defamation"))
    assert kb.render(kb.hotline("jinken").fee_text) in sns.answer.text
    assert "でんわんセンター" not in sns.answer.text.splitlines()[0]
    navi = respond(turn("それお金かかるん？", intent="ask_cost", topic="prefix_navi")).answer
    assert "ナビダイヤル" in navi.text and "かける側に通話料" in navi.text


def test_is_it_open_follows_the_topic_and_the_day():
    center = respond(
        turn("土曜日は？", intent="ask_hours", topic="unknown_number", moment=SATURDAY_NIGHT)
    ).answer
    assert "受付時間外" in center.text
    assert "年末年始" in center.details
    intl = respond(
        turn(
            "いまつながる？", intent="ask_hours", topic="stop_international", moment=SATURDAY_NIGHT
        )
    ).answer
    assert "自動音声は24時間受付中" in intl.text


def test_what_now_repeats_the_topics_first_lines():
    result = respond(turn("で、どうしたらいい？", intent="ask_what_now", topic="refund")).answer
    assert result.text.startswith(kb.render(catalogue.entry("refund").now).splitlines()[0])


def test_is_it_safe_never_says_safe():
    for topic in ["unknown_number", "international_call", "smishing_delivery", "nise_keisatsu"]:
        result = respond(turn("これ出ても大丈夫？", intent="ask_safe", topic=topic)).answer
        assert "安全です" not in result.full_text
        assert result.kind == "followup", topic


def test_how_to_block_follows_the_topic():
    sms = respond(turn("ブロックできる？", intent="ask_block", topic="smishing_delivery")).answer
    assert "SMS" in sms.text and sms.topic == "smishing_delivery"
    intl = respond(turn("止められる？", intent="ask_block", topic="international_call")).answer
    assert kb.hotline("intl_stop").number in intl.text


def test_a_person_for_the_topic_in_context():
    sns = respond(turn("人と話したい", intent="ask_human", topic="sns_defamation")).answer
    assert kb.hotline("jinken").name in sns.details
    assert sns.lines[0].key == "jinken"


def test_a_follow_up_naming_a_new_topic_is_about_that_topic():
    result = respond(
        turn(
            "ワン切りってブロックできる？",
            intent="ask_block",
            topic="sns_defamation",
            selector=[("one_ring", 0.93)],
        )
    ).answer
    assert result.topic == "one_ring"


# --- 5. small talk and yes/no -------------------------------------------------


def test_yes_no_words_are_not_answers_outside_a_question():
    result = respond(
        turn("それ、お金かかるん？", intent="affirm", confidence=0.6, topic="sns_defamation")
    )
    assert "ご相談の内容を書いてください" not in result.answer.text
    assert result.answer.kind != "smalltalk"
    assert result.answer.topic == "sns_defamation"  # still about the topic


def test_a_question_is_not_goodbye():
    result = respond(
        turn("これ出ても大丈夫？", intent="goodbye", confidence=0.6, topic="unknown_number")
    )
    assert "ご利用ありがとうございました" not in result.answer.full_text


def test_plain_small_talk_is_small_talk():
    assert "ありがとうございました" in respond(turn("さようなら", intent="goodbye")).answer.text
    assert respond(turn("はい", intent="affirm", topic=None)).answer.kind == "smalltalk"


def test_saying_the_answer_was_wrong_offers_the_other_readings():
    result = respond(
        turn("違う、そうじゃなくて", intent="deny", topic="ore_ore", candidates=["nise_keisatsu"])
    ).answer
    assert result.review == "misroute"
    assert next(b.intent for b in result.buttons) == "nise_keisatsu"


# --- 6. a fallback that helps -------------------------------------------------


def test_a_fallback_offers_the_likely_topics_and_110():
    result = respond(
        turn(
            "なんか変なの来た",
            intent="nlu_fallback",
            selector=[("smishing_delivery", 0.3), ("unknown_number", 0.2)],
        )
    ).answer
    assert result.kind == "fallback"
    assert [b.intent for b in result.buttons[:2]] == ["smishing_delivery", "unknown_number"]
    assert "もしかして" in result.text
    assert EMERGENCY in result.text


def test_a_fallback_never_offers_only_a_closed_line():
    result = respond(turn("えっと", intent="nlu_fallback", moment=SATURDAY_NIGHT)).answer
    assert EMERGENCY in result.text  # 110 takes calls at any hour
    assert any(line.key == "police_emergency" for line in result.lines)


def test_two_misses_hand_over_to_the_line_of_the_topic():
    first = respond(turn("？？", intent="nlu_fallback", topic="account_hijacked"))
    assert first.misses == 1
    second = respond(
        turn("ぜんぜんわからん", intent="nlu_fallback", topic="account_hijacked", misses=1)
    )
    assert second.answer.review == "two_misses"
    assert second.answer.lines[0].key != "center"  # SNS trouble goes to SNS help
    assert second.answer.lines[0].key == catalogue.entry("account_hijacked").hotlines[0]


# --- how sure: plain, hedged, or not understood --------------------------------


def test_an_unsure_reading_is_answered_with_a_hedge_and_the_other_readings():
    result = respond(
        turn(
            "はがきに さいばん と かいてあります",
            selector=[("postcard_billing", 0.33), ("docomo_articles", 0.08)],
        )
    ).answer
    assert result.topic == "postcard_billing"
    assert "「ハガキの架空請求" in result.text.splitlines()[0]
    assert result.review == "low_confidence"
    assert kb.render(catalogue.entry("postcard_billing").now).splitlines()[0] in result.text


def test_a_very_unsure_reading_is_not_answered():
    result = respond(turn("あのですね", selector=[("refund", 0.12), ("ore_ore", 0.1)])).answer
    assert result.kind == "fallback"
    assert [b.intent for b in result.buttons[:2]] == ["refund", "ore_ore"]


def test_what_follows_from_the_topic_is_the_likelier_reading():
    result = respond(
        turn(
            "もう開いちゃった",
            topic="smishing_delivery",
            selector=[("answered_suspicious", 0.2), ("sms_link_clicked", 0.15)],
        )
    ).answer
    assert result.topic == "sms_link_clicked"


def test_a_follow_up_ranked_second_is_taken_with_a_topic_in_context():
    t = turn("どこに言えばいい？", intent="faq", topic="qr_fraud", selector=[("qr_fraud", 0.3)])
    t.ranking = [("faq", 0.6), ("ask_where", 0.3)]
    result = respond(t).answer
    assert result.kind == "followup" and result.topic == "qr_fraud"


def test_a_pasted_message_with_a_link_gets_the_phishing_advice():
    text = "【重要】お客様のアカウントを停止しました。確認はこちら https://example.xyz/login"
    result = respond(turn(text, selector=[("refund", 0.16), ("smishing_official", 0.08)])).answer
    family = catalogue.family("sms")
    assert result.text.startswith(kb.render(family.now).splitlines()[0])


def test_a_named_line_gets_its_own_hours():
    result = respond(
        turn("188って土日は？", intent="nlu_fallback", topic="fake_billing", moment=SATURDAY_NIGHT)
    ).answer
    assert result.text.startswith(kb.hotline("consumer_hotline").name)
    assert result.topic == "fake_billing"


def test_follow_ups_about_a_card_handed_over_say_to_stop_it_first():
    result = respond(
        turn("銀行って日曜もつながる？", intent="ask_hours", topic="after_card_handed")
    ).answer
    first_step = kb.render(catalogue.entry("after_card_handed").now).splitlines()[0]
    assert result.text.splitlines()[0].endswith(first_step)


def test_a_prefix_in_passing_does_not_take_over_the_question():
    result = respond(
        turn("050からSMSも来てるの。SMSを止めたい", selector=[("sms_block", 0.82)])
    ).answer
    assert result.topic == "sms_block"


def test_a_generic_question_in_context_is_about_the_topics_lines():
    cost = respond(
        turn("相談料はかかる？", topic="malicious_app", selector=[("center_contact", 0.6)])
    ).answer
    assert cost.kind == "followup" and cost.topic == "malicious_app"
    assert kb.hotline("police_consult").number in cost.text
    where = respond(
        turn(
            "こういうのってどこが相談のってくれる？",
            topic="account_hijacked",
            selector=[("center_about", 0.3)],
        )
    ).answer
    assert where.kind == "followup" and where.topic == "account_hijacked"
    named = respond(
        turn(
            "でんわんセンターって相談料かかる？",
            topic="malicious_app",
            selector=[("center_contact", 0.6)],
        )
    ).answer
    assert named.topic == "center_contact"


def test_what_people_already_did_follows_any_scam():
    result = respond(
        turn(
            "1番押しちゃって、オペレーターに名前と生年月日を言ってしまった",
            topic="automated_voice",
            selector=[("after_personal_info", 0.19), ("answered_suspicious", 0.1)],
        )
    ).answer
    assert result.topic == "after_personal_info"


def test_a_crime_in_progress_read_second_still_leads_with_110():
    t = turn(
        "なんか変な人が玄関におるっぽい、どないしよ", intent="faq", selector=[("apo_den", 0.4)]
    )
    t.ranking = [("faq", 0.6), ("crime_in_progress", 0.3)]
    result = respond(t).answer
    assert result.urgent and EMERGENCY in first_line(result)


def test_an_unsure_reading_of_what_was_already_done_gets_its_steps():
    result = respond(
        turn(
            "ネットバンキングで振り込んでしまった、30分前", selector=[("nise_keisatsu_assets", 0.3)]
        )
    ).answer
    assert result.topic == "after_transfer"
    assert result.text.startswith("まず警察に届けてください")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("188ってのもあるよね。それは何の番号？", "契約や請求などお金のトラブルは188"),
        ("188ってタダでかけられる？", "消費者ホットライン（188）: 相談は無料です"),
        ("#9110って何時まで？", "警察相談専用電話 #9110 は、受付時間は"),
    ],
)
def test_a_named_line_is_answered_for_itself_when_the_model_is_unsure(text, expected):
    """The model's unsure reading (a prefix at 0.13) does not answer a question about a line."""
    outcome = respond(turn(text, confidence=1.0, selector=[("prefix_ip", 0.13)], topic="ore_ore"))
    assert expected in outcome.answer.text


def test_a_doubted_urgent_reading_gives_way_to_the_next_one():
    """The model read 「母が今でもあの時の詐欺のことを気にしていて…」 as urgent; nothing
    in it is: no 110 head, the next reading answers."""
    text = "母が今でもあの時の詐欺のことを気にしていて、自分を責めています。家族としてどう接したらいいですか"
    doubted = turn(
        text, intent="crime_in_progress", confidence=0.8, selector=[("protect_family", 0.6)]
    )
    doubted.ranking.append(("faq", 0.2))
    outcome = respond(doubted)
    assert not outcome.answer.text.startswith("今すぐ110番")
    assert outcome.answer.topic == "protect_family"


def test_two_unsure_fraud_readings_get_what_every_phone_scam_shares():
    # 「まごから でんわ おかね いる」: オレオレ 0.09, 還付金 0.08, nothing sure.
    result = respond(
        turn(
            "まごから でんわ かばん わすれた おかね いる ほんとう",
            selector=[("ore_ore", 0.09), ("refund", 0.08), ("silent_call", 0.05)],
        )
    ).answer
    assert result.kind == "answer" and result.review == "ambiguous"
    head = result.text.splitlines()
    assert "電話を切り" in head[0] and kb.hotline("police_consult").number in head[1]
    assert "はっきりわかりませんでした" in result.text  # said, after the action
    assert [b.intent for b in result.buttons[:2]] == ["ore_ore", "refund"]


def test_unsure_readings_that_share_nothing_are_still_not_understood():
    result = respond(
        turn("なんか来た", selector=[("ore_ore", 0.12), ("smishing_delivery", 0.1)])
    ).answer
    assert result.kind == "fallback"
    # a runner-up too weak to count is no shared reading either
    weak = respond(turn("えっと", selector=[("ore_ore", 0.12), ("refund", 0.05)])).answer
    assert weak.kind == "fallback"
