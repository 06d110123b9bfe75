"""The staff sign-in under attack: parallel guesses, forged CSRF tokens, forged
Host headers; and the LINE dead letters page."""

from __future__ import annotations

import asyncio
import re
import secrets
import time

import pytest

from app.api.routes import admin
from app.api.routes.admin import signin
from app.services.staff import verify
from tests.staff import NAME, PASSWORD, accounts, copy_project, csrf_of, signed_in

LOGIN_COOKIE = admin.LOGIN_COOKIE


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("project"))


@pytest.fixture
def staff_gateway(gateway, tmp_path, project):
    """The gateway with staff accounts. The sign-in counters of a name live on
    in the tests' Redis for the window: each test signs in with names of its own."""

    def open_staff(names=(NAME,), **overrides):
        accounts_file = accounts(tmp_path / f"accounts-{secrets.token_hex(4)}.json", *names)
        return gateway(STAFF_ACCOUNTS_FILE=accounts_file, STAFF_PROJECT_ROOT=project, **overrides)

    return open_staff


@pytest.fixture
def counted_checks(monkeypatch):
    """How many passwords the sign-in route really checked (the real argon2 check)."""
    checked = []

    def counting_verify(path, name, password):
        checked.append(name)
        return verify(path, name, password)

    monkeypatch.setattr(signin, "verify", counting_verify)
    return checked


async def login_form(client) -> tuple[dict[str, str], dict[str, str]]:
    """The sign-in form's token and its cookie, as a header: each refusal
    sets a new cookie, which parallel requests must not pick up half way."""
    page = await client.get("/admin/login")
    nonce = client.cookies.get(LOGIN_COOKIE, path="/admin")
    client.cookies.clear()
    return {"csrf": csrf_of(page.text)}, {"Cookie": f"{LOGIN_COOKIE}={nonce}"}


@pytest.mark.parametrize("parallel", [20, 100])
@pytest.mark.parametrize("redis", [True, False], ids=["redis", "memory"])
async def test_parallel_wrong_guesses_check_at_most_the_limit(
    staff_gateway, counted_checks, parallel, redis
):
    limit = 5
    overrides = {"STAFF_LOGIN_ATTEMPTS": limit}
    if not redis:
        overrides["REDIS_URL"] = None
    # An address and a name of this test's own (the counters live on in Redis).
    address, name = f"10.8.{parallel}.{int(redis)}", f"target{parallel}{redis}".lower()
    async with staff_gateway(client_ip=address, names=(name,), **overrides) as client:
        form, cookie = await login_form(client)
        guesses = [
            client.post(
                "/admin/login",
                data={"name": name, "password": f"wrong guess {i:03d}", **form},
                headers=cookie,
            )
            for i in range(parallel)
        ]
        codes = [r.status_code for r in await asyncio.gather(*guesses)]
        # The right password is refused too while the slots are taken.
        right = await client.post(
            "/admin/login", data={"name": name, "password": PASSWORD, **form}, headers=cookie
        )
    print(
        f"\n{parallel} parallel wrong guesses ({'Redis' if redis else 'memory'}): "
        f"{len(counted_checks)} checked, limit {limit}"
    )
    assert len(counted_checks) <= limit
    assert codes.count(401) == len(counted_checks) and codes.count(429) == parallel - len(
        counted_checks
    )
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0


async def test_two_gateways_sharing_redis_check_at_most_the_limit_together(
    staff_gateway, counted_checks
):
    names = ("shared",)
    async with (
        staff_gateway(names, client_ip="10.8.9.9", STAFF_LOGIN_ATTEMPTS=5) as one,
        staff_gateway(names, client_ip="10.8.9.9", STAFF_LOGIN_ATTEMPTS=5) as two,
    ):
        guesses = []
        for client in (one, two):
            form, cookie = await login_form(client)
            guesses += [
                client.post(
                    "/admin/login",
                    data={"name": "shared", "password": f"wrong {i}", **form},
                    headers=cookie,
                )
                for i in range(25)
            ]
        codes = [r.status_code for r in await asyncio.gather(*guesses)]
    assert len(counted_checks) <= 5
    assert codes.count(429) >= 45


async def test_a_right_password_gives_its_slot_back(staff_gateway, counted_checks):
    names = ("giveback",)
    async with staff_gateway(names, client_ip="10.8.1.1", STAFF_LOGIN_ATTEMPTS=2) as client:
        for _ in range(5):
            form, cookie = await login_form(client)
            resp = await client.post(
                "/admin/login",
                data={"name": "giveback", "password": PASSWORD, **form},
                headers=cookie,
            )
            assert resp.status_code == 303
    assert len(counted_checks) == 5


async def test_the_sign_in_form_token_cannot_be_chosen_by_the_client(staff_gateway):
    async with staff_gateway(("chosen",), client_ip="10.8.2.1") as client:
        page = await client.get("/admin/login")
        good = csrf_of(page.text)
        nonce = client.cookies.get(LOGIN_COOKIE, path="/admin")
        issued, _, mac = good.partition(".")
        forged = [
            ("attacker-chosen", "attacker-chosen"),  # the old double-submit check passed this
            (nonce, nonce),
            (nonce, ""),
            (nonce, f"{issued}.{mac[:-2]}xx"),  # a changed signature
            (nonce, f"{int(issued) + 1}.{mac}"),  # another time, same signature
            ("another-nonce", good),  # the token of another cookie
            (nonce, f"{int(time.time()) - 7200}.{mac}"),
        ]
        for cookie, token in forged:
            client.cookies.set(LOGIN_COOKIE, cookie, path="/admin")
            resp = await client.post(
                "/admin/login", data={"name": "chosen", "password": PASSWORD, "csrf": token}
            )
            assert resp.status_code == 403, (cookie, token)
        client.cookies.set(LOGIN_COOKIE, nonce, path="/admin")
        resp = await client.post(
            "/admin/login", data={"name": "chosen", "password": PASSWORD, "csrf": good}
        )
        assert resp.status_code == 303


