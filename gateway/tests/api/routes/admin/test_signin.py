"""Sign-in, sign-out, refusals and CSRF on every staff page."""

from __future__ import annotations

import json

from starlette.routing import Route

from app.api.routes import admin
from app.services.staff import verify
from app.staff_accounts import main as accounts_cli
from tests.staff import NAME, PASSWORD, accounts, csrf_of, sign_in, signed_in


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
        for path in (
            "/admin/inbox",
            "/admin/audit",
            "/admin/models",
            "/admin/feedback",
            "/admin/entries/new",
        ):
            resp = await client.get(path)
            assert resp.status_code in {200, 503}, path
        resp = await client.post("/admin/retrain", data={"csrf": csrf})
        assert resp.status_code == 409 and 'class="notice error"' in resp.text


async def signed_in_anyway(client) -> str:
    resp = await sign_in(client)
    assert resp.status_code == 303
    return csrf_of((await client.get("/admin/feedback")).text)
