"""The inbox page: near-identical items grouped, filters from the query string,
a group handled at once (each item audited), times in Japanese."""

from __future__ import annotations

import re

import pytest

from app.api.routes import admin
from staffops import audit
from staffops.inbox import Inbox
from tests.staff import NAME, accounts, copy_project, csrf_of, signed_in


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("project"))


@pytest.fixture
def staff_gateway(gateway, tmp_path, project):
    accounts_file = accounts(tmp_path / "accounts.json", NAME)
    return lambda **overrides: gateway(
        STAFF_ACCOUNTS_FILE=accounts_file, STAFF_PROJECT_ROOT=project, **overrides
    )


def seed(client) -> dict[str, dict]:
    inbox = Inbox(client.app.state.records)
    unknown = [{"name": "faq/unknown_number", "confidence": 0.41}]
    sms = [{"name": "faq/sms_phishing", "confidence": 0.38}]
    made = {
        "a": dict(
            text="知らない番号から何度も電話がかかってくる", time="2026-12-01T09:00:00+09:00"
        ),
        "b": dict(
            text="知らない番号から何回も電話がかかってくる",
            time="2026-12-01T21:56:00+09:00",
            channel="line",
            reason="low_confidence",
        ),
        "c": dict(
            text="知らない番号から何度も、電話がかかってくる！", time="2026-11-30T10:00:00+09:00"
        ),
        "d": dict(
            text="宅配業者を名乗るSMSが届いた", time="2026-11-29T10:00:00+09:00", intents=sms
        ),
    }
    found = {}
    for key, fields in made.items():
        found[key] = inbox.add(
            {"channel": "web", "reason": "fallback", "intents": unknown, **fields}
        )
    return found


def articles(html: str) -> list[str]:
    return re.findall(r'<article class="item" id="item-([^"]+)"', html)


async def test_near_identical_items_are_one_group_with_a_count(staff_gateway):
    async with staff_gateway() as client:
        items = seed(client)
        await signed_in(client)
        page = (await client.get("/admin/inbox")).text
        assert articles(page) == [items["b"]["id"], items["d"]["id"]]
        group = page.split(f'id="item-{items["b"]["id"]}"')[1].split("</article>")[0]
        assert "3件" in group
        assert "2026年12月1日 21:56" in group  # the newest, in Japan time
        assert "自信が低い回答" in group and "理解できなかった" in group
        assert "LINE・ウェブ" in group
        assert "ほかの書き方（2通り）" in group
        # topics by their Japanese names, never ids
        assert "faq/unknown_number" not in re.sub(r'value="[^"]*"', "", page)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("reason=low_confidence", ["b"]),
        ("channel=web", ["a", "d"]),  # b is LINE: a stands for a, c
        ("topic=faq/sms_phishing", ["d"]),
        ("start=2026-12-01&end=2026-12-01", ["b"]),
        ("end=2026-11-30", ["c", "d"]),
        ("q=SMS", ["d"]),
        ("q=何回も", ["b"]),
    ],
)
async def test_filters_come_from_the_query_string(staff_gateway, query, expected):
    async with staff_gateway() as client:
        items = seed(client)
        await signed_in(client)
        page = await client.get(f"/admin/inbox?{query}")
        assert page.status_code == 200
        assert articles(page.text) == [items[k]["id"] for k in expected]
        assert "条件をはずす" in page.text


async def test_an_unreadable_filter_is_ignored_and_said(staff_gateway):
    async with staff_gateway() as client:
        seed(client)
        await signed_in(client)
        page = (await client.get("/admin/inbox?reason=nonsense&start=yesterday")).text
        assert "理由の指定を読み取れなかったため" in page
        assert "開始日の日付を読み取れませんでした" in page
        assert len(articles(page)) == 2


async def test_dismissing_a_group_resolves_every_item_each_audited(staff_gateway):
    async with staff_gateway() as client:
        items = seed(client)
        await signed_in(client)
        page = (await client.get("/admin/inbox")).text
        csrf = csrf_of(page)
        form = page.split(f'action="/admin/inbox/{items["b"]["id"]}/dismiss"')[1].split("</form>")[
            0
        ]
        others = re.findall(r'name="items" value="([^"]+)"', form)
        assert sorted(others) == sorted([items["a"]["id"], items["c"]["id"]])
        resp = await client.post(
            f"/admin/inbox/{items['b']['id']}/dismiss", data={"csrf": csrf, "items": others}
        )
        assert resp.status_code == 200
        assert "まとめて3件を処理しました" in resp.text
        assert articles(resp.text) == [items["d"]["id"]]
        review = client.app.state.review
        for key in "abc":
            done = await review.get_item(items[key]["id"])
            assert done["status"] == "resolved" and done["resolved_by"] == NAME
        assert (await review.get_item(items["d"]["id"]))["status"] == "open"
        logged = [
            e["details"]
            for e in audit.read(admin.project(client.app.state.settings))
            if e["action"] == "inbox_resolve" and e["details"].get("group") == items["b"]["id"]
        ]
        assert sorted(d["item"] for d in logged) == sorted(items[k]["id"] for k in "abc")
        assert {d["group_size"] for d in logged} == {3}
