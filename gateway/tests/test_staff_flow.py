"""The whole staff flow in Chromium (issue 17, point 6): sign in, find three
near-identical messages as one group, teach an example from it, create an
entry with the fact picker (the preview dials the picked number on the web),
retrain on the small fast path, read the comparison, promote, roll back.

Real all the way: a copy of the project with staffkit.small_training's data
(tests/staff/staffkit.py: a dozen examples per intent, few epochs, so that
training takes a minute or two), the gateway under uvicorn, staffops' own
background job, and a Rasa with its HTTP API serving MODEL (the "live" model
that the candidate is compared with, promoted over and rolled back to).
Screenshots go to results/screenshots/staff-flow-*.png.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from soudan import knowledge as kb
from staffops.inbox import Inbox
from staffops.records import database
from tests import browser_kit
from tests.browser_kit import DESKTOP, LOGS, screenshot
from tests.servers import ROOT, start_gateway, stop
from tests.staff import NAME, PASSWORD, accounts, copy_project

pytestmark = [pytest.mark.rasa, pytest.mark.browser]

browser = browser_kit.browser
# Teaching runs `rasa data validate` (about 40 s) before its page comes back;
# promotion loads a model into Rasa; a job trains and evaluates.
CHANGE_MS = 300_000
JOB_MS = 1_500_000
SIMILAR = [
    "知らない番号から何度も電話がかかってくる",
    "知らない番号から何回も電話がかかってくる",
    "知らない番号から、何度も電話がかかってくる！",
]


def staffkit():
    """tests/staff/staffkit.py (the staff tools' test helpers), for small_training."""
    spec = importlib.util.spec_from_file_location(
        "staffkit", ROOT / "tests" / "staff" / "staffkit.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_rasa(model: Path, token: str, log: Path) -> tuple[subprocess.Popen, str]:
    """Rasa alone with its HTTP API (no action server: promotion only loads models)."""
    port = free_port()
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="2",
        RASA_TELEMETRY_ENABLED="false",
        ACTION_ENDPOINT_URL="http://127.0.0.1:9/webhook",
    )
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                str(ROOT / ".venv" / "rasa" / "bin" / "rasa"),
                *("run", "--model", str(model), "--enable-api", f"--auth-token={token}"),
                *("--port", str(port), "--credentials", "credentials.yml"),
            ],
            cwd=ROOT / "chatbot",
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"rasa exited with {proc.returncode}; see {log}")
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.terminate()
            raise TimeoutError(f"rasa did not start in 300 s; see {log}")
        time.sleep(1)


@pytest.fixture(scope="module")
def flow_site(model: Path, redis_url: str, key_prefix: str, tmp_path_factory):
    home = tmp_path_factory.mktemp("staff-flow")
    project = copy_project(home / "project")
    staffkit().small_training(staffkit().Project.at(project))
    # MODEL is the live one: in the copy's models/, where staffops finds it by name.
    (project / "models").mkdir(exist_ok=True)
    live = project / "models" / model.name
    shutil.copy2(model, live)
    token = secrets.token_hex(24)  # never starts with "-" (read as an option)
    rasa, rasa_url = start_rasa(live, token, LOGS / "rasa-staff-flow.log")
    records = f"sqlite:///{home / 'records.sqlite'}"
    env = {
        "RASA_URLS": rasa_url,
        "RASA_TOKEN": token,
        "ACTIONS_URL": rasa_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"{key_prefix}:staff-flow:",
        "STAFF_ACCOUNTS_FILE": str(accounts(home / "staff_accounts.json")),
        "STAFF_PROJECT_ROOT": str(project),
        "DATABASE_URL": records,
        "RATE_LIMIT_PER_CLIENT": "10000",
    }
    proc, url = start_gateway(env, LOGS / "gateway-staff-flow.log")
    try:
        yield {"url": url, "records": records, "rasa": rasa_url, "token": token, "live": live}
    finally:
        stop(proc)
        rasa.terminate()
        try:
            rasa.wait(timeout=30)
        except subprocess.TimeoutExpired:
            rasa.kill()


def seed(records: str) -> list[dict]:
    inbox = Inbox(database.connect(records))
    return [
        inbox.add(
            {
                "text": text,
                "channel": "line" if n == 1 else "web",
                "reason": "low_confidence" if n else "fallback",
                "intents": [{"name": "faq/unknown_number", "confidence": 0.4}],
                "time": f"2026-12-01T21:5{n}:00+09:00",
            }
        )
        for n, text in enumerate(SIMILAR)
    ]


def running_model(site: dict) -> str:
    """The model file the Rasa server runs (its /status)."""
    status = httpx.get(f"{site['rasa']}/status", params={"token": site["token"]}, timeout=10)
    return Path(status.json().get("model_file", "")).name