async def test_a_token_signed_by_another_key_is_refused(staff_gateway):
    names = ("keyed",)
    async with staff_gateway(names, client_ip="10.8.2.2", SECRET_KEY="one key " * 4) as one:
        page = await one.get("/admin/login")
        token, nonce = csrf_of(page.text), one.cookies.get(LOGIN_COOKIE, path="/admin")
    async with staff_gateway(names, client_ip="10.8.2.2", SECRET_KEY="another key " * 4) as other:
        other.cookies.set(LOGIN_COOKIE, nonce, path="/admin")
        resp = await other.post(
            "/admin/login", data={"name": "keyed", "password": PASSWORD, "csrf": token}
        )
        assert resp.status_code == 403
    # The same key in another process (SECRET_KEY shared): accepted.
    async with staff_gateway(names, client_ip="10.8.2.2", SECRET_KEY="one key " * 4) as same:
        same.cookies.set(LOGIN_COOKIE, nonce, path="/admin")
        resp = await same.post(
            "/admin/login", data={"name": "keyed", "password": PASSWORD, "csrf": token}
        )
        assert resp.status_code == 303


@pytest.mark.parametrize("path", ["/admin/inbox/", "/admin/login", "/api/info", "/"])
async def test_a_forged_host_gets_400_and_no_link_to_it(staff_gateway, path):
    async with staff_gateway() as client:
        resp = await client.get(path, headers={"Host": "evil.example"})
        assert resp.status_code == 400
        assert "evil.example" not in resp.headers.get("location", "")
        assert "evil.example" not in resp.text
        assert resp.headers["x-frame-options"] == "DENY"  # security headers on it too
        # The allowed names work (the redirect stays on them).
        resp = await client.get("/admin/inbox/", headers={"Host": "127.0.0.1:8000"})
        assert resp.status_code in {303, 307}
        assert resp.headers["location"].startswith(("/", "http://127.0.0.1:8000/"))


async def test_allowed_hosts_is_a_setting(staff_gateway):
    async with staff_gateway(ALLOWED_HOSTS="soudan.example.jp,*.soudan.example.jp") as client:
        for host, status in [
            ("soudan.example.jp", 200),
            ("line.soudan.example.jp", 200),
            ("localhost", 400),
            ("soudan.example.jp.evil.example", 400),
        ]:
            resp = await client.get("/api/info", headers={"Host": host})
            assert resp.status_code == status, host


# --- the LINE dead letters page ------------------------------------------------


async def test_staff_see_the_dead_letters_in_japanese_and_can_clear_them(staff_gateway):
    async with staff_gateway(("deadletters",), client_ip="10.8.3.1") as client:
        store = client.app.state.dead_letters
        unknown = await store.add(
            {
                "event_id": "01X",
                "type": "undefined",
                "reason": "unknown_type",
                "attempts": 1,
                "received_at": time.time(),
                "text": "",
            }
        )
        await store.add(
            {
                "event_id": "01Y",
                "type": "message",
                "message_type": "text",
                "reason": "failed",
                "attempts": 5,
                "received_at": time.time(),
                "text": "〈名前〉さんから電話",
            }
        )
        assert (await client.get("/admin/line/dead-letters")).status_code == 303  # signed out
        csrf = await signed_in(client, "deadletters")
        page = await client.get("/admin/line/dead-letters")
        assert page.status_code == 200
        text = re.sub(r"<[^>]+>", " ", page.text)
        for shown in (
            "不明な種類",
            "対応していない種類",
            "メッセージ（文字）",
            "何度試しても",
            "5回",
            "〈名前〉さんから電話",
            "LINE未処理",
        ):
            assert shown in text, shown
        for hidden in ("undefined", "unknown_type", "failed", "01X", "01Y"):
            assert hidden not in text, hidden
        # Clearing one needs the CSRF token.
        path = f"/admin/line/dead-letters/{unknown['id']}/remove"
        assert (await client.post(path, data={"csrf": "wrong"})).status_code == 403
        resp = await client.post(path, data={"csrf": csrf})
        assert resp.status_code == 303
        assert [r["event_id"] for r in await store.list()] == ["01Y"]
        assert "確認済みにしました" in (await client.get(resp.headers["location"])).text


def test_login_tokens_are_unique_and_bound_to_their_cookie():
    from app.core.config import Settings
    from app.services.staff import StaffSessions

    sessions = StaffSessions(Settings(SECRET_KEY="k" * 32), None)
    nonce = secrets.token_urlsafe(16)
    token = sessions.login_token(nonce)
    assert sessions.check_login_token(nonce, token, 3600)
    assert not sessions.check_login_token(nonce + "x", token, 3600)
    assert not sessions.check_login_token(nonce, token, -1)
