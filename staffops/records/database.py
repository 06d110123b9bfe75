"""Where the records are, and the engine to them.

DATABASE_URL (a SQLAlchemy URL, e.g. postgresql://postgres@127.0.0.1:5432/soudan)
chooses the database; without it, a SQLite file in the project tree,
var/records.sqlite (RECORDS_SQLITE_PATH changes it; relative to the project),
so a newcomer needs no server. `connect` creates one engine per URL and
process and brings the schema to alembic's head revision on first use; on
PostgreSQL under an advisory lock, so processes starting together migrate once.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DEFAULT_SQLITE = "var/records.sqlite"
JST = timezone(timedelta(hours=9), "JST")
SQLALCHEMY_2 = int(sa.__version__.split(".")[0]) >= 2
# Any number, the same in every process: the migrations' lock on PostgreSQL.
MIGRATION_LOCK = 1_702_017

_engines: dict[str, sa.engine.Engine] = {}
_lock = threading.Lock()


def url_for(root: Path | str, database_url: str | None = None) -> str:
    """The given URL, else $DATABASE_URL, else the SQLite file of the project at `root`."""
    url = database_url or os.environ.get("DATABASE_URL")
    if url:
        return url
    path = Path(os.environ.get("RECORDS_SQLITE_PATH") or DEFAULT_SQLITE)
    if not path.is_absolute():
        path = Path(root) / path
    return f"sqlite:///{path}"


def with_driver(url: str) -> str:
    """postgresql:// with the driver this environment has: psycopg 3 under
    SQLAlchemy 2 (the gateway), psycopg2 under 1.4 (the Rasa environment)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://") and SQLALCHEMY_2:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            return url
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def create(url: str) -> sa.engine.Engine:
    """A new engine (not migrated): SQLite with its folder made, a busy timeout
    and the write-ahead log (the gateway and the CLI write at once)."""
    url = with_driver(url)
    extra: dict = {} if SQLALCHEMY_2 else {"future": True}
    # JSON columns readable as written (Japanese, not \u escapes) in psql or sqlite3.
    extra["json_serializer"] = partial(json.dumps, ensure_ascii=False)
    if url.startswith("sqlite"):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **extra)

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, **extra)


def alembic_config(connection: sa.engine.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: sa.engine.Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision`."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        command.upgrade(alembic_config(conn), revision)


def downgrade(engine: sa.engine.Engine, revision: str = "base") -> None:
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)


def connect(url: str) -> sa.engine.Engine:
    """This process's engine to `url`, its schema at the head revision."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = create(url)
            migrate(engine)
            _engines[url] = engine
        return engine


def forget(url: str) -> None:
    """Close this process's engine to `url` (an app shutting down; tests dropping
    their database). An engine still held elsewhere reconnects when used."""
    with _lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


# --- times -------------------------------------------------------------------


def to_utc(value: datetime | str | None = None) -> datetime:
    """An aware UTC time: now, an ISO string or a datetime (naive means local)."""
    if value is None:
        return datetime.now(timezone.utc)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.astimezone()
    return value.astimezone(timezone.utc)


def to_jst(value: datetime | None) -> str | None:
    """A stored time as ISO 8601 in Japan time (naive: stored as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(JST).isoformat(timespec="seconds")
