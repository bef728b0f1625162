"""Commands of the ingest service: ``pantau ingest``, ``pantau import csv``, ``pantau publishers``.

``register(app)`` adds them to the main CLI (pantau/cli.py).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pantau.cli_common import fail, platform_settings

if TYPE_CHECKING:
    from services.ingest.config import IngestSettings

ingest_app = typer.Typer(help="The ingest service: HTTP API and raw-topic validator.", no_args_is_help=True)
import_app = typer.Typer(help="Bulk imports through the ingest validation.", no_args_is_help=True)
publishers_app = typer.Typer(help="Publishers and their API keys (stored as hashes only).", no_args_is_help=True)

FileOption = Annotated[
    Path | None, typer.Option("--file", help="Publishers file (default: INGEST_PUBLISHERS_FILE or .pantau/ingest).")
]


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")
    app.add_typer(import_app, name="import")
    app.add_typer(publishers_app, name="publishers")


def _ingest_settings(**overrides: Any) -> IngestSettings:
    from pydantic import ValidationError

    from services.ingest.config import IngestSettings

    try:
        return IngestSettings(**overrides)
    except ValidationError as exc:
        fail("; ".join(f"INGEST_{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()))


def _check_publishers_file(path: Path) -> None:
    from services.ingest.publishers import PublishersFileError, read_publishers

    try:
        read_publishers(path)
    except PublishersFileError as exc:
        fail(str(exc))


# ------------------------------------------------------------------------------------------ ingest


@ingest_app.command("run")
def ingest_run(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8080).")] = None,
    validator: Annotated[
        bool | None, typer.Option(help="Also run the raw-topic validator in this process (default: INGEST_VALIDATOR).")
    ] = None,
) -> None:
    """Serve the HTTP API (POST /v1/events, /docs, /metrics) and validate indicator-events.raw. SIGTERM stops it."""
    from services.ingest.server import serve

    platform_settings()
    overrides: dict[str, Any] = {} if validator is None else {"validator": validator}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = _ingest_settings(**overrides)
    _check_publishers_file(settings.publishers_file)
    serve(settings)


@ingest_app.command("validator")
def ingest_validator(
    port: Annotated[int | None, typer.Option(help="Port of /metrics (default 8080).")] = None,
) -> None:
    """Run only the raw-topic validator (more processes share the partitions). SIGTERM stops it."""
    from services.ingest.server import run_validator

    platform_settings()
    run_validator(_ingest_settings(**({"web_port": port} if port is not None else {})))


@ingest_app.command("openapi")
def ingest_openapi(
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output.")] = None,
) -> None:
    """Print the OpenAPI document of the HTTP API (the one served at /openapi.json)."""
    from services.ingest.app import build_service, create_app

    platform_settings()
    text = json.dumps(create_app(build_service(_ingest_settings(validator=False))).openapi(), indent=2)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {output}")
    else:
        typer.echo(text)


# ------------------------------------------------------------------------------------------ import


@import_app.command("csv")
def import_csv(
    file: Annotated[Path, typer.Argument(help="CSV file with a header row.", exists=True, dir_okay=False)],
    indicator: Annotated[str, typer.Option(help="Framework indicator id, e.g. IPM (rows of others are skipped).")],
    period_column: Annotated[str, typer.Option(help="Column of the period: YYYY, YYYY-MM, YYYY-Qn or a date.")],
    value_column: Annotated[str, typer.Option(help="Column of the value.")] = "value",
    region_column: Annotated[str, typer.Option(help="Column of the Kemendagri region code (PP.KK).")] = "region_code",
    indicator_column: Annotated[str, typer.Option(help="Column of the indicator id, if any.")] = "indicator_code",
    unit_column: Annotated[str, typer.Option(help="Column of the unit, if any.")] = "unit",
    unit: Annotated[
        str | None, typer.Option(help="Unit of every row (default: unit column, else the indicator's).")
    ] = None,
    source: Annotated[str, typer.Option(help="The events' source, e.g. bps.")] = "csv-import",
    publisher: Annotated[str, typer.Option(help="The events' publisher.")] = "csv-import",
    skip_invalid: Annotated[bool, typer.Option(help="Write the valid rows even when some are invalid.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Check every row; write nothing.")] = False,
) -> None:
    """Import a series (e.g. the BPS IPM file) into indicator-events, through the ingest validation.

    Example: pantau import csv schemas/data/indicator_observations_bps.csv --indicator IPM --period-column period
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from schemas.framework import FrameworkError, load_framework
    from schemas.regions import default_registry
    from services.ingest.domain.csv_rows import CsvSpec
    from services.ingest.domain.intake import Rules
    from services.ingest.importer import plan_import, write_events
    from services.ingest.writer import KafkaUnavailable

    platform_settings()
    settings = _ingest_settings()
    try:
        framework = load_framework(settings.framework_file)
    except FrameworkError as exc:
        fail(str(exc))
    spec = CsvSpec(indicator=indicator, period_column=period_column, value_column=value_column,
                   region_column=region_column, indicator_column=indicator_column, unit_column=unit_column,
                   unit=unit, source=source)  # fmt: skip
    rules = Rules(default_registry(), framework, settings.time_limits)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(f"checking {file.name}", total=None)
        try:
            plan = plan_import(file, spec, rules, publisher=publisher,
                               progress=lambda n: bar.update(task, completed=n))  # fmt: skip
        except ValueError as exc:
            fail(str(exc))
        bar.update(task, total=plan.rows, completed=plan.rows)
    typer.echo(f"{plan.rows} rows: {len(plan.events)} valid {indicator} events, {len(plan.problems)} problem(s), "
               f"{plan.skipped} rows of other indicators skipped")  # fmt: skip
    for line in plan.describe_problems():
        typer.echo(line, err=True)
    if plan.problems and not skip_invalid:
        fail("nothing written: fix the lines above, or pass --skip-invalid to write the valid rows")
    if dry_run or not plan.events:
        typer.echo("nothing written" + (" (--dry-run)" if dry_run else ""))
        return
    topic = settings.topic("indicator-events")
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(f"writing to {topic}", total=len(plan.events))
        try:
            written = asyncio.run(write_events(plan.events, bootstrap=settings.bootstrap_servers, topic=topic,
                                               timeout=settings.produce_timeout,
                                               progress=lambda n: bar.update(task, completed=n)))  # fmt: skip
        except KafkaUnavailable as exc:
            fail(f"Kafka at {settings.bootstrap_servers}: {exc}. Importing the file again is safe.")
    regions = len({e.region_code for e in plan.events})
    typer.echo(f"{written} events written to {topic} ({regions} regions)")


