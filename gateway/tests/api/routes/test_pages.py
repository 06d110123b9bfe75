"""GET /: the chat page, its static files, and no fact written outside soudan."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from soudan import knowledge as kb
from tests.helpers import CENTER
from tests.servers import GATEWAY


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.script_text: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in.append(tag)

    def handle_endtag(self, tag):
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data):
        if self._in and self._in[-1] in {"script", "style"} and data.strip():
            self.script_text.append(data)


async def page(client):
    resp = await client.get("/")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    parsed = Collect()
    parsed.feed(resp.text)
    return resp.text, parsed


async def test_no_inline_script_or_style(gateway):
    async with gateway() as client:
        _, parsed = await page(client)
        scripts = [a for t, a in parsed.tags if t == "script"]
        for attrs in scripts:
            src = attrs["src"]
            assert src.startswith("/static/")
            assert (await client.get(src)).status_code == 200
    assert scripts, "the page loads its script"
    assert parsed.script_text == []  # no inline code
    assert not any(t == "style" for t, _ in parsed.tags)
    assert not any("style" in a or any(k.startswith("on") for k in a) for _, a in parsed.tags)


async def test_the_page_is_japanese_with_a_live_message_list(gateway):
    async with gateway() as client:
        _, parsed = await page(client)
    assert ("html", {"lang": "ja"}) in parsed.tags
    logs = [a for t, a in parsed.tags if a.get("id") == "log"]
    assert logs and logs[0]["aria-live"] == "polite"
    assert any(a.get("id") == "typing" for _, a in parsed.tags)


async def test_noscript_gives_the_centers_number_and_hours_from_soudan(gateway):
    async with gateway() as client:
        html, _ = await page(client)
    noscript = re.search(r"<noscript>(.*?)</noscript>", html, re.S).group(1)
    assert CENTER.number in noscript
    assert CENTER.hours_text in noscript
    assert f'href="{CENTER.tel_uri}"' in noscript


async def test_head_of_the_page(gateway):
    async with gateway() as client:
        resp = await client.head("/")
    assert resp.status_code == 200


def test_no_phone_number_or_hours_are_written_in_the_gateway():
    """Facts come from soudan at run time: none is written in code, templates, JS or CSS."""
    facts = set()
    for line in kb.hotlines():
        facts |= {line.number, line.tel, line.tel_uri, line.hours_text}
    facts = {f for f in facts if len(re.sub(r"\D", "", f)) >= 3 or not f.isascii()}
    offenders = []
    for path in (GATEWAY / "app").rglob("*"):
        if path.suffix in {".py", ".html", ".js", ".css"}:
            text = path.read_text(encoding="utf-8")
            offenders += [(path.name, fact) for fact in facts if fact in text]
            offenders += [(path.name, m) for m in re.findall(r"\d{2,4}-\d{2,4}-\d{3,4}", text)]
            # Opening times such as 10:00 or 10時.
            offenders += [(path.name, m) for m in re.findall(r"\d{1,2}時|\b\d{1,2}:\d{2}\b", text)]
    assert offenders == []
