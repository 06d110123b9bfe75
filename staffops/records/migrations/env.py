"""alembic's environment for the records: the connection given by
staffops.records.database (config.attributes["connection"]), else one to
sqlalchemy.url (alembic.ini), else to DATABASE_URL or the checkout's SQLite file."""

from __future__ import annotations

from alembic import context

from staffops.project import default_root
from staffops.records import database
from staffops.records.tables import metadata

config = context.config


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite alters tables by copying them: later revisions need batch mode.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    run(given)
else:
    url = config.get_main_option("sqlalchemy.url") or database.url_for(default_root())
    engine = database.create(url)
    try:
        with engine.begin() as conn:
            run(conn)
    finally:
        engine.dispose()
