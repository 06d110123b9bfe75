"""The web chat in Debian's Chromium (Playwright), against the gateway under
uvicorn, the real Rasa and action server, and Redis; the 「くわしく」 part of
an answer against the stand-in Rasa (tests/stand_in_rasa.py) until the
assistant sends split answers itself."""

from __future__ import annotations

import json
import re
import socket

import pytest
from playwright.sync_api import Browser, expect

from soudan import knowledge as kb
from tests import browser_kit
from tests.browser_kit import (
    LOGS,
    TIMEOUT,
    Watched,
    bot_messages,
    chat_page,
    gateway_env,
    send_and_wait,
    user_messages,
)
from tests.helpers import CENTER
from tests.servers import start_gateway, stop
from tests.stand_in_rasa import PLAIN, SPLIT, SPLIT_WITH_URL, StandInRasa, split

pytestmark = [pytest.mark.rasa, pytest.mark.browser]

# The shared fixtures, under the names the tests ask for.
browser = browser_kit.browser
site = browser_kit.site


@pytest.fixture(scope="module")
def hung_site(stack, redis_url, key_prefix) -> str:
    """A gateway whose Rasa accepts connections and never answers."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)
        env = gateway_env(stack, redis_url, key_prefix, RASA_TIMEOUT="3")
        env["RASA_URLS"] = f"http://127.0.0.1:{hung.getsockname()[1]}"
        proc, url = start_gateway(env, LOGS / "gateway-browser-hung.log")
        yield url
        stop(proc)


@pytest.fixture(scope="module")
def stand_in_site(redis_url, key_prefix) -> str:
    """A gateway in front of the stand-in Rasa (split answers)."""
    with StandInRasa() as rasa:
        env = {
            "RASA_URLS": rasa,
            "ACTIONS_URL": rasa,
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": f"{key_prefix}:browser-split:",
        }
        proc, url = start_gateway(env, LOGS / "gateway-browser-split.log")
        yield url
        stop(proc)


@pytest.fixture
def chat(browser: Browser, site: str) -> Watched:
    with chat_page(browser, site) as watched:
        yield watched


def test_send_a_message_and_get_an_answer(chat: Watched):
    page = chat.page
    expect(bot_messages(page)).to_have_count(1)  # the welcome
    send_and_wait(page, "知らない番号から電話がかかってきた")
    expect(user_messages(page)).to_have_text(["知らない番号から電話がかかってきた"])
    expect(bot_messages(page).last).to_contain_text(CENTER.number)
    expect(page.locator("#message")).to_have_value("")
    expect(page.locator("#typing")).to_be_hidden()
    assert chat.errors == []  # no CSP violation, no script error


def test_quick_reply_sends_its_payload_and_shows_its_title(chat: Watched):
    page = chat.page
    first = kb.menu_buttons()[0]
    page.get_by_role("button", name=first.title).click()
    expect(bot_messages(page)).to_have_count(2)
    expect(user_messages(page)).to_have_text([first.title])
    assert len(chat.chat_posts) == 1 and json.loads(chat.chat_posts[0])["message"] == first.payload


def test_tel_links_for_buttons_and_for_numbers_in_the_text(chat: Watched):
    page = chat.page
    send_and_wait(page, "知らない番号から電話がかかってきた")
    reply = bot_messages(page).last
    inline = reply.locator("p.text a.tel")
    expect(inline.first).to_have_text(CENTER.number)
    expect(inline.first).to_have_attribute("href", CENTER.tel_uri)
    button = reply.locator(f'.quick-replies a[href="{CENTER.tel_uri}"]')
    expect(button).to_have_count(1)
    # Every tel: link on the page dials a number the knowledge file lists.
    known = {h.tel_uri for h in kb.hotlines()}
    hrefs = page.locator('a[href^="tel:"]').evaluate_all(
        "els => els.map(e => e.getAttribute('href'))"
    )
    assert hrefs and set(hrefs) <= known


def test_reload_keeps_the_conversation(chat: Watched):
    page = chat.page
    send_and_wait(page, "知らない番号から電話がかかってきた")
    answer = bot_messages(page).last.locator(":scope > p.text").inner_text()
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    expect(user_messages(page)).to_have_text(["知らない番号から電話がかかってきた"])
    expect(bot_messages(page)).to_have_count(1)  # the answer, and no second welcome
    assert bot_messages(page).last.locator(":scope > p.text").inner_text() == answer
    # The conversation goes on in context after the reload.
    send_and_wait(page, "今つながりますか")
    expect(bot_messages(page).last).to_contain_text(CENTER.number)


def test_enter_while_the_ime_is_composing_does_not_send(chat: Watched):
    page = chat.page
    page.focus("#message")
    page.evaluate(
        """() => {
          window.enterKeys = [];
          document.getElementById("message").addEventListener("keydown", (e) => {
            if (e.key === "Enter") window.enterKeys.push({composing: e.isComposing, code: e.keyCode});
          }, true);
        }"""
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Input.imeSetComposition", {"text": "しらない", "selectionStart": 4, "selectionEnd": 4}
    )
    enter = {
        "key": "Enter",
        "code": "Enter",
        "windowsVirtualKeyCode": 13,
        "nativeVirtualKeyCode": 13,
    }
    cdp.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", **enter})
    cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", **enter})
    page.wait_for_timeout(700)
    keys = page.evaluate("window.enterKeys")
    assert keys and (keys[0]["composing"] or keys[0]["code"] == 229), keys
    assert chat.chat_posts == []
    expect(user_messages(page)).to_have_count(0)
    # The conversion is confirmed (composition committed): now Enter sends.
    cdp.send("Input.insertText", {"text": "知らない番号から電話"})
    page.wait_for_timeout(100)
    page.keyboard.press("Enter")
    expect(user_messages(page)).to_have_count(1)
    expect(user_messages(page).first).to_contain_text("知らない番号から電話")
    expect(bot_messages(page)).to_have_count(2)
    assert len(chat.chat_posts) == 1


def test_shift_enter_is_a_new_line(chat: Watched):
    page = chat.page
    page.focus("#message")
    page.keyboard.type("一行目")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("二行目")
    expect(page.locator("#message")).to_have_value("一行目\n二行目")
    page.wait_for_timeout(300)
    assert chat.chat_posts == []
    page.keyboard.press("Enter")
    expect(user_messages(page)).to_have_text(["一行目\n二行目"])


XSS = "<img src=x onerror=alert(1)>"


def test_html_in_messages_is_shown_as_text(chat: Watched):
    page = chat.page
    send_and_wait(page, XSS)
    expect(user_messages(page)).to_have_text([XSS])
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    expect(user_messages(page)).to_have_text([XSS])  # from the history too
    assert page.locator("#log img").count() == 0
    page.wait_for_timeout(300)
    assert chat.dialogs == []


def test_typing_indicator_then_the_centers_contact_when_rasa_hangs(browser: Browser, hung_site):
    context = browser.new_context(locale="ja-JP")
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    try:
        page.goto(hung_site)
        page.wait_for_selector("body[data-ready=true]")
        page.fill("#message", "こんにちは")
        page.keyboard.press("Enter")
        expect(page.locator("#typing")).to_be_visible()
        expect(page.locator("#send")).to_be_disabled()
        expect(bot_messages(page)).to_have_count(2)
        expect(page.locator("#typing")).to_be_hidden()
        reply = bot_messages(page).last
        expect(reply).to_contain_text(CENTER.number)
        expect(reply).to_contain_text(CENTER.hours_text)
        expect(reply.locator(f'a[href="{CENTER.tel_uri}"]').first).to_be_visible()
    finally:
        context.close()


def test_without_javascript_the_page_gives_the_centers_number(browser: Browser, site: str):
    context = browser.new_context(java_script_enabled=False, locale="ja-JP")
    page = context.new_page()
    try:
        page.goto(site)
        notice = page.locator(".noscript")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text(CENTER.number)
        expect(notice).to_contain_text(CENTER.hours_text)
        expect(notice.locator("a")).to_have_attribute("href", CENTER.tel_uri)
        assert re.search(r"ください", notice.inner_text())
    finally:
        context.close()


def test_feedback_buttons_under_an_answer_are_sent_once(chat: Watched):
    page = chat.page
    send_and_wait(page, "知らない番号から何回も電話がかかってきます")
    row = bot_messages(page).last.locator(".feedback")
    expect(row.get_by_role("button")).to_have_text(["役に立った", "役に立たなかった"])
    with page.expect_response("**/api/feedback") as answer:
        row.get_by_role("button", name="役に立たなかった").click()
    assert answer.value.status == 200
    expect(row).to_have_text(
        "ご意見ありがとうございました。いただいた内容は、回答の改善に使わせていただきます。"
    )
    expect(row.get_by_role("button")).to_have_count(0)
    assert chat.errors == []


def test_the_staff_sign_in_page_renders_under_the_csp(browser: Browser, site: str):
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(site + "/admin/inbox")  # redirected to the sign-in page
    expect(page.get_by_role("heading", name="職員ログイン")).to_be_visible()
    assert page.url.endswith("/admin/login")
    page.fill("input[name=name]", "nobody")
    page.fill("input[name=password]", "not a password")
    page.get_by_role("button", name="ログイン").click()
    expect(page.locator(".notice.error")).to_contain_text("名前またはパスワードが違います")
    assert errors == [] or all("401" in e for e in errors), errors
    context.close()


def test_an_answer_shows_its_head_and_keeps_the_rest_behind_kuwashiku(
    browser: Browser, stand_in_site: str
):
    head, details, _ = split("unknown_number")
    with chat_page(browser, stand_in_site) as chat:
        page = chat.page
        send_and_wait(page, SPLIT)
        answer = bot_messages(page).last
        expect(answer.locator(":scope > p.text")).to_have_text(head)
        more = answer.locator("details.more")
        summary = more.locator("summary")
        expect(summary).to_have_text("くわしく")
        rest = more.locator("p.text")
        expect(rest).to_be_hidden()
        assert more.evaluate("d => d.open") is False
        # the quick replies and the tap-to-call button stay in view, under the disclosure
        expect(answer.locator(f'.quick-replies a[href="{CENTER.tel_uri}"]')).to_be_visible()
        summary.click()
        expect(rest).to_be_visible()
        expect(rest).to_have_text(details)
        assert more.evaluate("d => d.open") is True
        # a keyboard closes it again (a native disclosure: Enter on its summary)
        summary.focus()
        page.keyboard.press("Enter")
        expect(rest).to_be_hidden()
        # after a reload, from the history: the same, closed again
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        answer = bot_messages(page).last
        expect(answer.locator(":scope > p.text")).to_have_text(head)
        expect(answer.locator("details.more p.text")).to_be_hidden()
        # an answer without details has no disclosure
        send_and_wait(page, PLAIN)
        expect(bot_messages(page).last.locator("details")).to_have_count(0)
        assert chat.errors == []


def test_urls_in_answers_are_links_and_only_there(browser: Browser, stand_in_site: str):
    site_url = kb.knowledge()["docomo"]["site"]
    with chat_page(browser, stand_in_site) as chat:
        page = chat.page
        send_and_wait(page, SPLIT_WITH_URL)
        answer = bot_messages(page).last
        answer.locator("summary").click()
        link = answer.locator("a.url")
        expect(link).to_have_count(1)
        expect(link).to_have_text(site_url)
        expect(link).to_have_attribute("href", site_url)
        expect(link).to_have_attribute("rel", "noopener noreferrer")
        expect(link).to_have_attribute("target", "_blank")
        # What the person writes is never a link, URL or not.
        send_and_wait(page, f"{site_url} と javascript:alert(1) を開いていい？")
        expect(user_messages(page).last).to_contain_text(site_url)
        expect(page.locator("#log .message.user a")).to_have_count(0)
        hrefs = page.locator("#log a").evaluate_all("els => els.map(e => e.href)")
        assert hrefs and all(re.match(r"(https?|tel):", h) for h in hrefs), hrefs


def test_the_110_in_a_lines_name_is_not_a_call_to_the_police(chat: Watched):
    """「みんなの人権110番 0570-003-110」: the line's number is tapped to call, the
    110 of its name is not (it would dial the police)."""
    page = chat.page
    send_and_wait(page, "SNSで誹謗中傷されていてつらいです")
    reply = bot_messages(page).last
    expect(reply).to_contain_text("人権110番")
    links = reply.locator("p.text a.tel")
    expect(links.filter(has_text="0570-003-110").first).to_be_visible()
    assert "110" not in [t.strip() for t in links.all_inner_texts()]