def test_the_whole_staff_flow(browser: Browser, flow_site: dict):
    site = flow_site["url"]
    seeded = seed(flow_site["records"])
    center = kb.hotline("center")
    context = browser.new_context(locale="ja-JP", viewport=DESKTOP)
    context.set_default_timeout(30_000)
    page: Page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        # --- sign in
        page.goto(site + "/admin/login")
        page.fill("input[name=name]", NAME)
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url("**/admin/inbox")

        # --- the three messages are one group; the search finds it
        page.get_by_label("言葉で探す").fill("知らない番号")
        page.get_by_role("button", name="絞り込む").click()
        group = page.locator("article.item").filter(has_text="3件")
        expect(group).to_have_count(1)
        expect(group.locator("time")).to_have_text("2026年12月1日 21:52")
        expect(group).to_contain_text("ウェブ・LINE")  # newest first
        screenshot(page, "staff-flow-1-inbox-group", full_page=True)

        # --- teach an example from it: the whole group is handled
        group.get_by_label("話題").select_option("faq/unknown_number")
        group.get_by_role("button", name="この話題の例文にする（3件）").click(timeout=CHANGE_MS)
        notice = page.locator(".notice.ok")
        expect(notice).to_contain_text("例文として追加しました", timeout=CHANGE_MS)
        expect(notice).to_contain_text("まとめて3件を処理しました")
        expect(page.locator(f"#item-{seeded[-1]['id']}")).to_have_count(0)

        # --- a new entry: the number comes from the picker, the preview dials it
        page.get_by_role("link", name="新しい話題").first.click()
        page.get_by_label("話題の名前").fill("還付金をかたる電話")
        page.get_by_label("相談の例").fill(
            "市役所から還付金があると電話がきた\n"
            "医療費の払い戻しがあるのでATMに行けと言われた\n"
            "還付金の手続きをするから銀行に行ってと電話で言われた"
        )
        answer = page.locator("#answer")
        answer.fill("ATMで還付金は受け取れません。電話を切って、")
        page.get_by_label("知識ファイルの項目").select_option(f"｛{center.short_name}の電話番号｝")
        page.get_by_role("button", name="差し込む").click()
        answer.press("End")
        answer.type("に相談してください。")
        page.get_by_label(f"{center.short_name}（{center.number}）").check()
        tel = page.locator(f'#preview .preview-web a.tel[href="{center.tel_uri}"]').first
        expect(tel).to_have_text(center.number)
        expect(page.locator("#preview .preview-line")).to_contain_text(center.number)
        assert "{hotline" not in answer.input_value()  # staff never see a placeholder
        screenshot(page, "staff-flow-2-new-entry-preview", full_page=True)
        page.get_by_role("button", name="話題を追加する").click(timeout=CHANGE_MS)
        expect(page.locator(".notice.ok")).to_contain_text(
            "新しい話題「還付金をかたる電話」を追加しました", timeout=CHANGE_MS
        )

        # --- retrain on the small data, then read the comparison
        page.get_by_role("link", name="再学習・公開").click()
        page.get_by_role("button", name="再学習").click(timeout=CHANGE_MS)
        page.wait_for_url("**/admin/jobs/*")
        expect(page.locator("#comparison")).to_be_visible(timeout=JOB_MS)
        expect(page.locator("#decision")).not_to_be_empty()
        screenshot(page, "staff-flow-3-comparison", full_page=True)

        # --- promote (a small training is worse: the reason is written down)
        assert running_model(flow_site) == flow_site["live"].name
        override = page.locator("textarea[name=override]")
        if override.count():
            override.fill("ブラウザテスト：小さな学習データでの公開の確認")
        page.locator("#comparison form button[type=submit]").click(timeout=CHANGE_MS)
        expect(page.locator(".notice.ok")).to_contain_text("公開しました", timeout=CHANGE_MS)
        screenshot(page, "staff-flow-4-promoted", full_page=True)
        promoted = running_model(flow_site)
        assert promoted != flow_site["live"].name  # the candidate serves now

        # --- roll back to the model that was live
        page.get_by_role("button", name="元に戻す").click(timeout=CHANGE_MS)
        expect(page.locator(".notice.ok")).to_contain_text(
            "前のモデルに戻しました", timeout=CHANGE_MS
        )
        assert running_model(flow_site) == flow_site["live"].name
        page.get_by_role("link", name="操作記録").click()
        audit_rows = page.locator("table.audit tbody")
        for action in ("例文を追加", "新しい話題", "再学習", "公開", "元に戻す", "受信箱の処理"):
            expect(audit_rows).to_contain_text(action)
        screenshot(page, "staff-flow-5-audit", full_page=True)
        assert errors == []
    finally:
        context.close()
