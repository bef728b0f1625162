"""``pantau``: the one command line for the platform. Every command has ``--help``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from pantau import cli_alerts, cli_grafana, cli_ingest
from pantau.cli_common import fail, platform_settings

app = typer.Typer(
    help="Pantau Kota Cerdas: live smart-city maturity monitoring for Indonesia's 514 kabupaten/kota.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
kafka_app = typer.Typer(help="The embedded local Kafka broker (KRaft, single node).", no_args_is_help=True)
topics_app = typer.Typer(help="Kafka topics from the registry in schemas/topics.py.", no_args_is_help=True)
regions_app = typer.Typer(help="The 38 provinces and 514 kabupaten/kota.", no_args_is_help=True)
framework_app = typer.Typer(help="The maturity framework (dimensions, elements, indicators).", no_args_is_help=True)
schemas_app = typer.Typer(help="JSON Schema files of the wire contracts.", no_args_is_help=True)
app.add_typer(kafka_app, name="kafka")
app.add_typer(topics_app, name="topics")
app.add_typer(regions_app, name="regions")
app.add_typer(framework_app, name="framework")
app.add_typer(schemas_app, name="schemas")
scoring_app = typer.Typer(help="The scoring service: indicator events -> region scores.", no_args_is_help=True)
scores_app = typer.Typer(help="Current region scores, read from the scoring service.", no_args_is_help=True)
app.add_typer(scoring_app, name="scoring")
app.add_typer(scores_app, name="scores")
cli_alerts.register(app)
cli_ingest.register(app)
cli_grafana.register(app)


_settings = platform_settings


# ------------------------------------------------------------------------------------------ kafka


@kafka_app.command("fetch")
def kafka_fetch() -> None:
    """Fetch the pinned Kafka jars and their dependencies from Maven Central (once)."""
    from pantau.kafka_local import KafkaSetupError, LocalKafka

    lk = LocalKafka.from_settings(_settings())
    try:
        libs = lk.fetch()
    except KafkaSetupError as exc:
        fail(str(exc))
    typer.echo(f"Kafka {lk.version} jars in {libs}")


@kafka_app.command("up")
def kafka_up(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the broker to answer.")] = 90.0,
) -> None:
    """Start the local broker on 127.0.0.1:9092 (formats storage on first use). Idempotent."""
    from pantau.kafka_local import KafkaSetupError, LocalKafka, wait_for_broker

    settings = _settings()
    if settings.external_kafka:
        try:
            wait_for_broker(settings.bootstrap_servers, timeout)
        except KafkaSetupError as exc:
            fail(f"KAFKA_BOOTSTRAP_SERVERS is set: {exc}")
        typer.echo(
            f"Using the existing cluster at {settings.bootstrap_servers} (KAFKA_BOOTSTRAP_SERVERS); nothing to start."
        )
        return
    lk = LocalKafka.from_settings(settings)
    try:
        pid, started = lk.up(timeout=timeout)
    except KafkaSetupError as exc:
        fail(str(exc))
    if started:
        typer.echo(f"Kafka {lk.version} started (pid {pid}) at {lk.bootstrap}; logs: {lk.log_file}")
    else:
        typer.echo(f"Kafka is already running (pid {pid}) at {lk.bootstrap}")


@kafka_app.command("down")
def kafka_down() -> None:
    """Stop the local broker cleanly (SIGTERM, controlled shutdown)."""
    from pantau.kafka_local import LocalKafka

    settings = _settings()
    if settings.external_kafka:
        typer.echo(f"KAFKA_BOOTSTRAP_SERVERS is set ({settings.bootstrap_servers}); pantau does not stop it.")
        return
    lk = LocalKafka.from_settings(settings)
    typer.echo("Kafka stopped" if lk.down() else "Kafka was not running")


@kafka_app.command("status")
def kafka_status(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Tell whether the broker runs and answers. Exit code 0 when it answers, 3 when not."""
    from pantau.kafka_local import LocalKafka, broker_answers

    settings = _settings()
    if settings.external_kafka:
        st: dict[str, object] = {
            "managed": False,
            "bootstrap": settings.bootstrap_servers,
            "answers": broker_answers(settings.bootstrap_servers),
        }
    else:
        st = LocalKafka.from_settings(settings).status()
    if as_json:
        typer.echo(json.dumps(st))
    elif not st["managed"]:
        typer.echo(f"external cluster {st['bootstrap']}: {'answers' if st['answers'] else 'NOT answering'}")
    elif st["running"]:
        typer.echo(
            f"running: pid {st['pid']}, Kafka {st['version']} at {st['bootstrap']}, "
            f"{'answers' if st['answers'] else 'NOT answering yet'}; data {st['data_dir']}"
        )
    else:
        typer.echo(f"not running (Kafka {st['version']}, would listen at {st['bootstrap']})")
    raise typer.Exit(0 if st["answers"] else 3)


