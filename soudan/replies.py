"""Replies with the live state of each hotline ("受付中" or the next opening).

`knowledge.Reply` is the static answer; `compose` adds, at a given moment,
whether each line is open and, when the first line is closed, what to do
meanwhile. Every answer has two parts: the head (the first lines: what to do
now and where to call, which elderly readers must see first) and the
details (the rest, with the hotline blocks). The web shows the details behind
「くわしく」, LINE sends them as the following message. Channels (Rasa
actions, the web page, LINE) all call this.
"""

from __future__ import annotations

from datetime import datetime

from soudan.hours import OpenState, open_state
from soudan.knowledge import Hotline, Reply, knowledge, render

EMERGENCY = "police_emergency"


def hotline_block(line: Hotline, moment: datetime) -> str:
    state = open_state(line, moment)
    text = f"{line.name} {line.number}\n{line.hours_text}"
    if state.known or state.automated_open:
        text += f"\n→ いまは{state.label()}"
    if line.fee_text:
        text += f"\n{render(line.fee_text)}"
    return text


def web_block(key: str) -> str:
    """A help that is only on the web: its name, what it does and its address."""
    spec = knowledge()["web_services"][key]
    return f"{spec['name']}（ウェブ）\n{spec['what']}。{spec['fee_text']}\n{spec['url']}"


def blocks(lines: list[Hotline], web: tuple[str, ...] | list[str], moment: datetime) -> str:
    parts = [hotline_block(line, moment) for line in lines] + [web_block(k) for k in web]
    return "【相談先】\n" + "\n\n".join(parts) if parts else ""


def closed_note(lines: list[Hotline], moment: datetime) -> str | None:
    """One line for the head when the first line to call cannot be reached now.

    Never leaves a person with only a closed line: it names when that line
    opens, a line of the answer that is open now if there is one, and 110 for
    emergencies.
    """
    if not lines:
        return None
    first = open_state(lines[0], moment)
    if not first.known or first.reachable:
        return None
    when = first.label()
    open_now = next(
        (
            line
            for line in lines[1:]
            if line.key != EMERGENCY and open_state(line, moment).reachable
        ),
        None,
    )
    note = f"※{lines[0].short_name}はいま{when}です。"
    if open_now:
        note += f"{open_now.short_name}（{open_now.number}）は受付中です。"
    return note


def compose(reply: Reply, moment: datetime, *, meanwhile: bool = False) -> str:
    """The full reply text at `moment` (an aware datetime), head and details in one.

    With `meanwhile`, a closed first line is followed by what the person can
    do until it opens (used when the bot hands over to a human).
    """
    head, details = compose_parts(reply, moment, meanwhile=meanwhile)
    return f"{head}\n\n{details}" if details else head


def compose_parts(reply: Reply, moment: datetime, *, meanwhile: bool = False) -> tuple[str, str]:
    """(head, details) of a reply: its text, then the hotline blocks."""
    if not reply.hotlines:
        return reply.text, ""
    details = blocks(reply.hotlines, (), moment)
    first: OpenState = open_state(reply.hotlines[0], moment)
    if meanwhile and first.known and not first.reachable:
        details += "\n\n受付が始まるまでの間は:\n" + render("{advice.meanwhile}")
    return reply.text, details
