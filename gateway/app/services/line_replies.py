"""What the LINE bot says by itself (the assistant answers everything else).

Copy only; the menu comes from soudan (answers.yml `menu`).
"""

from __future__ import annotations

from app.models import BotMessage, Button
from soudan import knowledge as kb


def menu() -> list[Button]:
    return [Button(title=b.title, payload=b.payload) for b in kb.menu_buttons()]


def not_text() -> list[BotMessage]:
    """A sticker, a picture, a voice message, a location..."""
    return [
        BotMessage(
            text=(
                "ありがとうございます。申し訳ありませんが、スタンプや画像・音声・位置情報は"
                "読み取れません。ご相談の内容を文字で送ってください。\n"
                "下のボタンから選ぶこともできます。"
            ),
            buttons=menu(),
        )
    ]


def one_to_one() -> list[BotMessage]:
    """In a group or a room: the assistant is for one-to-one use."""
    return [
        BotMessage(
            text=(
                "このアカウントは、1対1のトークでご相談にお答えしています。"
                "個人的な内容を書かずに済むよう、グループではなく、"
                "このアカウントとのトークで直接メッセージを送ってください。"
            )
        )
    ]
