"""Rasa's HTTP API and the action server are not open to whoever reaches the host.

The test stack starts them as `make run` does (tests/servers.py): on
127.0.0.1 only, Rasa with `--auth-token`. Without the token, a
conversation's tracker (the whole transcript) and `PUT /model` (replacing
the model) are refused; the REST channel the gateway uses needs none.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.servers import RASA_TOKEN

pytestmark = pytest.mark.rasa

LISTEN = "0A"  # TCP state in /proc/net/tcp


def listening_addresses(port: int) -> set[str]:
    """The local addresses on which something listens on `port` (IPv4 and IPv6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] == LISTEN and int(hex_port, 16) == port:
                found.add(address)
    return found


LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1


def test_rasa_and_the_action_server_listen_on_loopback_only(stack):
    ports = [int(url.rsplit(":", 1)[1]) for url in [*stack.rasa_urls, stack.actions_url]]
    for port in ports:
        addresses = listening_addresses(port)
        assert addresses, port
        assert addresses <= LOOPBACK, (port, addresses)  # not 0.0.0.0 (00000000)


async def test_the_tracker_and_the_model_need_the_token(stack):
    url = stack.rasa_urls[0]
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        said = await http.post(
            "/webhooks/rest/webhook", json={"sender": "api-probe", "message": "こんにちは"}
        )
        assert said.status_code == 200 and said.json()  # the channel needs no token

        for params in ({}, {"token": "wrong"}, {"token": ""}):
            tracker = await http.get("/conversations/api-probe/tracker", params=params)
            assert tracker.status_code == 401, params
            assert "こんにちは" not in tracker.text
            model = await http.put("/model", params=params, json={"model_file": "/tmp/x.tar.gz"})
            assert model.status_code == 401, params
            status = await http.get("/status", params=params)
            assert status.status_code == 401, params

        tracker = await http.get("/conversations/api-probe/tracker", params={"token": RASA_TOKEN})
        assert tracker.status_code == 200
        assert any(e.get("text") == "こんにちは" for e in tracker.json()["events"])
