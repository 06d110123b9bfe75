"""The rich menu definition, and the command that registers it (against the fake LINE API)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from app.core.config import Settings
from app.line_richmenu import IMAGE, MENU, load_menu, register
from soudan.catalogue import is_entry
from tests.fake_line import FakeLineServer

DOMAIN = Path(__file__).resolve().parents[3] / "chatbot" / "domain.yml"


def test_every_area_sends_an_intent_the_assistant_knows_and_fits_the_image():
    menu = load_menu()
    intents = set(yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))["intents"])
    for area in menu.areas:
        # "/intent", or "/faq{"entry": "<catalogue key>"}" for a catalogue entry
        intent, _, entities = area.action.data.removeprefix("/").partition("{")
        assert intent in intents
        if entities:
            assert is_entry(json.loads("{" + entities)["entry"]), area.action.data
        assert len(area.action.label) <= 20
        b = area.bounds
        assert b.x + b.width <= menu.size.width and b.y + b.height <= menu.size.height
    png = IMAGE.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (menu.size.width, menu.size.height)
    assert len(png) < 1024 * 1024  # LINE's limit for a rich menu image
    # no phone number in the menu: 「相談窓口の電話番号」 asks the assistant
    assert "tel:" not in MENU.read_text(encoding="utf-8")


def test_the_command_registers_the_menu_as_the_default():
    with FakeLineServer("token") as line:
        settings = Settings(
            LINE_CHANNEL_ACCESS_TOKEN="token", LINE_API_URL=line.url, LINE_DATA_API_URL=line.url
        )
        assert register(settings) == "richmenu-fake-0001"
    paths = [c.path for c in line.calls]
    assert paths == [
        "/v2/bot/richmenu/validate",
        "/v2/bot/richmenu",
        "/v2/bot/richmenu/richmenu-fake-0001/content",
        "/v2/bot/user/all/richmenu/richmenu-fake-0001",
    ]
    assert line.calls[1].body == json.loads(MENU.read_text(encoding="utf-8"))
    assert line.calls[2].body["bytes"] == IMAGE.stat().st_size
