"""Helpers of the staff tests: a copy of the project tree, accounts, signing in."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx

from app.services.staff import add_account
from tests.servers import ROOT

# What staffops needs of the project (as tests/staff/staffkit.py copies it).
COPIED = ["chatbot", "soudan", "scripts", "requirements", "pyproject.toml"]
IGNORED = shutil.ignore_patterns(
    ".rasa", "__pycache__", "*.pyc", "staff", "results", "*.egg-info", "tests"
)
NAME = "tanaka"
PASSWORD = "correct horse battery staple"


def copy_project(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=IGNORED)
        else:
            shutil.copy2(source, dest / name)
    return dest


def accounts(path: Path, *names: str) -> Path:
    for name in names or (NAME,):
        add_account(path, name, PASSWORD)
    return path


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, name: str = NAME, password: str = PASSWORD
) -> httpx.Response:
    page = await client.get("/admin/login")
    return await client.post(
        "/admin/login",
        data={"name": name, "password": password, "csrf": csrf_of(page.text)},
    )


async def signed_in(client: httpx.AsyncClient, name: str = NAME) -> str:
    """Sign in; the session's CSRF token (from the inbox page)."""
    resp = await sign_in(client, name)
    assert resp.status_code == 303, resp.text
    assert resp.headers["location"] == "/admin/inbox"
    page = await client.get("/admin/inbox")
    assert page.status_code == 200
    return csrf_of(page.text)
