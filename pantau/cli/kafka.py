"""``pantau kafka``: the embedded local broker (fetch the jars, up, down, status)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from pantau.cli.output import fail, platform_settings, say

kafka_app = typer.Typer(help="The embedded local Kafka broker (KRaft, single node).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(kafka_app, name="kafka")


@kafka_app.command("fetch")
def kafka_fetch() -> None:
    """Fetch the pinned Kafka jars and their dependencies from Maven Central (once)."""
    from pantau.kafka_local import KafkaSetupError, LocalKafka

    lk = LocalKafka.from_settings(platform_settings())
    try:
        libs = lk.fetch()
    except KafkaSetupError as exc:
        fail(str(exc))
    say(f"Kafka {lk.version} jars in {libs}")


@kafka_app.command("up")
def kafka_up(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the broker to answer.")] = 90.0,
) -> None:
    """Start the local broker on 127.0.0.1:9092 (formats storage on first use). Idempotent."""
    from pantau.kafka_local import KafkaSetupError, LocalKafka, wait_for_broker

    settings = platform_settings()
    if settings.external_kafka:
        try:
            wait_for_broker(settings.bootstrap_servers, timeout)
        except KafkaSetupError as exc:
            fail(f"KAFKA_BOOTSTRAP_SERVERS is set: {exc}")
        say(f"Using the existing cluster at {settings.bootstrap_servers} (KAFKA_BOOTSTRAP_SERVERS); nothing to start.")
        return
    lk = LocalKafka.from_settings(settings)
    try:
        pid, started = lk.up(timeout=timeout)
    except KafkaSetupError as exc:
        fail(str(exc))
    if started:
        say(f"Kafka {lk.version} started (pid {pid}) at {lk.bootstrap}; logs: {lk.log_file}")
    else:
        say(f"Kafka is already running (pid {pid}) at {lk.bootstrap}")


@kafka_app.command("down")
def kafka_down() -> None:
    """Stop the local broker cleanly (SIGTERM, controlled shutdown)."""
    from pantau.kafka_local import LocalKafka

    settings = platform_settings()
    if settings.external_kafka:
        say(f"KAFKA_BOOTSTRAP_SERVERS is set ({settings.bootstrap_servers}); pantau does not stop it.")
        return
    lk = LocalKafka.from_settings(settings)
    say("Kafka stopped" if lk.down() else "Kafka was not running")


@kafka_app.command("status")
def kafka_status(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Tell whether the broker runs and answers. Exit code 0 when it answers, 3 when not."""
    from pantau.kafka_local import LocalKafka, broker_answers

    settings = platform_settings()
    if settings.external_kafka:
        st: dict[str, object] = {
            "managed": False,
            "bootstrap": settings.bootstrap_servers,
            "answers": broker_answers(settings.bootstrap_servers),
        }
    else:
        st = LocalKafka.from_settings(settings).status()
    if as_json:
        say(json.dumps(st))
    elif not st["managed"]:
        say(f"external cluster {st['bootstrap']}: {'answers' if st['answers'] else 'NOT answering'}")
    elif st["running"]:
        say(
            f"running: pid {st['pid']}, Kafka {st['version']} at {st['bootstrap']}, "
            f"{'answers' if st['answers'] else 'NOT answering yet'}; data {st['data_dir']}"
        )
    else:
        say(f"not running (Kafka {st['version']}, would listen at {st['bootstrap']})")
    raise typer.Exit(0 if st["answers"] else 3)
