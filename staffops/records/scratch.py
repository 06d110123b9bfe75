"""A PostgreSQL database of one's own for a while (tests): created, then dropped.

    with scratch_database("postgresql://postgres@127.0.0.1:5432/postgres") as url:
        ...  # url names records_test_<pid>_<random>, empty

The server is the machine's (trust auth in development and CI).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from staffops.records import database

ADMIN_URL = os.environ.get(
    "RECORDS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def scratch_database(admin_url: str = ADMIN_URL) -> Iterator[str]:
    name = f"records_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = database.create(admin_url)
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(admin_url).set(database=name).render_as_string(False)
        try:
            yield url
        finally:
            database.forget(url)
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