# ------------------------------------------------------------------------------------------ topics


@topics_app.command("create")
def topics_create(
    prefix: Annotated[str, typer.Option(help="Prefix for every topic name (isolated environments).")] = "",
) -> None:
    """Create every registry topic that is missing, and report drift on the ones that exist."""
    from kafka.errors import KafkaError

    from pantau.kafka_local import broker_answers
    from services.runtime.topics import admin_client, ensure_topics

    settings = _settings()
    if not broker_answers(settings.bootstrap_servers, timeout=5.0):
        fail(f"no Kafka broker answers at {settings.bootstrap_servers}. Start it with 'pantau kafka up'.")
    try:
        admin = admin_client(settings.bootstrap_servers)
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
        typer.echo(line)
    if any(r.drift for r in reports):
        typer.echo("Drift found: the cluster differs from schemas/topics.py (fix by hand; topics are not altered).")
        bad = True
    raise typer.Exit(1 if bad else 0)


@topics_app.command("list")
def topics_list() -> None:
    """Print the topic registry: key, value model, partitions, cleanup policy, retention."""
    from schemas.topics import TOPICS

    for t in TOPICS:
        model = t.value_model.__name__ if t.value_model else "raw bytes"
        ret = "forever" if t.retention_ms < 0 else f"{t.retention_ms / 86_400_000:g} d"
        typer.echo(f"{t.name:24} key={t.key} value={model:15} partitions={t.partitions} "
                   f"cleanup={t.cleanup_policy:7} retention={ret}\n    {t.description}")  # fmt: skip


# ------------------------------------------------------------------------------------------ regions


