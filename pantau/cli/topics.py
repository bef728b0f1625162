"""``pantau topics``: the registry's topics on the cluster."""

from __future__ import annotations

from typing import Annotated

import typer

from pantau.cli.output import fail, platform_settings, say

topics_app = typer.Typer(help="Kafka topics from the registry in schemas/topics.py.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(topics_app, name="topics")


@topics_app.command("create")
def topics_create(
    prefix: Annotated[str, typer.Option(help="Prefix for every topic name (isolated environments).")] = "",
) -> None:
    """Create every registry topic that is missing, and report drift on the ones that exist."""
    from kafka.errors import KafkaError

    from pantau.kafka_local import broker_answers
    from services.runtime.topics import admin_client, ensure_topics

    settings = platform_settings()
    if not broker_answers(settings.bootstrap_servers, timeout=5.0):
        fail(f"no Kafka broker answers at {settings.bootstrap_servers}. Start it with 'pantau kafka up'.")
    try:
        admin = admin_client(settings.kafka)
    except (KafkaError, OSError) as exc:
        fail(f"cannot reach Kafka at {settings.bootstrap_servers}: {exc}. Start it with 'pantau kafka up'.")
    try:
        reports = ensure_topics(admin, prefix=prefix)
    finally:
        admin.close()
    bad = False
    for r in reports:
        line = f"{r.action:8} {r.name}"
        if r.error:
            line += f"  {r.error}"
            bad = True
        if r.drift:
            line += "  DRIFT: " + "; ".join(r.drift)
        say(line)
    if any(r.drift for r in reports):
        say("Drift found: the cluster differs from schemas/topics.py (fix by hand; topics are not altered).")
        bad = True
    raise typer.Exit(1 if bad else 0)


@topics_app.command("list")
def topics_list() -> None:
    """Print the topic registry: key, value model, partitions, cleanup policy, retention."""
    from schemas.topics import TOPICS

    for t in TOPICS:
        model = t.value_model.__name__ if t.value_model else "raw bytes"
        ret = "forever" if t.retention_ms < 0 else f"{t.retention_ms / 86_400_000:g} d"
        say(f"{t.name:24} key={t.key} value={model:15} partitions={t.partitions} "
                   f"cleanup={t.cleanup_policy:7} retention={ret}\n    {t.description}")  # fmt: skip
