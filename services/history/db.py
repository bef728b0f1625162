"""Connections to the history store and its schema migrations.

``create_engine(url)`` builds a SQLAlchemy 2 engine over psycopg 3. ``migrate(url)`` brings the schema to
the newest revision in ``migrations/versions`` (alembic, programmatically), in one transaction and under
a PostgreSQL advisory lock, so that components starting together apply it once and the others wait.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg.types.json import set_json_loads

from services.history.config import normalise_url
from services.runtime import logs

log = logs.get(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: pg_advisory_xact_lock key of schema migrations (any fixed bigint; b"pantauHS").
MIGRATION_LOCK = 0x70616E7461754853

Database = str | sa.Engine
# psycopg decodes JSON and JSONB with orjson, a few times faster than the standard library's json here.
set_json_loads(orjson.loads)


def create_engine(url: str, **kwargs: Any) -> sa.Engine:
    """An engine for ``url`` (``postgresql://`` is read as psycopg 3); pings pooled connections before use.

    JSONB values are decoded with orjson (set once for psycopg below).
    """
    connect_args = {"connect_timeout": 10, "application_name": "pantau", **kwargs.pop("connect_args", {})}
    return sa.create_engine(normalise_url(url), pool_pre_ping=True, connect_args=connect_args, **kwargs)


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An alembic configuration of the shipped migrations; with ``connection``, env.py runs on it."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision in the repository."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, f"no migrations in {MIGRATIONS_DIR}"
    return head


def current_revision(db: Database) -> str | None:
    """The revision the database is at (None: never migrated)."""
    engine, owned = _engine(db)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        if owned:
            engine.dispose()


def migrate(db: Database, revision: str = "head") -> str:
    """Apply the migrations up to ``revision`` (default: head) and return the revision the database is at."""
    engine, owned = _engine(db)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            before = MigrationContext.configure(conn).get_current_revision()
            command.upgrade(alembic_config(conn), revision)
            after = MigrationContext.configure(conn).get_current_revision()
        if before != after:
            log.info("history.migrated", url=engine.url.render_as_string(), before=before, after=after)
        assert after is not None
        return after
    finally:
        if owned:
            engine.dispose()


def _engine(db: Database) -> tuple[sa.Engine, bool]:
    return (db, False) if isinstance(db, sa.Engine) else (create_engine(db), True)
