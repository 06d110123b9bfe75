"""A stand-in for Rasa's REST channel, on loopback, answering in the shape of
CONTRACTS.md: a head message (what to do now, where to call) with its buttons,
optionally a details message (the 「くわしく」 part, `meta.details: true`), then
the `custom.meta` item.

Every text is made by soudan from the knowledge file, as the real answers
are (a catalogue entry's head and details, or a one-message copy reply): no
fact is written here. `GET /` answers 200, as Rasa does, for the gateway's
health check.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI, Request

from soudan.dialogue import answer, entry_answer
from soudan.hours import now_jst
from tests.servers import free_port

# What the person writes to get each stand-in answer.
SPLIT = "くわしく付きの答え"  # head + details, about unknown numbers (the center)
SPLIT_WITH_URL = "URL付きの答え"  # head + details, docomo's service (its site's URL)
PLAIN = "ふつうの答え"  # one message, no details (today's answers)


def split(entry: str) -> tuple[str, str, list[dict[str, str]]]:
    """A catalogue entry's answer now: its head, its details, its buttons."""
    found = entry_answer(entry, now_jst())
    return found.text, found.details, found.button_dicts()


def plain(intent: str = "ask_human") -> tuple[str, list[dict[str, str]]]:
    """A one-message reply (its hotline blocks in the same text)."""
    found = answer(intent, "unknown_number", now_jst())
    text = f"{found.text}\n\n{found.details}" if found.details else found.text
    return text, found.button_dicts()


def meta(topic: str | None, details: bool, review: str | None = None) -> dict[str, Any]:
    return {
        "custom": {
            "meta": {
                "topic": topic,
                "intents": [{"name": f"faq/{topic or 'none'}", "confidence": 0.91}],
                "review": review,
                "details": details,
                "kind": "answer",
            }
        }
    }


def payload_for(message: str, sender: str, topic: str | None = "unknown_number") -> list[dict]:
    """The REST answer to `message` (anything not listed gets the plain answer)."""
    if message in {SPLIT, SPLIT_WITH_URL}:
        entry = "unknown_number" if message == SPLIT else "docomo_service"
        head, details, buttons = split(entry)
        return [
            {"recipient_id": sender, "text": head, "buttons": buttons},
            {"recipient_id": sender, "text": details},
            meta(topic, details=True),
        ]
    text, buttons = plain()
    return [{"recipient_id": sender, "text": text, "buttons": buttons}, meta(topic, details=False)]


def create_stand_in(topic: str | None, review: str | None) -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def hello() -> str:
        return "Hello from Rasa: stand-in"

    @app.post("/webhooks/rest/webhook")
    async def webhook(request: Request) -> list[dict]:
        body = await request.json()
        answer = payload_for(str(body.get("message", "")), str(body.get("sender", "")), topic)
        if review:
            answer[-1]["custom"]["meta"]["review"] = review
        return answer

    return app


class StandInRasa:
    """`with StandInRasa() as url:` a running stand-in on loopback.

    `topic`: the topic its answers carry (None: no feedback buttons, no LINE
    feedback quick replies); `review`: a review reason on every answer (puts
    each message into the staff inbox).
    """

    def __init__(self, topic: str | None = "unknown_number", review: str | None = None) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            create_stand_in(topic, review), host="127.0.0.1", port=port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("the stand-in Rasa did not start")
            time.sleep(0.02)
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