@regions_app.command("list")
def regions_list(
    province: Annotated[str | None, typer.Option(help="Only this province code, e.g. 32.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """List kabupaten/kota with their Kemendagri codes."""
    from schemas.regions import default_registry

    reg = default_registry()
    try:
        regions = reg.in_province(province) if province else list(reg.regions.values())
    except KeyError as exc:
        fail(str(exc.args[0]))
    for r in regions:
        if as_json:
            typer.echo(r.model_dump_json())
        else:
            typer.echo(
                f"{r.code}  {r.name:40} {r.province_name}{'  (administrative)' if r.administrative_only else ''}"
            )
    if not as_json:
        typer.echo(f"{len(regions)} regions (registry {reg.version})", err=True)


# ------------------------------------------------------------------------------------------ framework


@framework_app.command("show")
def framework_show(
    file: Annotated[Path | None, typer.Option("--file", help="A framework YAML (default: the shipped one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The whole framework as JSON.")] = False,
) -> None:
    """Print the framework: dimensions, elements, indicators with unit, direction and weight."""
    from schemas.framework import FrameworkError, load_framework

    try:
        fw = load_framework(file)
    except FrameworkError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(fw.model_dump_json(indent=2))
        return
    typer.echo(f"{fw.title}  [{fw.key}]  minimum coverage {fw.minimum_coverage:.0%}")
    typer.echo("levels: " + ", ".join(f"{lv.level} {lv.name} (>= {lv.min_score:g})" for lv in fw.levels))
    for d in fw.dimensions:
        typer.echo(f"\n{d.id} - {d.name} (weight {d.weight:g})")
        for e in d.elements:
            typer.echo(f"  {e.id} - {e.name} (weight {e.weight:g})")
            for i in e.indicators:
                win = f" over {i.aggregation.window}" if i.aggregation.window else ""
                typer.echo(
                    f"    {i.id:30} {i.unit:14} {i.direction.value:17} w={i.weight:<4g} "
                    f"{i.normalisation.method:10} {i.aggregation.method}{win}, valid {i.validity}"
                )
    typer.echo(f"\n{len(fw.indicators)} indicators")


# ------------------------------------------------------------------------------------------ schemas


@schemas_app.command("export")
def schemas_export(
    check: Annotated[bool, typer.Option(help="Only check; exit 1 when the files drift from the models.")] = False,
) -> None:
    """Write the JSON Schema of each contract to schemas/json/."""
    from schemas import export

    if check:
        stale = [p for p, text in export.expected_files().items() if not p.exists() or p.read_text() != text]
        for p in stale:
            typer.echo(f"drift: {p}")
        raise typer.Exit(1 if stale else 0)
    for p in export.write_all():
        typer.echo(f"wrote {p}")


# ------------------------------------------------------------------------------------------ scoring


@scoring_app.command("run")
def scoring_run(
    web_port: Annotated[int | None, typer.Option(help="Web/metrics port (default 6066).")] = None,
    store: Annotated[str | None, typer.Option(help="Table store: rocksdb (default) or memory.")] = None,
) -> None:
    """Run a scoring worker (faust). Start more on other hosts/ports to scale out; SIGTERM stops it."""
    from services.scoring.app import run_worker
    from services.scoring.config import ScoringSettings

    platform = _settings()
    overrides: dict[str, object] = {}
    if web_port is not None:
        overrides["web_port"] = web_port
    if store is not None:
        overrides["store"] = store
    run_worker(ScoringSettings(**overrides), log_format=platform.log_format)  # type: ignore[arg-type]


@scores_app.command("show")
def scores_show(
    region: Annotated[str, typer.Argument(help="Region code, e.g. 32.73 (Kota Bandung).")],
    url: Annotated[str, typer.Option(help="Scoring service base URL.")] = "http://127.0.0.1:6066",
    as_json: Annotated[bool, typer.Option("--json", help="The raw JSON.")] = False,
) -> None:
    """Print a region's current index, level, dimensions with coverage, and weakest indicators."""
    import urllib.error
    import urllib.request

    from schemas.regions import default_registry

    reg = default_registry()
    if region not in reg:
        fail(f"unknown region code {region!r}; see 'pantau regions list'")
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/scores/{region}", timeout=10) as resp:
            body = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        fail(f"the scoring service answered {exc.code}: {detail}")
    except (urllib.error.URLError, OSError) as exc:
        fail(f"cannot reach the scoring service at {url}: {exc}. Is 'pantau scoring run' running?")
    if as_json:
        typer.echo(json.dumps(body, indent=2))
        return
    r = reg.get(region)
    idx = "n/a" if body["index"] is None else f"{body['index']:.2f}"
    level = f"level {body['level']} {body['level_name']}" if body["level"] else "no level"
    typer.echo(f"{r.name} ({region}), {r.province_name}")
    typer.echo(f"  index {idx}  {level}  coverage {body['coverage']:.0%}  [{body['status']}]  "
               f"framework {body['framework']}, at {body['evaluated_at']}")  # fmt: skip
    for d in body["dimensions"]:
        sc = "  n/a" if d["score"] is None else f"{d['score']:5.2f}"
        typer.echo(f"  {d['dimension_id']:12} {sc}  coverage {d['coverage']:4.0%}  {d['status']}")
    if body.get("weakest"):
        typer.echo("  weakest indicators:")
        for i in body["weakest"]:
            typer.echo(f"    {i['indicator_id']:30} score {i['score']:.2f}  value {i['value']:g}  ({i['dimension']})")


@app.command("rescore")
def rescore_cmd(
    framework: Annotated[Path, typer.Option("--framework", help="Framework YAML to re-score under.")],
    at: Annotated[str | None, typer.Option(help="Evaluation time, ISO 8601 (default: now).")] = None,
    lateness_minutes: Annotated[float, typer.Option(help="Allowed lateness, as the live service.")] = 5.0,
    output: Annotated[Path | None, typer.Option(help="Also write the scores to this JSON-lines file.")] = None,
) -> None:
    """Re-score every region under another framework version by replaying indicator-events.

    Writes to region-scores.<id>-<version>; the live scores are not touched.
    """
    from datetime import UTC, datetime, timedelta

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from schemas.framework import FrameworkError, load_framework
    from services.scoring.rescore import rescore, write_jsonl

    settings = _settings()
    try:
        fw = load_framework(framework)
    except FrameworkError as exc:
        fail(str(exc))
    try:
        when = datetime.fromisoformat(at) if at else datetime.now(UTC)
    except ValueError:
        fail(f"--at: {at!r} is not an ISO 8601 time")
    if when.tzinfo is None:
        fail("--at: give a time zone, e.g. 2026-11-27T12:00:00+07:00")
    with Progress(TextColumn("replaying indicator-events"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), transient=False) as bar:  # fmt: skip
        task = bar.add_task("replay", total=None)
        try:
            report = rescore(fw, settings.bootstrap_servers, lateness=timedelta(minutes=lateness_minutes), at=when,
                             progress=lambda done, total: bar.update(task, completed=done, total=total))  # fmt: skip
        except ValueError as exc:
            fail(str(exc))
    if output:
        write_jsonl(report, output)
    typer.echo(f"{report.records} records replayed under {fw.key}: "
               + ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items())))  # fmt: skip
    typer.echo(f"{len(report.scores)} region scores written to topic {report.topic}"
               + (f" and {output}" if output else ""))  # fmt: skip


@app.command("run")
def run() -> None:
    """Run the platform on the embedded default: local Kafka, topics and services. Ctrl-C stops it."""
    from pantau.kafka_local import KafkaSetupError
    from pantau.run import run_platform

    try:
        code = run_platform(_settings())
    except KafkaSetupError as exc:
        fail(str(exc))
    raise typer.Exit(code)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
