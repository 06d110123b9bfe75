"""The new-entry page: Japanese only, facts from the picker, the preview as the
web chat and LINE show the reply (with script and without), refusals in Japanese."""

from __future__ import annotations

import re

import pytest

from soudan import knowledge as kb
from tests.staff import NAME, accounts, copy_project, signed_in


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("project"))


@pytest.fixture
def staff_gateway(gateway, tmp_path, project):
    accounts_file = accounts(tmp_path / "accounts.json", NAME)
    return lambda **overrides: gateway(
        STAFF_ACCOUNTS_FILE=accounts_file, STAFF_PROJECT_ROOT=project, **overrides
    )


def visible(html: str) -> str:
    """What a person reads: no tags, no attribute values."""
    return re.sub(r"<[^>]+>", " ", html)


async def test_the_form_asks_only_japanese_and_lists_facts_by_name(staff_gateway):
    center = kb.hotline("center")
    async with staff_gateway() as client:
        await signed_in(client)
        page = await client.get("/admin/entries/new")
        assert page.status_code == 200
        text = visible(page.text)
        assert "話題の名前" in text and "相談の例" in text and "回答文" in text
        assert f"でんわんセンターの電話番号：{center.number}" in text
        assert "{hotline" not in page.text  # no placeholder anywhere, not even in values
        # an id on screen (URLs, which are facts staff may pick, aside)
        assert not re.search(r"[a-z]+_[a-z]+", re.sub(r"https?://\S+", "", text))
        assert 'name="name"' not in page.text  # the id is not typed
        assert "<script>" not in page.text and "/static/admin.js" in page.text


async def test_the_preview_fragment_shows_a_tap_to_call_link_and_line(staff_gateway):
    center = kb.hotline("center")
    async with staff_gateway() as client:
        csrf = await signed_in(client)
        resp = await client.post(
            "/admin/api/entries/preview",
            data={
                "answer": "まず｛でんわんセンターの電話番号｝に電話してください。",
                "hotlines": ["center"],
            },
            headers={"X-CSRF-Token": csrf},
        )
        assert resp.status_code == 200
        web = resp.text.split('class="preview-web"')[1].split('class="preview-line"')[0]
        assert f'<a class="tel nowrap" href="{center.tel_uri}">{center.number}</a>' in web
        assert "くわしく" in web  # the hotline block behind the disclosure
        line = resp.text.split('class="preview-line"')[1]
        assert f"まず{center.number}に電話してください。" in line
        assert "でんわんセンターに電話" in line  # the quick reply that dials
        # signed out: 401, not a page
        client.cookies.clear()
        assert (await client.post("/admin/api/entries/preview", data={})).status_code == 401


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ("｛ないもの｝に電話", "「｛ないもの｝」という差し込みはありません"),
        ("{hotline.nowhere.number}に電話", "の項目がありません"),
        ("03-6162-1111に電話", "「でんわんセンターの電話番号」を選んでください"),
        ("0120-000-000に電話", "知識ファイル（soudan/knowledge.yml）にない番号です"),
    ],
)
async def test_the_preview_refuses_in_japanese(staff_gateway, answer, says):
    async with staff_gateway() as client:
        csrf = await signed_in(client)
        resp = await client.post(
            "/admin/api/entries/preview",
            data={"answer": answer, "hotlines": ["center"]},
            headers={"X-CSRF-Token": csrf},
        )
        assert resp.status_code == 200
        assert 'id="preview-error"' in resp.text and says in resp.text


async def test_without_script_insert_and_preview_post_the_form(staff_gateway):
    center = kb.hotline("center")
    async with staff_gateway() as client:
        csrf = await signed_in(client)
        form = {
            "csrf": csrf,
            "title": "還付金の電話",
            "examples": "還付金があると電話がきた",
            "answer": "まず",
            "hotlines": ["center"],
        }
        resp = await client.post(
            "/admin/entries/new",
            data={**form, "action": "insert", "fact": "｛でんわんセンターの電話番号｝"},
        )
        assert resp.status_code == 200
        assert "まず｛でんわんセンターの電話番号｝</textarea>" in resp.text
        assert f'href="{center.tel_uri}"' in resp.text  # and its preview
        assert 'value="還付金の電話"' in resp.text  # the form kept what was written
        resp = await client.post("/admin/entries/new", data={**form, "action": "preview"})
        assert 'class="preview-web"' in resp.text
        # a CSRF token is needed for every one of them
        del form["csrf"]
        assert (await client.post("/admin/entries/new", data=form)).status_code == 403
