"""Alembic's environment for the history store.

``services.history.db.migrate`` passes its connection (``config.attributes["connection"]``) and holds the
transaction. From the alembic command line (``alembic -c services/history/alembic.ini ...``), the URL is
``-x url=...``, else the settings' (``PANTAU_DATABASE_URL``, else the embedded local cluster).
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from services.history.config import HistorySettings, normalise_url
from services.history.db import create_engine

#: The migrations are written by hand (op.create_table ...): no metadata to autogenerate from.
target_metadata = None


def _url() -> str:
    url = context.config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("url")
    return normalise_url(str(url)) if url else HistorySettings().url()


def run_migrations_offline() -> None:
    """The SQL of the migrations, printed instead of run (``alembic upgrade head --sql``)."""
    url = _url()
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url())
    try:
        with engine.connect() as conn:
            context.configure(connection=conn, target_metadata=target_metadata)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.config.config_file_name is not None and "connection" not in context.config.attributes:
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)  # the alembic command line

if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
