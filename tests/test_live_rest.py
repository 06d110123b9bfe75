"""The real action server and Rasa, spoken to over the REST channel.

Run by `make test-live` with MODEL set to the trained model.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx
import pytest
from phone_check import phone_like
from servers import SATURDAY_NIGHT

from soudan import catalogue, dialogue
from soudan import knowledge as kb
from soudan.hours import to_jst

pytestmark = pytest.mark.live

# The shared live stack (conftest.py) pins the action server's clock to a
# Saturday evening, when every staffed line is closed.
MOMENT = to_jst(datetime.fromisoformat(SATURDAY_NIGHT))


def exchange(url: str, text: str, sender: str | None = None) -> tuple[list[dict], dict]:
    """(the messages shown, the answer's meta)."""
    resp = httpx.post(
        f"{url}/webhooks/rest/webhook",
        json={"sender": sender or uuid.uuid4().hex, "message": text},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    shown = [m for m in resp.json() if "custom" not in m]
    metas = [m["custom"]["meta"] for m in resp.json() if "meta" in (m.get("custom") or {})]
    return shown, (metas[-1] if metas else {})


def say(url: str, text: str, sender: str | None = None) -> list[dict]:
    # The actions' custom JSON (topic, review) is for the channels, not shown.
    return exchange(url, text, sender)[0]


def text_of(messages: list[dict]) -> str:
    # Rasa sends a text with blank lines as several messages.
    return "\n\n".join(m.get("text", "") for m in messages)


# One realistic message per entry of several groups, none of them in the
# training data.
TOPICS = {
    "unknown_number": "さっきから見覚えのない番号から何回も着信があるんですが出た方がいいですか",
    "answered_suspicious": "変な電話にうっかり出てしもて、ちょっと話してもうた。まだ何も払ってへん",
    "automated_voice": "自動音声で「２時間後に電話が使えなくなります」って言われた",
    "stop_international": "国際電話を止めたいです。申込書の書き方を教えてください",
    "nise_keisatsu": "警察の捜査二課を名乗る人から、あなたの口座が犯罪に使われたと電話がありました",
    "refund": "区役所の者ですが医療費の払い戻しがありますって電話がきました",
    "smishing_delivery": "荷物をお届けに上がりましたが不在のため持ち帰りました、ってSMSが来た",
    "sns_defamation": "SNSで誹謗中傷されていてつらいです",
    "card_fraud": "クレジットカードの明細に身に覚えのない請求があります",
    "center_contact": "でんわんセンターの電話番号を知りたいです",
}


@pytest.mark.parametrize(("entry", "message"), TOPICS.items())
def test_entry_is_answered_from_the_knowledge_file(rasa_url, entry, message):
    replies, meta = exchange(rasa_url, message)
    expected = dialogue.entry_answer(entry, MOMENT)
    assert meta["topic"] == entry
    # Word for word, or (when the model was unsure) after one line saying which
    # entry this is, with the other readings as buttons before the entry's own.
    text, buttons = replies[0]["text"], replies[0].get("buttons", [])
    if text != expected.text:
        head, _, rest = text.partition("\n")
        assert rest == expected.text and catalogue.topic_label(entry) in head
    assert buttons[len(buttons) - len(expected.button_dicts()) :] == expected.button_dicts()
    assert meta["details"] is True and text_of(replies[1:]) == expected.details


def test_crime_in_progress_leads_with_110(rasa_url):
    replies, meta = exchange(
        rasa_url, "今ATMの前にいて、電話で言われたとおり操作してる！どうしよう"
    )
    assert replies[0]["text"].startswith(f"今すぐ{kb.hotline('police_emergency').number}番")
    assert meta["urgent"] is True


def test_button_payload_is_answered(rasa_url):
    replies, meta = exchange(rasa_url, '/faq{"entry":"stop_international"}')
    assert kb.hotline("intl_stop").number in text_of(replies)
    assert meta["review"] is None


@pytest.mark.parametrize(
    "message",
    [
        "",
        "😭😭😭🙏",
        "\x00\x01\x02",
        "あ" * 10_000,
        "知らない番号" * 1700,
        "ｱｲｳ abc 漢字 한국어 😀",
        '{"json": true}',
    ],
)
def test_bad_input_gets_a_polite_reply(rasa_url, message):
    replies = say(rasa_url, message)
    assert replies, "never silent"
    assert all(phone_like(m.get("text", "")) <= kb.known_numbers() for m in replies)


def test_two_misunderstandings_in_a_row_hand_over(rasa_url):
    sender = uuid.uuid4().hex
    first, meta1 = exchange(rasa_url, "ほげほげふがふが", sender)
    second, meta2 = exchange(rasa_url, "あばばばば", sender)
    assert meta1["review"] == "fallback" and meta2["review"] == "two_misses"
    assert kb.hotline("police_emergency").number in text_of(first)
    center = kb.hotline("center")
    assert center.number in text_of(second) and "受付時間外" in text_of(second)


def test_asking_for_a_person_gives_the_line_of_the_topic_and_its_state(rasa_url):
    sender = uuid.uuid4().hex
    say(rasa_url, "SNSで悪口を書かれて困っています", sender)
    reply = text_of(say(rasa_url, "人と話したいです", sender))
    jinken = kb.hotline("jinken")
    assert jinken.number in reply
    assert "受付時間外" in reply
    assert "11月30日（月）08:30から" in reply
    assert "受付が始まるまでの間は" in reply


def test_hours_question_is_answered_for_the_line_in_context(rasa_url):
    sender = uuid.uuid4().hex
    say(rasa_url, "国際電話を止める手続きをしたい", sender)
    reply = text_of(say(rasa_url, "土曜日もやってますか", sender))
    assert reply.startswith(kb.hotline("intl_stop").name)
    assert "自動音声は24時間受付中" in reply


def test_a_pasted_number_is_read_and_never_called_safe(rasa_url):
    reply = text_of(say(rasa_url, "さっき０３－６１６２－１１１１から着信がありました"))
    assert "でんわんセンター" in reply
    assert kb.render("{numbering.spoofing}") in reply
    assert "安全です" not in reply and "詐欺の番号です" not in reply


def test_no_reply_carries_an_unknown_number(rasa_url):
    known = kb.known_numbers()
    for message in [*TOPICS.values(), "人と話したい", "何ができるの？", "天気を教えて"]:
        for reply in say(rasa_url, message):
            assert phone_like(reply.get("text", "")) <= known


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("+44 20 7946 0958から着信がありました", "イギリスからの国際電話"),
        ("０５７０－０００－１１１って何？", "ナビダイヤル"),
        ("050-3123-4567", "IP電話"),
        ("999-123-4567から電話きた", "日本の通常の番号ではありません"),
        ("非通知でかかってきた", "「非通知」は"),
        ("表示圏外って出たんやけど", "「表示圏外」は"),
        ("06-6345-6789から何回もかかってくる", "大阪の固定電話"),
        ("＋１から始まる番号から着信がありました", "国際電話"),
        ("０９０から始まる知らない番号から着信", "携帯電話の番号"),
        ("0570から始まる番号ってなに？", "ナビダイヤル"),
    ],
)
def test_a_number_in_the_message_gets_the_numbers_own_answer(rasa_url, message, expected):
    reply = text_of(say(rasa_url, message))
    assert expected in reply
    assert kb.render("{numbering.spoofing}") in reply
    if not message.startswith("999"):
        assert "9から始まる番号は" not in reply


