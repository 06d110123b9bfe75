"""The chat page on a phone (390 × 844) and a desktop (1280 × 800), in Debian's
Chromium: the page as tall as the screen, phone numbers on one line, a new
answer shown from its first line, 44 px controls, 16 px text and the
「文字を大きく」 switch, the emergency call on the first screen, the input in
view with the keyboard open, the center's status in soudan's words.

Screenshots go to results/screenshots/ (phone-*.png, desktop-*.png) for review.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from playwright.sync_api import Browser, Page, expect

from soudan import knowledge as kb
from soudan.hours import open_state, to_jst
from tests import browser_kit
from tests.browser_kit import (
    LOGS,
    PHONE,
    VIEWPORTS,
    axe_violations,
    bot_messages,
    chat_page,
    screenshot,
    send_and_wait,
)
from tests.helpers import CENTER
from tests.servers import start_gateway, stop
from tests.stand_in_rasa import SPLIT, StandInRasa

pytestmark = [pytest.mark.browser]

browser = browser_kit.browser
site = browser_kit.site

# What people ask, in a row: each answer is long, with numbers and buttons.
FIVE = [
    "知らない番号から電話がかかってきた",
    "警察を名乗る人から電話があった",
    "SNSで悪口を書かれた",
    "ネットトラブルあんしんサポートについて教えて",
    "今つながりますか",
]
MIN_TARGET = 44  # px, each side of every button
# A Saturday evening: the center is closed (its status says so, in soudan's words).
SATURDAY_EVENING = "2026-11-28T20:00+09:00"

# Every control a person can press or tap (links inside running text excepted).
CONTROLS = "button, summary, a.quick, a.emergency-call"


@pytest.fixture(scope="module")
def saturday_site(redis_url, key_prefix) -> str:
    """A gateway pinned to a Saturday evening, in front of the stand-in Rasa."""
    with StandInRasa() as rasa:
        env = {
            "RASA_URLS": rasa,
            "ACTIONS_URL": rasa,
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": f"{key_prefix}:browser-saturday:",
            "SOUDAN_NOW": SATURDAY_EVENING,
        }
        proc, url = start_gateway(env, LOGS / "gateway-browser-saturday.log")
        yield url
        stop(proc)


def layout(page: Page) -> dict:
    """Sizes the tests check, measured in the page."""
    return page.evaluate(
        """(controls) => {
          const log = document.getElementById("log");
          const box = (e) => e.getBoundingClientRect();
          const numbers = [...document.querySelectorAll("#log .nowrap, #log a.tel")];
          return {
            viewport: window.innerHeight,
            page: document.documentElement.scrollHeight,
            bodyScroll: document.scrollingElement.scrollTop,
            logScroll: log.scrollHeight,
            logView: log.clientHeight,
            numbers: numbers.map((e) => ({text: e.textContent, lines: e.getClientRects().length})),
            small: [...document.querySelectorAll(controls)]
              .filter((e) => e.checkVisibility())
              .map((e) => ({text: e.textContent.trim(), w: box(e).width, h: box(e).height}))
              .filter((c) => c.w < 44 || c.h < 44),
            outside: [...document.querySelectorAll(controls)]
              .filter((e) => e.checkVisibility())
              .filter((e) => box(e).left < -1 || box(e).right > window.innerWidth + 1)
              .map((e) => e.textContent.trim()),
          };
        }""",
        CONTROLS,
    )


def first_line_in_view(page: Page, element) -> bool:
    """The element's first line is inside the visible part of the log and the viewport."""
    return page.evaluate(
        """(e) => {
          const log = document.getElementById("log").getBoundingClientRect();
          const top = e.getBoundingClientRect().top;
          const line = parseFloat(getComputedStyle(e).lineHeight) || 24;
          return top >= log.top - 1 && top + line <= log.bottom + 1
            && top >= 0 && top + line <= window.innerHeight;
        }""",
        element.element_handle(),
    )


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.rasa
def test_five_messages_keep_the_page_to_the_screen(browser: Browser, site: str, size: str):
    with chat_page(browser, site, VIEWPORTS[size]) as chat:
        page = chat.page
        screenshot(page, f"{size}-0-start")
        for turn, message in enumerate(FIVE, start=1):
            before = bot_messages(page).count()
            send_and_wait(page, message)
            answer = bot_messages(page).nth(before)
            page.wait_for_timeout(100)  # let the layout settle before measuring
            sizes = layout(page)
            # The page never grows: only the conversation scrolls.
            assert sizes["page"] <= sizes["viewport"], (turn, sizes["page"], sizes["viewport"])
            assert sizes["bodyScroll"] == 0
            # The new answer is shown from its first line, not from its end.
            assert first_line_in_view(page, answer.locator(":scope > p.text")), turn
            # Phone numbers on one line each; every control at least 44 × 44 px.
            assert sizes["numbers"], "the answers carry phone numbers"
            wrapped = [n for n in sizes["numbers"] if n["lines"] != 1]
            assert wrapped == [], wrapped
            assert sizes["small"] == [], sizes["small"]
            assert sizes["outside"] == [], sizes["outside"]
            screenshot(page, f"{size}-{turn}-answer")
        # The conversation is longer than its box: it scrolls, the page does not.
        assert sizes["logScroll"] > sizes["logView"]
        known = {h.number for h in kb.hotlines()}
        assert {n["text"] for n in sizes["numbers"]} & known
        assert axe_violations(page) == []
        assert chat.errors == []


