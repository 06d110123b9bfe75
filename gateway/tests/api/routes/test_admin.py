"""The staff pages (/admin): sign-in, refusals, CSRF, sign-out, labelling
through staffops on a copy of the project tree, the audit log, retraining."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import pytest
import yaml
from starlette.routing import Route

from app.api.routes import admin
from app.services.staff import verify
from app.staff_accounts import main as accounts_cli
from staffops import audit
from tests.staff import NAME, PASSWORD, accounts, copy_project, csrf_of, sign_in, signed_in


@pytest.fixture
def project_copy(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("project"))


@pytest.fixture
def staff_gateway(gateway, tmp_path, project_copy):
    accounts_file = accounts(tmp_path / "staff_accounts.json", NAME, "suzuki", "yamada")

    def open_staff(**overrides):
        return gateway(
            STAFF_ACCOUNTS_FILE=accounts_file, STAFF_PROJECT_ROOT=project_copy, **overrides
        )

    return open_staff


def admin_routes() -> list[tuple[str, str]]:
    found = []
    # Every resource file's routes (the package's router includes them all).
    for route in (route for part in admin.PARTS for route in part.router.routes):
        assert isinstance(route, Route)
        for method in sorted(route.methods - {"HEAD"}):
            found.append(
                (
                    method,
                    route.path.replace("{item_id}", "x")
                    .replace("{group_id}", "x")
                    .replace("{job_id}", "x"),
                )
            )
    return found


async def test_every_admin_route_refuses_anonymous_requests(staff_gateway):
    routes = admin_routes()
    assert len(routes) >= 14
    async with staff_gateway() as client:
        for method, path in routes:
            if path == "/admin/login":
                continue
            resp = await client.request(method, path, data={"csrf": "x", "intent": "greet"})
            if path.startswith("/admin/api/"):
                assert resp.status_code == 401, (method, path)
            else:
                assert resp.status_code == 303, (method, path, resp.status_code)
                assert resp.headers["location"] == "/admin/login"
        # a forged session cookie is no better
        client.cookies.set("soudan_staff", "forged", path="/admin")
        assert (await client.get("/admin/inbox")).status_code == 303
        assert (await client.get("/admin/api/jobs/x")).status_code == 401


async def test_sign_in_pages_and_sign_out(staff_gateway):
    async with staff_gateway() as client:
        page = await client.get("/admin/login")
        assert page.status_code == 200
        assert "<script>" not in page.text and "style=" not in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        resp = await sign_in(client)
        assert resp.status_code == 303
        cookie = next(h for h in resp.headers.get_list("set-cookie") if "soudan_staff=" in h)
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        token = client.cookies.get("soudan_staff")
        for path in ("/admin/inbox", "/admin/feedback", "/admin/audit", "/admin/models"):
            page = await client.get(path)
            assert page.status_code == 200, path
            assert NAME in page.text
            assert page.headers["cache-control"] == "no-store"
        csrf = csrf_of((await client.get("/admin/inbox")).text)
        resp = await client.post("/admin/logout", data={"csrf": csrf})
        assert resp.status_code == 303 and resp.headers["location"] == "/admin/login"
        assert (await client.get("/admin/inbox")).status_code == 303
        # the old session token is dead, even when sent again
        client.cookies.set("soudan_staff", token, path="/admin")
        assert (await client.get("/admin/inbox")).status_code == 303


async def test_a_wrong_password_or_unknown_name_is_refused(staff_gateway):
    async with staff_gateway(client_ip="10.9.0.1") as client:
        for name, password in [(NAME, "wrong password!"), ("nobody", PASSWORD), (NAME, "")]:
            resp = await sign_in(client, name, password)
            assert resp.status_code == 401
            assert "名前またはパスワードが違います" in resp.text
            assert client.cookies.get("soudan_staff") is None
        assert (await client.get("/admin/inbox")).status_code == 303


async def test_sign_in_is_rate_limited(staff_gateway):
    async with staff_gateway(client_ip="10.9.0.2", STAFF_LOGIN_ATTEMPTS=3) as client:
        codes = [(await sign_in(client, "yamada", "wrong password!")).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        # even the right password waits now
        resp = await sign_in(client, "yamada", PASSWORD)
        assert resp.status_code == 429 and int(resp.headers["retry-after"]) > 0
    # successful sign-ins do not count, failures of other names from elsewhere neither
    async with staff_gateway(client_ip="10.9.0.3", STAFF_LOGIN_ATTEMPTS=3) as client:
        for _ in range(4):
            assert (await sign_in(client, "suzuki", PASSWORD)).status_code == 303


async def test_csrf_token_missing_or_wrong_is_403(staff_gateway):
    async with staff_gateway() as client:
        page = await client.get("/admin/login")
        resp = await client.post("/admin/login", data={"name": NAME, "password": PASSWORD})
        assert resp.status_code == 403  # the sign-in form has its token too
        csrf = await signed_in(client)
        item = await client.app.state.review.add_item(
            text="csrf の確認です", channel="web", reason="fallback"
        )
        for path in (
            "/admin/logout",
            f"/admin/inbox/{item['id']}/label",
            f"/admin/inbox/{item['id']}/dismiss",
            "/admin/retrain",
            "/admin/rollback",
        ):
            for data in ({}, {"csrf": "wrong"}, {"csrf": csrf_of(page.text)}):
                resp = await client.post(path, data={**data, "intent": "greet"})
                assert resp.status_code == 403, (path, data)
        # nothing happened: still signed in, the item still open
        assert (await client.get("/admin/inbox")).status_code == 200
        assert (await client.app.state.review.get_item(item["id"]))["status"] == "open"
        resp = await client.post(f"/admin/inbox/{item['id']}/dismiss", data={"csrf": csrf})
        assert resp.status_code == 200 and "受信箱から外しました" in resp.text


async def test_labelling_writes_valid_yaml_and_the_audit_log_says_who(staff_gateway, project_copy):
    from soudan.masking import mask

    text = "田中さんから 090-1234-5678 に知らない番号で何度も電話が来ました"
    async with staff_gateway() as client:
        review = client.app.state.review
        item = await review.add_item(
            text=text,
            channel="line",
            reason="low_confidence",
            intents=[{"name": "faq/unknown_number", "confidence": 0.41}],
            bot_reply="SMS の偽物に注意してください",
        )
        assert item["text"] == mask(text) and "090" not in item["text"]
        csrf = await signed_in(client)
        page = (await client.get("/admin/inbox")).text
        assert item["text"] in page and "0.41" in page and "LINE" in page
        assert "田中" not in page
        started = time.monotonic()
        resp = await client.post(
            f"/admin/inbox/{item['id']}/label",
            data={"csrf": csrf, "intent": "faq/unknown_number", "text": item["text"]},
        )
        assert resp.status_code == 200, resp.text
        assert "例文として追加しました" in resp.text, resp.text
        print(f"label with rasa data validate: {time.monotonic() - started:.1f} s")
        assert f'id="item-{item["id"]}"' not in resp.text  # it left the inbox
        resolved = await review.get_item(item["id"])
        assert resolved["status"] == "resolved" and resolved["resolved_by"] == NAME

        staff_nlu = project_copy / "chatbot" / "data" / "nlu" / "staff.yml"
        data = yaml.safe_load(staff_nlu.read_text(encoding="utf-8"))
        [block] = [b for b in data["nlu"] if b["intent"] == "faq/unknown_number"]
        assert item["text"] in block["examples"]

        # a refused change: the page says why, nothing is written
        before = staff_nlu.read_bytes()
        other = await review.add_item(text="もう一度同じ文", channel="web", reason="fallback")
        resp = await client.post(
            f"/admin/inbox/{other['id']}/new-topic",
            data={
                "csrf": csrf,
                "name": "faq_test_topic",
                "examples": "例文その一\n例文その二\n例文その三",
                "answer": "03-1234-5678 に電話してください",
            },
        )
        assert resp.status_code == 422
        assert 'class="notice error"' in resp.text
        assert staff_nlu.read_bytes() == before
        assert (await review.get_item(other["id"]))["status"] == "open"

        # a new topic: intent, examples, rule, domain entry and answer, validated
        resp = await client.post(
            f"/admin/inbox/{other['id']}/new-topic",
            data={
                "csrf": csrf,
                "name": "scam_refund_gw_test",
                "examples": "市役所から還付金があると電話がきた\n"
                "医療費の払い戻しがあるのでATMに行けと言われた\n"
                "還付金の手続きをするから銀行に行ってと電話で言われた",
                "answer": "還付金の手続きでATMに行くよう求める電話は詐欺です。"
                "{hotline.center.short_name}に相談してください。",
                "hotlines": ["center", "police_consult"],
            },
        )
        assert resp.status_code == 200, resp.text
        assert "scam_refund_gw_test" in resp.text
        domain = yaml.safe_load((project_copy / "chatbot" / "domain.yml").read_text())
        assert "scam_refund_gw_test" in domain["intents"]
        answers = yaml.safe_load((project_copy / "soudan" / "answers_staff.yml").read_text())
        assert answers["scam_refund_gw_test"]["hotlines"] == ["center", "police_consult"]
        assert (await review.get_item(other["id"]))["status"] == "resolved"

        entries = audit.read(admin.project(client.app.state.settings))
        actions = [(e["action"], e["who"]) for e in entries]
        assert ("label", NAME) in actions
        assert ("inbox_resolve", NAME) in actions
        assert ("refused", NAME) in actions
        assert ("new_topic", NAME) in actions
        audit_page = (await client.get("/admin/audit")).text
        assert "例文を追加" in audit_page and "変更の拒否" in audit_page and NAME in audit_page


async def test_promote_and_rollback_without_a_candidate_say_why(staff_gateway, project_copy):
    async with staff_gateway() as client:
        csrf = await signed_in(client)
        resp = await client.post("/admin/rollback", data={"csrf": csrf})
        assert resp.status_code == 409
        assert "戻せる前のモデルがありません" in resp.text
        assert (await client.get("/admin/jobs/nosuchjob")).status_code == 404


async def test_retraining_starts_a_job_whose_progress_the_page_polls(staff_gateway, project_copy):
    """The job is real (staffops.jobs.start: a detached `python -m staffops job
    run`) and is stopped once it has left the queue: the whole retraining is
    staffops' own tests' business (tests/staff, marked slow)."""
    async with staff_gateway() as client:
        csrf = await signed_in(client, "suzuki")
        resp = await client.post("/admin/retrain", data={"csrf": csrf})
        assert resp.status_code == 303
        job_id = resp.headers["location"].rsplit("/", 1)[-1]
        pid = None
        try:
            page = await client.get(f"/admin/jobs/{job_id}")
            assert page.status_code == 200
            assert 'data-active="true"' in page.text
            assert "/static/admin.js" in page.text
            deadline = time.monotonic() + 60
            seen = []
            while time.monotonic() < deadline:
                body = (await client.get(f"/admin/api/jobs/{job_id}")).json()
                seen.append(body["stage"])
                if body["stage"] not in {"queued"}:
                    break
                await asyncio.sleep(0.5)
            assert seen[-1] in {"waiting", "training", "trained", "evaluating", "failed"}, seen
            progress = json.loads(
                (project_copy / "results" / "staff-jobs" / f"{job_id}.json").read_text()
            )
            pid = progress.get("pid")
            assert progress["spec"]["who"] == "suzuki"
            # a second one is refused while this one runs
            again = await client.post("/admin/retrain", data={"csrf": csrf})
            assert again.status_code == 409 and "実行中" in again.text
            models_page = (await client.get("/admin/models")).text
            assert job_id in models_page
        finally:
            if pid:
                try:
                    os.killpg(pid, signal.SIGTERM)  # the job's own session (start_new_session)
                except ProcessLookupError:
                    pass


def test_the_accounts_command_stores_an_argon2_hash(tmp_path, monkeypatch, capsys):
    import io

    from app.core import config

    path = tmp_path / "var" / "accounts.json"
    monkeypatch.setenv("STAFF_ACCOUNTS_FILE", str(path))
    config.get_settings.cache_clear()
    try:
        monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
        assert accounts_cli(["add", "sato"]) == 0
        monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
        assert accounts_cli(["add", "kato"]) == 1
        assert accounts_cli(["list"]) == 0
    finally:
        config.get_settings.cache_clear()
    stored = json.loads(path.read_text())["accounts"]
    assert list(stored) == ["sato"]
    assert stored["sato"]["hash"].startswith("$argon2id$")
    assert "a long enough password" not in path.read_text()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert verify(path, "sato", "a long enough password")
    assert not verify(path, "sato", "another password")
    assert "sato" in capsys.readouterr().out


async def test_without_a_project_tree_the_pages_say_so(gateway, tmp_path):
    accounts_file = accounts(tmp_path / "accounts.json")
    async with gateway(STAFF_ACCOUNTS_FILE=accounts_file, STAFF_PROJECT_ROOT=tmp_path) as client:
        csrf = await signed_in_anyway(client)
        for path in ("/admin/inbox", "/admin/audit", "/admin/models", "/admin/feedback"):
            resp = await client.get(path)
            assert resp.status_code in {200, 503}, path
        resp = await client.post("/admin/retrain", data={"csrf": csrf})
        assert resp.status_code == 409 and 'class="notice error"' in resp.text


async def signed_in_anyway(client) -> str:
    resp = await sign_in(client)
    assert resp.status_code == 303
    return csrf_of((await client.get("/admin/feedback")).text)