# --- the eligibility check (the form over REST) -----------------------------


def test_eligibility_form_with_buttons(rasa_url):
    sender = uuid.uuid4().hex
    first = say(rasa_url, "令和2年7月10日にドコモの電話相談してたら、無料になってた？", sender)
    assert "2020年7月10日の時点で確認します" in text_of(first)
    buttons = first[-1]["buttons"]
    assert [b["title"] for b in buttons][:2] == ["はい", "いいえ"]
    # ドコモ is in the question, so three questions are left (the topic, the
    # first case, the adviser); each answered with the はい button.
    for _ in range(3):
        reply = say(rasa_url, buttons[0]["payload"], sender)
    text = text_of(reply)
    assert text.startswith("2020年7月10日の時点では")
    assert text.count("○ ") == 5
    assert kb.hotline("docomo_support").number in text
    assert "受付時間外" in text  # Saturday night
    why = text_of(say(rasa_url, "なんで？", sender))
    assert "判断の理由" in why and why.count("○ ") == 5


def test_eligibility_form_with_free_text_and_the_cover_above_the_cap(rasa_url):
    sender = uuid.uuid4().hex
    say(rasa_url, "クレカを１５０万円分も勝手に使われました。ドコモの補償してもらえますか", sender)
    assert "認めましたか" in text_of(say(rasa_url, "はい、入ってます", sender))
    assert "いくら" in text_of(say(rasa_url, "認めてもらえました", sender))
    text = text_of(say(rasa_url, "なしです", sender))
    assert "最大100万円" in text and "約束するものではありません" in text
    assert phone_like(text) <= kb.known_numbers()


def test_eligibility_form_abandoned_half_way(rasa_url):
    sender = uuid.uuid4().hex
    say(rasa_url, "2020年8月にドコモに相談したんやけど無料やった？", sender)
    say(rasa_url, "はい", sender)
    stopped = text_of(say(rasa_url, "やめる", sender))
    assert "中断しました" in stopped
    # the conversation goes on normally afterwards
    after = text_of(say(rasa_url, "知らない番号から電話がきた", sender))
    assert kb.hotline("center").number in after


def test_not_eligible_today_is_said_first(rasa_url):
    text = text_of(say(rasa_url, "ドコモの電話相談、今から無料でできますか？"))
    assert "終了" in text.splitlines()[0] or "終わ" in text.splitlines()[0]
    assert kb.knowledge()["docomo"]["free_trial"]["period_text"] in text
