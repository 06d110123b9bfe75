"""What the browser tests share: Debian's Chromium through Playwright, a
gateway under uvicorn in front of the real Rasa (or the stand-in), pages that
record their errors, axe-core, and screenshots for review.

Test modules import the fixtures they use (`browser`, `site`) from here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.servers import GATEWAY, ROOT, start_gateway, stop

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOGS = ROOT / "results" / "gateway-logs"
SCREENSHOTS = ROOT / "results" / "screenshots"
TIMEOUT = 30_000  # ms
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}

# axe-core from the npm registry (gateway/tests/a11y: package.json and its
# lock; `make test-gateway` runs `npm ci` there).
AXE = GATEWAY / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
WCAG22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def gateway_env(stack, redis_url: str, key_prefix: str, **extra: str) -> dict[str, str]:
    return {
        "RASA_URLS": ",".join(stack.rasa_urls),
        "ACTIONS_URL": stack.actions_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"{key_prefix}:browser:",
        # Every browser test talks from 127.0.0.1: the per-address limit is
        # not what they test.
        "RATE_LIMIT_PER_CLIENT": "10000",
        **extra,
    }


@pytest.fixture(scope="module")
def site(stack, redis_url, key_prefix) -> Iterator[str]:
    """The gateway under uvicorn in front of the real Rasa and action server."""
    proc, url = start_gateway(
        gateway_env(stack, redis_url, key_prefix), LOGS / "gateway-browser.log"
    )
    yield url
    stop(proc)


class Watched:
    """A page with what it did: console errors, dialogs, chat requests."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.chat_posts: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", self._dialog)
        page.on("request", self._request)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, request) -> None:
        if request.method == "POST" and request.url.endswith("/api/chat"):
            self.chat_posts.append(request.post_data or "")


@contextmanager
def chat_page(
    browser: Browser, url: str, viewport: dict | None = None, **context
) -> Iterator[Watched]:
    """The chat page, loaded and ready, in a fresh browser context (a new person)."""
    ctx = browser.new_context(locale="ja-JP", viewport=viewport or DESKTOP, **context)
    ctx.set_default_timeout(TIMEOUT)
    page = ctx.new_page()
    watched = Watched(page)
    try:
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]")
        yield watched
    finally:
        ctx.close()


def bot_messages(page: Page):
    return page.locator("#log .message.bot")


def user_messages(page: Page):
    """The texts of the person's messages (without the hidden 「あなた：」)."""
    return page.locator("#log .message.user p.text")


def send_and_wait(page: Page, text: str) -> None:
    before = bot_messages(page).count()
    page.fill("#message", text)
    page.keyboard.press("Enter")
    expect(bot_messages(page)).to_have_count(before + 1)
    expect(page.locator("#typing")).to_be_hidden()


def axe_violations(page: Page, tags: list[str] | None = None, rules: list[str] | None = None):
    """axe-core's violations on the page as it is now: WCAG 2.2 AA by default,
    or only the given rules. Injected through the DevTools protocol, so the
    page's CSP (no inline script) stays as it is."""
    if not AXE.is_file():
        pytest.fail(
            f"{AXE} is missing: run `npm ci` in gateway/tests/a11y (make test-gateway does)"
        )
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    if rules:
        run_only = {"type": "rule", "values": rules}
    else:
        run_only = {"type": "tag", "values": tags or WCAG22_AA}
    result = page.evaluate(
        "options => axe.run(document, options)",
        {"runOnly": run_only, "resultTypes": ["violations"]},
    )
    return [
        {
            "rule": v["id"],
            "help": v["help"],
            "nodes": [
                {"target": n["target"], "summary": n.get("failureSummary", "")}
                for n in v["nodes"][:5]
            ],
        }
        for v in result["violations"]
    ]


def screenshot(page: Page, name: str, full_page: bool = False) -> Path:
    """Written to results/screenshots/ for review (e.g. phone-after-five.png)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9._-]', '-', name)}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
