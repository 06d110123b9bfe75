"""Fixtures: Redis (a db and key prefix of the tests' own), the real action
server and two Rasa processes sharing it, and the gateway app in-process.

Tests marked `rasa` need a trained model in MODEL (`make test-gateway` sets
it); without MODEL they are skipped, with a MODEL that is not a file they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
import redis
from redis.exceptions import RedisError

from app.core.config import Settings
from app.main import create_app
from staffops.records.scratch import scratch_database
from tests.helpers import down_url
from tests.servers import RASA_TOKEN, ROOT, Stack, start_stack

LOGS = ROOT / "results" / "gateway-logs"
# The Redis of the machine, in a database of the tests' own; they only ever
# delete keys under their own random prefix.
TEST_REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("MODEL"):
        return
    skip = pytest.mark.skip(reason="needs a trained model in MODEL (make test-gateway sets it)")
    for item in items:
        if item.get_closest_marker("rasa"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def model() -> Path:
    path = Path(os.environ["MODEL"])
    if not path.is_file():
        pytest.fail(f"MODEL={path} is not a trained model (run `make train`)")
    return path


@pytest.fixture(scope="session")
def key_prefix() -> str:
    # Alphanumeric: Rasa's Redis stores accept no other prefix.
    return "gwtest" + secrets.token_hex(4)


@pytest.fixture(scope="session")
def redis_url(key_prefix: str) -> str:
    client = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        client.ping()
    except RedisError as exc:
        pytest.fail(f"Redis at {TEST_REDIS_URL} does not answer ({exc}): the tests need it")
    yield TEST_REDIS_URL
    for key in client.scan_iter(match=f"{key_prefix}*", count=500):
        client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def redis_client(redis_url: str) -> redis.Redis:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(scope="session")
def stack(model: Path, redis_url: str, key_prefix: str) -> Stack:
    """The action server and two Rasa processes, conversations in Redis."""
    running = start_stack(model, LOGS, redis_url, key_prefix, rasa_count=2)
    yield running
    running.close()


GatewayFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL database of the session's own on the machine's server
    (records_test_<pid>_<random>), dropped at the end."""
    with scratch_database() as url:
        yield url


@pytest.fixture
def gateway(redis_url: str, key_prefix: str, tmp_path: Path) -> GatewayFactory:
    """`async with gateway(RASA_URLS=[...], ...) as client:` the app in-process.

    Settings not given point at closed ports (Rasa and actions down), at
    the tests' Redis prefix, and at a SQLite file of the test's own for the
    records (DATABASE_URL=... overrides it); `client_ip` sets the peer address.
    """

    @asynccontextmanager
    async def open_gateway(client_ip: str = "127.0.0.1", **overrides) -> AsyncIterator:
        values = {
            "RASA_URLS": [down_url()],
            "RASA_TOKEN": RASA_TOKEN,
            "ACTIONS_URL": down_url(),
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": f"{key_prefix}:gw:",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'records.sqlite'}",
            **overrides,
        }
        settings = Settings(**values)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=(client_ip, 40000))
            async with httpx.AsyncClient(
                transport=transport, base_url="http://localhost", timeout=60
            ) as client:
                client.app = app  # type: ignore[attr-defined]
                yield client

    return open_gateway
