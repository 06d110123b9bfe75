"""The README's run command (`make run` → scripts/run.sh) with Redis: the
action server, two Rasa processes behind the gateway, and a chat through it.
On loopback ports of its own, its keys under the tests' Redis prefix."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.servers import ROOT, free_port, wait_until_up
from tests.test_rasa_api import LOOPBACK, listening_addresses

pytestmark = pytest.mark.rasa


def two_free_ports() -> int:
    """A port whose next one is free too (run.sh numbers its Rasa processes up)."""
    for _ in range(50):
        port = free_port()
        if port < 65535:
            try:
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue
    raise RuntimeError("no two consecutive free ports")


def command_lines_with(secret: str) -> list[int]:
    """Processes of this machine whose command line shows `secret`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if secret.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def turns_logged(url: str) -> int:
    """Rows of the records' masked turn log (0 before the schema exists)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("turns"):
                return 0
            return conn.execute(sa.text("SELECT count(*) FROM turns")).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite default", "postgresql"])
def records(request) -> str | None:
    """DATABASE_URL for `make run`: none (var/records.sqlite), or a PostgreSQL database."""
    return None if request.param == "sqlite default" else request.getfixturevalue("postgres_url")


def test_the_run_command_starts_two_rasa_processes_behind_the_gateway(
    model, redis_url, key_prefix, records
):
    records_url = records or f"sqlite:///{ROOT / 'var' / 'records.sqlite'}"
    logged_before = turns_logged(records_url)
    rasa_port, gateway_port, actions_port = two_free_ports(), free_port(), free_port()
    token = "run-token-" + secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "MODEL": str(model),
        "RASA_VENV": str(ROOT / ".venv" / "rasa"),
        "GATEWAY_VENV": str(ROOT / ".venv" / "gateway"),
        "RASA_PORT": str(rasa_port),
        "ACTIONS_PORT": str(actions_port),
        "RASA_TOKEN": token,
        "GATEWAY_PORT": str(gateway_port),
        "REDIS_URL": redis_url,
        "RASA_REDIS_KEY_PREFIX": f"{key_prefix}run",
        "REDIS_KEY_PREFIX": f"{key_prefix}:run:",
    }
    env.pop("RASA_PROCESSES", None)
    env.pop("DATABASE_URL", None)
    if records:
        env["DATABASE_URL"] = records
    proc = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    base = f"http://localhost:{gateway_port}"
    try:
        # run.sh starts the gateway once every Rasa process answers.
        wait_until_up(f"{base}/health-check/live", proc, 300)
        health = httpx.get(f"{base}/health-check/", timeout=10).json()
        with httpx.Client(base_url=base, timeout=30) as client:
            reply = client.post("/api/chat", json={"message": "知らない番号から電話がかかってきた"})
        # Rasa and the action server on loopback only; Rasa's API behind the token.
        bound = {p: listening_addresses(p) for p in (rasa_port, rasa_port + 1, actions_port)}
        rasa = f"http://127.0.0.1:{rasa_port}"
        without = httpx.get(f"{rasa}/conversations/x/tracker", timeout=10).status_code
        with_token = httpx.get(
            f"{rasa}/conversations/x/tracker", params={"token": token}, timeout=10
        ).status_code
        shown = command_lines_with(token)
        deadline = time.monotonic() + 30
        while not any("Logs:" in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    printed = "".join(lines)
    assert f"http://localhost:{gateway_port}" in printed
    assert "Rasa processes: 2" in printed and "in Redis" in printed
    instances = health["rasa"]["instances"]
    assert [i["status"] for i in instances] == ["ok", "ok"]
    assert [i["name"] for i in instances] == ["rasa-1", "rasa-2"]
    assert health["redis"]["status"] == "ok"
    assert reply.status_code == 200 and reply.json()["status"] == "ok"
    for port, addresses in bound.items():
        assert addresses and addresses <= LOOPBACK, (port, addresses)
    assert (without, with_token) == (401, 200)
    assert shown == []  # not on any command line (ps)
    assert token not in printed
    # The records in the database asked for, migrated by run.sh: the chat's turn is logged.
    assert ("in DATABASE_URL's database" if records else "in var/records.sqlite") in printed
    assert turns_logged(records_url) > logged_before
