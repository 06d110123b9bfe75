"""axe-core (from npm, gateway/tests/a11y) in Debian's Chromium: no WCAG 2.2 AA
violation (tags wcag2a, wcag2aa, wcag21a, wcag21aa, wcag22aa) on the chat
page and on the staff pages, on a phone (390 × 844) and a desktop (1280 × 800).

The chat page is checked in the states a person sees: the welcome, a split
answer with its 「くわしく」 closed and open, feedback given, an answer
without details, large text. The staff pages are checked signed out (the
sign-in page, with and without its error) and signed in (inbox with an item
and its disclosures open, feedback counts, models, audit log with an entry).
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, Page, expect

from tests import browser_kit
from tests.browser_kit import (
    LOGS,
    VIEWPORTS,
    axe_violations,
    bot_messages,
    chat_page,
    screenshot,
    send_and_wait,
)
from tests.servers import start_gateway, stop
from tests.staff import NAME, PASSWORD, accounts, copy_project
from tests.stand_in_rasa import PLAIN, SPLIT, SPLIT_WITH_URL, StandInRasa

pytestmark = [pytest.mark.browser]

browser = browser_kit.browser
SIZES = list(VIEWPORTS)


def assert_no_violations(page: Page, where: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{where}: " + json.dumps(violations, ensure_ascii=False, indent=1)


@pytest.fixture(scope="module")
def staff_site(redis_url, key_prefix, tmp_path_factory) -> str:
    """A gateway in front of the stand-in Rasa, whose answers all ask for
    review (so each message lands in the staff inbox), with one staff account
    and a copy of the project for the staff tools."""
    home = tmp_path_factory.mktemp("a11y-staff")
    env = {
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"{key_prefix}:a11y:",
        "STAFF_ACCOUNTS_FILE": str(accounts(home / "staff_accounts.json")),
        "STAFF_PROJECT_ROOT": str(copy_project(home / "project")),
        "RATE_LIMIT_PER_CLIENT": "10000",
    }
    with StandInRasa(review="low_confidence") as rasa:
        proc, url = start_gateway(
            {**env, "RASA_URLS": rasa, "ACTIONS_URL": rasa}, LOGS / "gateway-a11y.log"
        )
        yield url
        stop(proc)


@pytest.mark.parametrize("size", SIZES)
def test_the_chat_page_has_no_wcag22_aa_violation(browser: Browser, staff_site: str, size: str):
    with chat_page(browser, staff_site, VIEWPORTS[size]) as chat:
        page = chat.page
        assert_no_violations(page, "welcome")
        send_and_wait(page, SPLIT)
        assert_no_violations(page, "split answer, details closed")
        bot_messages(page).last.locator("summary").click()
        expect(bot_messages(page).last.locator("details p.text")).to_be_visible()
        assert_no_violations(page, "split answer, details open")
        bot_messages(page).last.get_by_role("button", name="役に立った").click()
        expect(page.locator(".feedback-thanks")).to_be_visible()
        send_and_wait(page, SPLIT_WITH_URL)
        bot_messages(page).last.locator("summary").click()
        send_and_wait(page, PLAIN)
        assert_no_violations(page, "feedback given, a link, a plain answer")
        page.get_by_role("button", name="文字を大きく").click()
        assert_no_violations(page, "large text")
        screenshot(page, f"{size}-a11y-large-text")
        assert chat.errors == []


def sign_in(page: Page, site: str) -> None:
    page.goto(site + "/admin/login")
    page.fill("input[name=name]", NAME)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/admin/inbox")


@pytest.mark.parametrize("size", SIZES)
def test_the_staff_pages_have_no_wcag22_aa_violation(browser: Browser, staff_site: str, size: str):
    # Two exchanges in the inbox (one to dismiss, for the audit log) and a rating.
    with chat_page(browser, staff_site, VIEWPORTS[size]) as chat:
        send_and_wait(chat.page, SPLIT)
        bot_messages(chat.page).last.get_by_role("button", name="役に立たなかった").click()
        # The first rating of a fresh gateway opens its database: slow on a busy CI machine.
        expect(chat.page.locator(".feedback-thanks")).to_be_visible(timeout=20_000)
        send_and_wait(chat.page, PLAIN)
    context = browser.new_context(locale="ja-JP", viewport=VIEWPORTS[size])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(staff_site + "/admin/login")
        expect(page.get_by_role("heading", name="職員ログイン")).to_be_visible()
        assert_no_violations(page, "sign-in page")
        page.fill("input[name=name]", NAME)
        page.fill("input[name=password]", "not the password")
        page.get_by_role("button", name="ログイン").click()
        expect(page.locator(".notice.error")).to_be_visible()
        assert_no_violations(page, "sign-in page with its error")
        sign_in(page, staff_site)
        expect(page.locator("article.item").first).to_be_visible()
        for disclosure in page.locator("main details").all():
            disclosure.locator("summary").click()
        assert_no_violations(page, "inbox, disclosures open")
        screenshot(page, f"{size}-staff-inbox")
        page.locator("article.item").first.get_by_role("button", name="学習せずに外す").click()
        expect(page.locator(".notice.ok")).to_be_visible()
        assert_no_violations(page, "inbox after dismissing an item")
        for path, heading in [
            ("feedback", "回答の評価"),
            ("models", "再学習・公開"),
            ("analytics", "相談の傾向"),
            ("audit", "操作記録"),
            ("entries/new", "新しい話題"),
        ]:
            page.goto(f"{staff_site}/admin/{path}")
            expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
            assert_no_violations(page, f"/admin/{path}")
            screenshot(page, f"{size}-staff-{path.replace('/', '-')}", full_page=True)
        # The dismissal above is in the audit log.
        page.goto(f"{staff_site}/admin/audit")
        expect(page.locator("table.audit tbody tr").first).to_be_visible()
        assert errors == []
    finally:
        context.close()
