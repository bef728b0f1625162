"""What the benchmarks share: progress lines, the machine line and appending to bench/RESULTS.md, a broker
with fresh topics, a database of the run's own, reading a metric."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def log(msg: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def report(title: str, setup: str, rows: list[tuple[str, str]], record: bool) -> None:
    """Print a results table (and append it to bench/RESULTS.md when ``record``)."""
    lines = [
        f"\n## {title}, {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; {setup}",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in rows),
    ]
    print("\n".join(lines))
    if record:
        with RESULTS.open("a") as f:
            f.write("\n".join(lines) + "\n")


def broker_with_topics(stem: str) -> tuple[str, str]:
    """The broker to measure against (the local one, started if need be) and a fresh topic prefix
    with the registry's topics created under it."""
    import uuid

    from pantau.config import PlatformSettings
    from pantau.kafka_local import LocalKafka, wait_for_broker
    from services.runtime.topics import admin_client, ensure_topics

    settings = PlatformSettings()
    if not settings.external_kafka:
        LocalKafka.from_settings(settings).up()
    wait_for_broker(settings.bootstrap_servers)
    prefix = f"{stem}-{uuid.uuid4().hex[:6]}-"
    admin = admin_client(settings.bootstrap_servers)
    try:
        ensure_topics(admin, prefix=prefix)
    finally:
        admin.close()
    drop_topics_at_exit(settings.bootstrap_servers, prefix)
    return settings.bootstrap_servers, prefix


def drop_topics_at_exit(bootstrap: str, prefix: str) -> None:
    """At exit, delete the run's topics: every topic whose name has ``prefix`` (the workers' app ids,
    and so their changelogs, carry it too)."""
    import atexit

    from services.runtime.topics import delete_topics

    def drop() -> None:
        gone = delete_topics(bootstrap, keep=lambda name: prefix not in name)
        log(f"deleted the run's {len(gone)} topics ({prefix}*)")

    atexit.register(drop)


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` in Prometheus text whose labels include ``labels`` (0 if none)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name) or line[len(name) : len(name) + 1] not in ("{", " "):
            continue
        series, value = line.rsplit(" ", 1)
        if all(f'{k}="{v}"' in series for k, v in labels.items()):
            total += float(value)
    return total


@contextmanager
def fresh_database(stem: str) -> Iterator[str]:
    """A database of the run's own on the history store's server (the local cluster, started if need
    be, or the one ``PANTAU_DATABASE_URL`` names), as a SQLAlchemy URL; dropped on leaving."""
    import uuid

    import sqlalchemy as sa

    from pantau.postgres_local import LocalPostgres
    from services.history.config import HistorySettings

    settings = HistorySettings()
    if not settings.external_database:
        LocalPostgres.from_settings(settings).up()
    server = sa.make_url(settings.url())
    name = f"{stem}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        log(f"created database {name} on {server.host}:{server.port}")
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            log(f"dropped database {name}")
    finally:
        admin.dispose()
