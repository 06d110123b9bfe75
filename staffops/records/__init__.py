"""The staff records that must last, in one SQL database (SQLAlchemy Core + alembic).

- `tables`: the tables, defined once: inbox items, feedback, the audit log,
  LINE dead letters, and the masked log of each turn.
- `database`: where they are (DATABASE_URL: PostgreSQL; else a SQLite file
  in the project, var/records.sqlite) and the engine, migrated to the head
  revision on first use in a process.
- `migrations/`: alembic's revisions (`alembic upgrade head` from the
  checkout uses alembic.ini; `python -m staffops.records upgrade` too).

Redis keeps only what is short-lived (locks, rate limits, LINE
de-duplication, sessions). The code runs on SQLAlchemy 1.4 (the Rasa
environment, where staffops' CLI runs) and 2.x (the gateway): Core tables,
`select()`, `engine.begin()`.
"""
