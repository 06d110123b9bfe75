"""The gateway's own replies, for when it answers instead of the assistant.

The copy is here; every fact in it (the center's name, number, hours and
whether it is open now, the emergency number) comes from soudan, i.e. from
soudan/knowledge.yml.
"""

from __future__ import annotations

import re
from datetime import datetime

from app.models import BotMessage, Button, HotlineInfo, Info
from soudan import knowledge as kb
from soudan.hours import now_jst
from soudan.replies import hotline_block

CENTER = "center"


def center_info() -> HotlineInfo:
    return HotlineInfo(**kb.hotline(CENTER).as_dict())


def info(max_message_length: int) -> Info:
    return Info(
        center=center_info(),
        hotlines=[HotlineInfo(**h.as_dict()) for h in kb.hotlines()]
        # a line's other number (from IP phones...) is tapped to call as well
        + [
            HotlineInfo(
                key=f"{h.key}_alt",
                name=h.name,
                number=h.alt_number,
                tel="tel:" + re.sub(r"\D", "", h.alt_number),
                hours=h.hours_text,
            )
            for h in kb.hotlines()
            if h.alt_number
        ],
        menu=[Button(title=b.title, payload=b.payload) for b in kb.menu_buttons()],
        max_message_length=max_message_length,
    )


def _center_contact(moment: datetime | None) -> tuple[str, Button]:
    line = kb.hotline(CENTER)
    block = hotline_block(line, moment or now_jst())
    return block, Button(title=f"{line.short_name}に電話する", payload=line.tel_uri)


def unavailable(moment: datetime | None = None) -> list[BotMessage]:
    """The assistant (Rasa, the action server) cannot answer now."""
    block, call = _center_contact(moment)
    text = (
        "申し訳ありません。ただいまチャットでお答えできません。"
        "少し時間をおいて、もう一度お試しください。\n"
        "お急ぎの場合は、お電話でご相談ください。\n\n"
        f"【相談先】\n{block}\n\n"
        + kb.render(
            "犯罪の被害にあっているなど緊急の場合は、{hotline.police_emergency.number}番に電話してください。"
        )
    )
    return [BotMessage(text=text, buttons=[call])]


def rate_limited(retry_after: int, moment: datetime | None = None) -> list[BotMessage]:
    block, call = _center_contact(moment)
    text = (
        "短い時間にたくさんのメッセージが届いたため、いまは受け付けられません。"
        f"{retry_after}秒ほど待ってから、もう一度送ってください。\n"
        "お急ぎの場合は、お電話でご相談ください。\n\n"
        f"【相談先】\n{block}"
    )
    return [BotMessage(text=text, buttons=[call])]


def empty() -> list[BotMessage]:
    return [BotMessage(text="メッセージが空です。ご相談の内容を入力してから送ってください。")]


def too_long(limit: int) -> list[BotMessage]:
    return [
        BotMessage(
            text=(
                f"メッセージが長すぎます（{limit}文字まで）。"
                "短くまとめるか、何回かに分けて送ってください。"
            )
        )
    ]


def unreadable() -> list[BotMessage]:
    return [
        BotMessage(
            text="メッセージを読み取れませんでした。お手数ですが、もう一度入力して送ってください。"
        )
    ]


def body_too_large() -> list[BotMessage]:
    return [
        BotMessage(
            text="送られたデータが大きすぎます。メッセージを短くして、もう一度送ってください。"
        )
    ]


def not_found() -> list[BotMessage]:
    return [BotMessage(text="お探しのページは見つかりませんでした。")]