@pytest.mark.rasa
def test_a_long_answer_opens_at_its_first_line_not_its_end(browser: Browser, site: str):
    with chat_page(browser, site, PHONE) as chat:
        page = chat.page
        send_and_wait(page, FIVE[2])
        answer = bot_messages(page).last
        assert first_line_in_view(page, answer.locator(":scope > p.text"))
        scrolled = page.evaluate(
            "() => { const l = document.getElementById('log');"
            " return l.scrollHeight - l.clientHeight - l.scrollTop; }"
        )
        assert scrolled > 0  # the end of the answer is below, to be scrolled to


@pytest.mark.rasa
def test_numbers_stay_whole_on_the_narrowest_phone(browser: Browser, site: str):
    with chat_page(browser, site, {"width": 320, "height": 640}) as chat:
        page = chat.page
        for message in FIVE[2:4]:
            send_and_wait(page, message)
        switch = page.get_by_role("button", name="文字を大きく")
        switch.click()  # and with large text
        sizes = layout(page)
        assert sizes["numbers"]
        assert [n for n in sizes["numbers"] if n["lines"] != 1] == []
        assert sizes["page"] <= sizes["viewport"] and sizes["small"] == []
        assert sizes["outside"] == [], sizes["outside"]  # nothing cut off at the sides
        # nothing sticks out sideways either
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        screenshot(page, "phone-320-large-text")
        # the header gave room to the conversation, and the switch is still there
        assert page.locator("#app").evaluate("a => a.classList.contains('short')")
        expect(page.locator(".emergency-call")).to_be_in_viewport()
        switch.click()
        expect(switch).to_have_attribute("aria-pressed", "false")


def font_sizes(page: Page) -> list[float]:
    """The font size of every visible piece of text on the page."""
    return page.evaluate(
        """() => {
          const sizes = [];
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) {
            const node = walker.currentNode;
            const element = node.parentElement;
            if (!node.textContent.trim() || !element || !element.checkVisibility()) continue;
            if (element.closest(".visually-hidden")) continue;
            sizes.push(parseFloat(getComputedStyle(element).fontSize));
          }
          return sizes;
        }"""
    )


def test_text_is_16px_and_the_large_text_switch_is_remembered(browser: Browser, saturday_site: str):
    with chat_page(browser, saturday_site, PHONE) as chat:
        page = chat.page
        send_and_wait(page, SPLIT)
        sizes = font_sizes(page)
        assert sizes and min(sizes) >= 16, sorted(set(sizes))
        switch = page.get_by_role("button", name="文字を大きく")
        expect(switch).to_have_attribute("aria-pressed", "false")
        switch.click()
        expect(switch).to_have_attribute("aria-pressed", "true")
        large = font_sizes(page)
        assert min(large) >= 20, sorted(set(large))
        body = page.locator("#log .message.bot p.text").first
        assert float(body.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) == 20
        screenshot(page, "phone-large-text")
        # remembered in this browser: after a reload, and on a new page
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        expect(page.get_by_role("button", name="文字を大きく")).to_have_attribute(
            "aria-pressed", "true"
        )
        assert min(font_sizes(page)) >= 20
        assert page.evaluate("localStorage.getItem('soudan.textSize')") == "large"
        page.get_by_role("button", name="文字を大きく").click()
        assert min(font_sizes(page)) >= 16
        assert page.evaluate("localStorage.getItem('soudan.textSize')") == "normal"
        # large text on a phone: still no page growth, still 44 px controls
        page.get_by_role("button", name="文字を大きく").click()
        send_and_wait(page, FIVE[1])
        sizes = layout(page)
        assert sizes["page"] <= sizes["viewport"]
        assert sizes["small"] == [] and sizes["outside"] == []


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_emergency_call_is_on_the_first_screen(browser: Browser, saturday_site: str, size: str):
    emergency = kb.hotline("police_emergency")
    with chat_page(browser, saturday_site, VIEWPORTS[size]) as chat:
        page = chat.page
        call = page.get_by_role("link", name=f"いま危険なときは{emergency.number}番")
        expect(call).to_be_visible()
        expect(call).to_have_attribute("href", emergency.tel_uri)
        box = call.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORTS[size]["height"] / 4
        assert box["height"] >= 44
        # it stays there, at the top, however long the conversation gets
        send_and_wait(page, FIVE[0])
        assert call.bounding_box()["y"] == box["y"]


