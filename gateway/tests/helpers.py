"""Small helpers shared by the tests."""

from __future__ import annotations

import re

import httpx

from soudan import knowledge as kb
from tests.servers import Stack, closed_port

COOKIE = "soudan_conversation"
CENTER = kb.hotline("center")


def say(client: httpx.AsyncClient, message: str, **extra):
    return client.post("/api/chat", json={"message": message, **extra})


def text_of(body: dict) -> str:
    return "\n\n".join(m.get("text", "") for m in body["messages"])


def payloads(body: dict) -> list[str]:
    return [b["payload"] for m in body["messages"] for b in m.get("buttons", [])]


def assert_center_contact(body: dict) -> None:
    """The gateway's own reply: the center's number and hours from soudan, and a
    button that dials it."""
    text = text_of(body)
    assert CENTER.number in text
    assert CENTER.hours_text in text
    assert CENTER.tel_uri in payloads(body)
    assert re.search(r"(です|ます|ください)。", text), text


def set_cookie_headers(resp: httpx.Response) -> list[str]:
    return resp.headers.get_list("set-cookie")


def down_url() -> str:
    """A Rasa or action server that is down: nothing listens there."""
    return f"http://127.0.0.1:{closed_port()}"


def live_settings(stack: Stack, **overrides) -> dict:
    return {"RASA_URLS": stack.rasa_urls, "ACTIONS_URL": stack.actions_url, **overrides}


def issued_cookie(resp: httpx.Response) -> str | None:
    """The conversation id that a response sets, if any."""
    for header in set_cookie_headers(resp):
        name, _, rest = header.partition("=")
        if name == COOKIE:
            return rest.split(";")[0]
    return None
