"""The assistant's messages as LINE messages, within LINE's limits."""

from __future__ import annotations

from app.models import BotMessage, Button
from app.services.line_messages import (
    MAX_LABEL,
    MAX_MESSAGES,
    MAX_QUICK_REPLIES,
    MAX_TEXT,
    split_text,
    to_line,
)


def dicts(messages):
    return [m.to_dict() for m in messages]


def test_a_long_text_is_split_at_line_breaks():
    lines = [f"{i:04d} " + "あ" * 95 for i in range(120)]  # 100 characters a line
    pieces = split_text("\n".join(lines))
    assert all(len(p) <= MAX_TEXT for p in pieces)
    assert "\n".join(pieces) == "\n".join(lines)  # nothing lost, cut between lines
    assert pieces[1].startswith("0049 ") or pieces[1].startswith("0050 ")


def test_a_text_without_line_breaks_is_cut_at_the_limit():
    pieces = split_text("い" * 12_000)
    assert [len(p) for p in pieces] == [5000, 5000, 2000]


def test_at_most_five_messages_the_rest_joined_into_the_fifth():
    messages = [BotMessage(text=f"メッセージ{i}") for i in range(8)]
    out = dicts(to_line(messages))
    assert len(out) == MAX_MESSAGES
    assert out[3]["text"] == "メッセージ3"
    assert out[4]["text"] == "メッセージ4\n\nメッセージ5\n\nメッセージ6\n\nメッセージ7"


def test_buttons_become_quick_replies_on_the_last_message():
    buttons = [Button(title=f"ボタン{i}", payload=f"/intent_{i}") for i in range(20)]
    buttons.append(
        Button(title="でんわんセンターに電話する、いますぐに今日", payload="tel:0361621111")
    )
    out = dicts(to_line([BotMessage(text="一つ目"), BotMessage(text="二つ目", buttons=buttons)]))
    assert "quickReply" not in out[0] or out[0]["quickReply"] is None
    items = out[-1]["quickReply"]["items"]
    assert len(items) == MAX_QUICK_REPLIES
    first = items[0]["action"]
    assert first == {
        "type": "postback",
        "label": "ボタン0",
        "data": "/intent_0",
        "displayText": "ボタン0",
    }
    assert all(len(i["action"]["label"]) <= MAX_LABEL for i in items)


def test_a_tel_payload_is_a_tap_to_call_action_with_a_short_label():
    call = Button(title="国際電話不取扱受付センターに今すぐ電話をかける", payload="tel:0120210364")
    [out] = dicts(to_line([BotMessage(text="番号です", buttons=[call])]))
    [item] = out["quickReply"]["items"]
    assert item["action"]["type"] == "uri" and item["action"]["uri"] == "tel:0120210364"
    assert len(item["action"]["label"]) <= MAX_LABEL and item["action"]["label"].endswith("…")


def test_repeated_buttons_are_shown_once_and_empty_answers_use_the_fallback():
    same = Button(title="はい", payload="/affirm")
    out = dicts(
        to_line([BotMessage(text="a", buttons=[same]), BotMessage(text="b", buttons=[same])])
    )
    assert len(out[-1]["quickReply"]["items"]) == 1
    assert dicts(to_line([], fallback_text="すみません")) == [
        {"type": "text", "text": "すみません"}
    ]
    assert to_line([]) == []


def test_the_details_of_an_answer_are_the_following_message():
    call = Button(title="でんわんセンターに電話", payload="tel:0361621111")
    answer = BotMessage(text="まず、出ないでください。", buttons=[call], details="くわしい説明")
    out = dicts(to_line([answer]))
    assert [m["text"] for m in out] == ["まず、出ないでください。", "くわしい説明"]
    assert out[0].get("quickReply") is None  # the quick replies close the answer
    [item] = out[1]["quickReply"]["items"]
    assert item["action"]["uri"] == "tel:0361621111"


def test_long_details_stay_within_lines_limits():
    lines = [f"{i:03d} " + "説明" * 40 for i in range(200)]  # about 16,000 characters
    answer = BotMessage(text="頭の二行です。\nここに電話してください。", details="\n".join(lines))
    out = dicts(to_line([answer, BotMessage(text="次の話")]))
    assert len(out) == MAX_MESSAGES
    assert out[0]["text"] == "頭の二行です。\nここに電話してください。"  # the head, first and whole
    assert all(len(m["text"]) <= MAX_TEXT for m in out)
    assert out[1]["text"].startswith("000 ")
