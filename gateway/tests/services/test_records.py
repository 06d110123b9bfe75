"""The staff records in the gateway (SQLAlchemy 2): migrations up, down and up
again, and no record lost when Redis is flushed in the middle, on the
machine's PostgreSQL (a database of the session's own) and on SQLite."""

from __future__ import annotations

import os

import pytest
import redis
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from app.api.routes import admin
from staffops import audit
from staffops.records import database
from staffops.records.tables import turns
from tests.helpers import say
from tests.stand_in_rasa import StandInRasa

TABLES = {"inbox_items", "feedback", "audit_log", "dead_letters", "turns"}
# A Redis database that only this test uses: it is flushed (FLUSHDB) mid-test.
FLUSHED_REDIS_URL = os.environ.get("GATEWAY_TEST_FLUSHED_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture(params=["postgresql", "sqlite"])
def records_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'records.sqlite'}"
    return request.getfixturevalue("postgres_url")


def test_upgrade_downgrade_upgrade(records_url):
    engine = database.create(records_url)
    try:
        database.migrate(engine)
        with engine.begin() as conn:
            conn.execute(sa.delete(turns))
        assert set(sa.inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
        database.downgrade(engine)
        assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
        database.migrate(engine)
        assert set(sa.inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
        with engine.connect() as conn:
            assert (
                conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
                == ScriptDirectory.from_config(database.alembic_config()).get_current_head()
            )
    finally:
        engine.dispose()


@pytest.fixture
def flushed_redis():
    client = redis.Redis.from_url(FLUSHED_REDIS_URL)
    client.ping()
    yield client
    client.flushdb()
    client.close()


async def test_flushing_redis_in_the_middle_loses_no_record(
    gateway, records_url, flushed_redis, key_prefix
):
    with StandInRasa(review="low_confidence") as rasa:
        settings = {
            "RASA_URLS": [rasa],
            "ACTIONS_URL": rasa,
            "REDIS_URL": FLUSHED_REDIS_URL,
            "DATABASE_URL": records_url,
        }
        async with gateway(**settings) as client:
            state = client.app.state
            before = await state.review.feedback_counts()
            resp = await say(client, "知らない番号 090-1234-5678 から何度も電話が来る")
            assert resp.status_code == 200 and resp.json()["topic"] == "unknown_number"
            rated = await client.post(
                "/api/feedback", json={"topic": "unknown_number", "helpful": False}
            )
            assert rated.status_code == 200, rated.text
            items = [i for i in await state.review.items() if "何度も電話" in i["text"]]
            assert {i["reason"] for i in items} == {"low_confidence", "feedback_negative"}
            project = admin.project(state.settings)
            audit.record("inbox_resolve", {"inbox_id": items[0]["id"]}, who="tanaka", root=project)
            letter = await state.dead_letters.add({"type": "unknown", "reason": "unknown_type"})
            assert letter is not None
            assert flushed_redis.dbsize() > 0  # the conversation, counters, feedback context

            flushed_redis.flushdb()  # Redis loses everything here

            after = [i for i in await state.review.items() if "何度も電話" in i["text"]]
            assert sorted(i["id"] for i in after) == sorted(i["id"] for i in items)

        # A restarted gateway, Redis still empty of records: all there.
        async with gateway(**settings) as client:
            state = client.app.state
            again = [i for i in await state.review.items() if "何度も電話" in i["text"]]
            assert sorted(i["id"] for i in again) == sorted(i["id"] for i in items)
            assert all("1234" not in i["text"] for i in again)
            counts = (await state.review.feedback_counts())["unknown_number"]
            earlier = before.get("unknown_number", {"not_helpful": 0})["not_helpful"]
            assert counts["not_helpful"] == earlier + 1
            logged = audit.read(admin.project(state.settings))
            assert logged[-1]["who"] == "tanaka" and logged[-1]["action"] == "inbox_resolve"
            assert letter["id"] in [d["id"] for d in await state.dead_letters.list()]
            with state.records.connect() as conn:
                rows = conn.execute(sa.select(turns).where(turns.c.topic == "unknown_number"))
                assert [(r.channel, r.intent, r.fallback) for r in rows][-1] == (
                    "web",
                    "faq/unknown_number",
                    False,
                )
