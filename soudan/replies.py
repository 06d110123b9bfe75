"""Replies with the live state of each hotline ("受付中" or the next opening).

`knowledge.Reply` is the static answer; `compose` adds, at a given moment,
whether each line is open and, when the first line is closed, what to do
meanwhile. Channels (Rasa actions, the web page, LINE) all call this.
"""

from __future__ import annotations

from datetime import datetime

from soudan.hours import OpenState, open_state
from soudan.knowledge import Hotline, Reply, render


def hotline_block(line: Hotline, moment: datetime) -> str:
    state = open_state(line, moment)
    text = f"{line.name} {line.number}\n{line.hours_text}"
    if state.known:
        text += f"\n→ いまは{state.label()}"
    return text


def compose(reply: Reply, moment: datetime, *, meanwhile: bool = False) -> str:
    """The full reply text at `moment` (an aware datetime).

    With `meanwhile`, a closed first line is followed by what the person can
    do until it opens (used when the bot hands over to a human).
    """
    if not reply.hotlines:
        return reply.text
    blocks = "\n".join(hotline_block(line, moment) for line in reply.hotlines)
    text = f"{reply.text}\n\n【相談先】\n{blocks}"
    first: OpenState = open_state(reply.hotlines[0], moment)
    if meanwhile and first.known and not first.is_open:
        text += "\n\n受付が始まるまでの間は:\n" + render("{advice.meanwhile}")
    return text
