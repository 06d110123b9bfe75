"""Rasa's REST answer as the gateway's messages: the 「くわしく」 part of a split
answer (CONTRACTS.md, `meta.details`) folded into its head message."""

from __future__ import annotations

from app.models import BotMessage, Button
from app.services.rasa import to_answer

CALL = {"title": "でんわんセンターに電話", "payload": "tel:0000"}
MORE = {"title": "電話に出てしまった", "payload": "/faq_answered_suspicious"}


def meta(**fields) -> dict:
    return {"custom": {"meta": {"topic": "unknown_number", "intents": [], **fields}}}


def test_the_details_message_folds_into_the_head():
    answer = to_answer(
        [
            {"recipient_id": "a", "text": "出ないでください。", "buttons": [MORE, CALL]},
            {"recipient_id": "a", "text": "くわしい説明"},
            meta(details=True),
        ]
    )
    assert answer.messages == [
        BotMessage(
            text="出ないでください。",
            buttons=[Button(**MORE), Button(**CALL)],
            details="くわしい説明",
        )
    ]
    assert answer.meta is not None and answer.meta.details is True
    # staff read the whole answer
    assert answer.text == "出ないでください。\n\nくわしい説明"


def test_buttons_of_the_details_join_the_heads_once():
    answer = to_answer(
        [
            {"text": "頭", "buttons": [CALL]},
            {"text": "続き", "buttons": [CALL, MORE]},
            meta(details=True),
        ]
    )
    [message] = answer.messages
    assert message.buttons == [Button(**CALL), Button(**MORE)]


def test_without_meta_details_every_message_stays_as_it_is():
    payloads = [
        [{"text": "一つ目"}, {"text": "二つ目"}, meta()],
        [{"text": "一つ目"}, {"text": "二つ目"}, meta(details=False)],
        [{"text": "一つ目"}, {"text": "二つ目"}, meta(details="yes")],  # not a bool: ignored
        [{"text": "一つ目"}, {"text": "二つ目"}],  # no meta at all
    ]
    for payload in payloads:
        answer = to_answer(payload)
        assert [m.text for m in answer.messages] == ["一つ目", "二つ目"], payload
        assert all(m.details is None for m in answer.messages)


def test_a_lone_message_is_kept_and_every_paragraph_after_the_head_is_details():
    [only] = to_answer([{"text": "だけ"}, meta(details=True)]).messages
    assert only == BotMessage(text="だけ")
    # Rasa's REST channel sends each paragraph of the details as a message.
    messages = to_answer(
        [{"text": "頭"}, {"text": "続き"}, {"text": "【相談先】"}, meta(details=True)]
    ).messages
    assert [(m.text, m.details) for m in messages] == [("頭", "続き\n\n【相談先】")]
    # without meta.details, nothing is folded
    plain = to_answer([{"text": "頭"}, {"text": "続き"}]).messages
    assert [(m.text, m.details) for m in plain] == [("頭", None), ("続き", None)]
