"""``pantau import``: bulk imports through the ingest validation."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from pantau.cli.ingest import ingest_settings
from pantau.cli.output import fail, platform_settings, say

import_app = typer.Typer(help="Bulk imports through the ingest validation.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(import_app, name="import")


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
    settings = ingest_settings()
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
    say(f"{plan.rows} rows: {len(plan.events)} valid {indicator} events, {len(plan.problems)} problem(s), "
               f"{plan.skipped} rows of other indicators skipped")  # fmt: skip
    for line in plan.describe_problems():
        say(line, err=True)
    if plan.problems and not skip_invalid:
        fail("nothing written: fix the lines above, or pass --skip-invalid to write the valid rows")
    if dry_run or not plan.events:
        say("nothing written" + (" (--dry-run)" if dry_run else ""))
        return
    topic = settings.topic("indicator-events")
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(f"writing to {topic}", total=len(plan.events))
        try:
            written = asyncio.run(write_events(plan.events, kafka=settings.kafka, topic=topic,
                                               timeout=settings.produce_timeout,
                                               progress=lambda n: bar.update(task, completed=n)))  # fmt: skip
        except KafkaUnavailable as exc:
            fail(f"Kafka at {settings.bootstrap_servers}: {exc}. Importing the file again is safe.")
    regions = len({e.region_code for e in plan.events})
    say(f"{written} events written to {topic} ({regions} regions)")
