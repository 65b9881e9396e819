"""Store migrations: the Alembic environment, for reviewbot.store.upgrade_schema and the
`alembic` command line.

Two ways in. reviewbot.store.upgrade_schema passes its own connection (in a transaction it
holds a lock on) as `config.attributes["connection"]`. From the command line
(`alembic -c reviewbot/alembic.ini ...`, README "Changing the store schema") the database
is `-x url=...`, else `sqlalchemy.url` in the ini file, else the `[database] url` of the
config that `REVIEWBOT_CONFIG` names; autogenerate compares it with the tables
reviewbot/store/tables.py declares, with the options tests/test_migrations.py uses, so the two
report the same differences.
"""

from alembic import context
from sqlmodel import SQLModel

import reviewbot.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _command_line_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    url = url or context.config.get_main_option("sqlalchemy.url")
    if not url:
        from reviewbot.config import load_config

        url = load_config().database.url
    return url


connection = context.config.attributes.get("connection")
if connection is not None:
    _configure(connection)
elif context.is_offline_mode():
    raise SystemExit("reviewbot's migrations run online only: give a database with "
                     "-x url=sqlite:///data/dev.db (or REVIEWBOT_CONFIG)")
else:
    from logging.config import fileConfig

    from reviewbot.store import make_engine

    if context.config.config_file_name:  # the command line's own logging, not the app's
        fileConfig(context.config.config_file_name, disable_existing_loggers=False)
    engine = make_engine(_command_line_url())
    try:
        with engine.begin() as own:
            _configure(own)
    finally:
        engine.dispose()