# ------------------------------------------------------------------------------------------ publishers


@publishers_app.command("add")
def publishers_add(
    publisher_id: Annotated[str, typer.Argument(help="Short id, e.g. bandung-command-centre.")],
    name: Annotated[str | None, typer.Option(help="Human-readable name.")] = None,
    region: Annotated[list[str] | None, typer.Option("--region", help="A region code it may write (repeat).")] = None,
    province: Annotated[list[str] | None, typer.Option("--province", help="A whole province (repeat).")] = None,
    all_regions: Annotated[bool, typer.Option(help="Every region (national publishers such as BPS).")] = False,
    indicator: Annotated[list[str] | None, typer.Option("--indicator", help="An indicator id (repeat).")] = None,
    all_indicators: Annotated[bool, typer.Option(help="Every indicator of the framework.")] = False,
    file: FileOption = None,
) -> None:
    """Create a publisher and its API key. The key is printed once; only its hash is stored."""
    from pydantic import ValidationError

    from schemas.framework import load_framework
    from schemas.regions import default_registry
    from services.ingest.domain.auth import ALL, make_scope
    from services.ingest.publishers import PublishersFileError, add_publisher

    platform_settings()
    settings = _ingest_settings()
    path = file or settings.publishers_file
    try:
        scope = make_scope(
            regions=[ALL] if all_regions else (region or []), provinces=province or [],
            indicators=[ALL] if all_indicators else (indicator or []),
            registry=default_registry(), framework=load_framework(settings.framework_file),
        )  # fmt: skip
        pub, key = add_publisher(path, publisher_id, name or publisher_id, scope)
    except (ValueError, PublishersFileError) as exc:
        detail = "; ".join(e["msg"] for e in exc.errors()) if isinstance(exc, ValidationError) else str(exc)
        fail(detail)
    typer.echo(f"publisher {pub.id} added to {path}\nscope: {pub.scope.describe()}")
    typer.echo("API key (shown only now; store it in the publishing system's secrets):", err=True)
    typer.echo(key)


@publishers_app.command("list")
def publishers_list(
    file: FileOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines (without key hashes).")] = False,
) -> None:
    """List publishers with their key ids and scopes (never the keys)."""
    from services.ingest.publishers import PublishersFileError, read_publishers

    platform_settings()
    path = file or _ingest_settings().publishers_file
    try:
        publishers = read_publishers(path)
    except PublishersFileError as exc:
        fail(str(exc))
    for p in publishers:
        if as_json:
            typer.echo(json.dumps(p.model_dump(mode="json", exclude={"key_hash"})))
        else:
            typer.echo(f"{p.id:28} key {p.key_id}  {p.scope.describe()}  (since {p.created_at:%Y-%m-%d})")
    if not as_json:
        typer.echo(f"{len(publishers)} publisher(s) in {path}", err=True)


@publishers_app.command("remove")
def publishers_remove(
    publisher_id: Annotated[str, typer.Argument(help="The publisher's id.")],
    file: FileOption = None,
) -> None:
    """Remove a publisher: its key stops working within a second (the service re-reads the file)."""
    from services.ingest.publishers import PublishersFileError, remove_publisher

    platform_settings()
    path = file or _ingest_settings().publishers_file
    try:
        removed = remove_publisher(path, publisher_id)
    except PublishersFileError as exc:
        fail(str(exc))
    if not removed:
        fail(f"no publisher {publisher_id!r} in {path}")
    typer.echo(f"publisher {publisher_id} removed from {path}")
