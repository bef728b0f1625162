"""What the benchmarks share: progress lines, the machine line and appending to bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
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