def test_the_focus_ring_is_visible_on_every_control(browser: Browser, saturday_site: str):
    with chat_page(browser, saturday_site, PHONE) as chat:
        page = chat.page
        send_and_wait(page, SPLIT)  # links, 「くわしく」, quick replies, feedback buttons
        rings = []
        page.locator("#text-size").focus()  # the first control of the page
        for _ in range(60):  # from there to the send button, as a keyboard goes
            ring = page.evaluate(
                """() => {
                  const e = document.activeElement;
                  const s = getComputedStyle(e);
                  return {tag: e.tagName, id: e.id, text: e.textContent.trim().slice(0, 20),
                          style: s.outlineStyle, width: parseFloat(s.outlineWidth),
                          visible: e.matches(":focus-visible")};
                }"""
            )
            rings.append(ring)
            if ring["id"] == "send":
                break
            page.keyboard.press("Tab")
        assert rings[-1]["id"] == "send", rings
        assert {r["tag"] for r in rings} >= {"A", "BUTTON", "TEXTAREA", "DIV"}
        bad = [r for r in rings if not r["visible"] or r["style"] == "none" or r["width"] < 3]
        assert bad == [], bad


def test_the_input_stays_in_view_with_the_keyboard_open(browser: Browser, saturday_site: str):
    with chat_page(browser, saturday_site, PHONE) as chat:
        page = chat.page
        send_and_wait(page, FIVE[0])
        page.locator("#message").focus()

        def in_view(height: float) -> None:
            for selector in ("#message", "#send", ".emergency-call"):
                box = page.locator(selector).bounding_box()
                assert box["y"] >= 0 and box["y"] + box["height"] <= height + 1, (selector, box)
            assert page.locator("#log").bounding_box()["height"] >= 100

        # Browsers that resize the page for the keyboard (interactive-widget=resizes-content)
        page.set_viewport_size({"width": 390, "height": 430})
        page.wait_for_timeout(100)
        in_view(430)
        assert layout(page)["page"] <= 430
        screenshot(page, "phone-keyboard-open")
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(100)
        # Browsers that only shrink the visual viewport (iOS Safari): the page
        # is pinned to it. The keyboard is played by the visualViewport's height.
        page.evaluate(
            """() => {
              Object.defineProperty(window.visualViewport, "height", {configurable: true, get: () => 430});
              window.visualViewport.dispatchEvent(new Event("resize"));
            }"""
        )
        page.wait_for_timeout(100)
        assert page.locator("#app").evaluate("a => a.classList.contains('pinned')")
        in_view(430)
        # keyboard closed: the page fills the screen again
        page.evaluate(
            """() => {
              delete window.visualViewport.height;
              window.visualViewport.dispatchEvent(new Event("resize"));
            }"""
        )
        page.wait_for_timeout(100)
        assert not page.locator("#app").evaluate("a => a.classList.contains('pinned')")
        assert page.locator("#app").bounding_box()["height"] == PHONE["height"]


def test_the_centers_status_is_soudans_and_reads_at_7_to_1(browser: Browser, saturday_site: str):
    state = open_state(CENTER, to_jst(datetime.fromisoformat(SATURDAY_EVENING)))
    with chat_page(browser, saturday_site, PHONE) as chat:
        page = chat.page
        status = page.locator("#center-state")
        expect(status).to_have_text(f"いま：{state.label()}")
        assert "受付時間外" in state.label()
        send_and_wait(page, SPLIT)
        bot_messages(page).last.locator("summary").click()
        screenshot(page, "phone-details-open")
        # Enhanced contrast (WCAG AAA, 7:1) for all the text, the status included,
        # the typing indicator and a hovered quick reply too.
        page.evaluate("document.getElementById('typing').hidden = false")
        page.locator("#log .quick").first.hover()
        violations = axe_violations(page, rules=["color-contrast-enhanced"])
        assert violations == [], json.dumps(violations, ensure_ascii=False, indent=1)
        checked = page.evaluate(
            """async () => (await axe.run(document, {runOnly: {type: "rule", values: ["color-contrast-enhanced"]}}))
                 .passes.flatMap(r => r.nodes.map(n => n.target.join(" ")))"""
        )
        assert "#center-state" in checked and "#typing" in checked
