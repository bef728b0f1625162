"""``pantau scoring``, ``pantau scores`` and ``pantau rescore``: the scoring service."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pantau.cli.output import fail, platform_settings, say, show_json

scoring_app = typer.Typer(help="The scoring service: indicator events -> region scores.", no_args_is_help=True)
scores_app = typer.Typer(help="Current region scores, read from the scoring service.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(scoring_app, name="scoring")
    root.add_typer(scores_app, name="scores")
    root.command("rescore")(rescore_cmd)


@scoring_app.command("run")
def scoring_run(
    web_port: Annotated[int | None, typer.Option(help="Web/metrics port (default 6066).")] = None,
    store: Annotated[str | None, typer.Option(help="Table store: rocksdb (default) or memory.")] = None,
) -> None:
    """Run a scoring worker (faust). Start more on other hosts/ports to scale out; SIGTERM stops it."""
    from services.scoring.config import ScoringSettings
    from services.scoring.worker import run_worker

    platform = platform_settings()
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
        show_json(body)
        return
    r = reg.get(region)
    idx = "n/a" if body["index"] is None else f"{body['index']:.2f}"
    level = f"level {body['level']} {body['level_name']}" if body["level"] else "no level"
    say(f"{r.name} ({region}), {r.province_name}")
    say(f"  index {idx}  {level}  coverage {body['coverage']:.0%}  [{body['status']}]  "
               f"framework {body['framework']}, at {body['evaluated_at']}")  # fmt: skip
    for d in body["dimensions"]:
        sc = "  n/a" if d["score"] is None else f"{d['score']:5.2f}"
        say(f"  {d['dimension_id']:12} {sc}  coverage {d['coverage']:4.0%}  {d['status']}")
    if body.get("weakest"):
        say("  weakest indicators:")
        for i in body["weakest"]:
            say(f"    {i['indicator_id']:30} score {i['score']:.2f}  value {i['value']:g}  ({i['dimension']})")


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

    settings = platform_settings()
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
    say(f"{report.records} records replayed under {fw.key}: "
               + ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items())))  # fmt: skip
    say(f"{len(report.scores)} region scores written to topic {report.topic}"
               + (f" and {output}" if output else ""))  # fmt: skip
