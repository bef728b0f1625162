"""``pantau history``: the history store's writer (scores, alert transitions, plan versions -> PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pantau.cli.output import fail, platform_settings, say, show_json, table
from pantau.cli.postgres import history_settings
from services.history.api_models import AlertsBody, OpenAlertsBody, ProgrammeBody, RankingBody, SeriesBody
from services.history.domain.periods import Resolution

if TYPE_CHECKING:
    from services.history.api import HistoryApi
    from services.history.config import HistorySettings

history_app = typer.Typer(
    help="The history store: its writer (scores, alerts, plans into PostgreSQL), its query API, and queries.",
    no_args_is_help=True,
)


def register(root: typer.Typer) -> None:
    root.add_typer(history_app, name="history")


@history_app.command("run")
def history_run(
    web_port: Annotated[int | None, typer.Option(help="Metrics and health port (default 6068).")] = None,
) -> None:
    """Run a history writer. Configured by HISTORY_* and PANTAU_DATABASE_URL; SIGTERM stops it.

    Start more (same HISTORY_GROUP_ID) to share the partitions.
    Without PANTAU_DATABASE_URL it writes to the local cluster ('pantau postgres up' first).
    """
    from services.history.worker import run_worker

    settings = _settings()
    if web_port is not None:
        settings = settings.model_copy(update={"web_port": web_port})
    run_worker(settings, log_format=platform_settings().log_format)


def _settings() -> HistorySettings:
    """The history store's settings (errors as one line), with a database to reach: the named server, or the
    local cluster once 'pantau postgres up' has set it up."""
    from services.history.config import DatabaseNotReady

    settings = history_settings()
    try:
        settings.url()
    except DatabaseNotReady as exc:
        fail(str(exc))
    return settings


@contextmanager
def _api() -> Iterator[HistoryApi]:
    """The query side without a server, against the same database; errors as one line each."""
    from services.history.bootstrap import bootstrap_api
    from services.history.service.ports import DatabaseUnavailable
    from services.history.service.queries import QueryError

    query_api = bootstrap_api(_settings())
    try:
        yield query_api.api
    except QueryError as exc:
        fail(exc.message)
    except DatabaseUnavailable as exc:
        fail(f"the history database cannot be reached: {exc}")
    finally:
        query_api.engine.dispose()


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is not a date (YYYY-MM-DD)")


def _as_json(body: dict[str, Any]) -> Any:
    """The API's body as the API writes it (orjson: ISO dates and times), read back as plain values."""
    import orjson

    return orjson.loads(orjson.dumps(body))


def _num(v: float | None, places: int = 2) -> str:
    return "-" if v is None else f"{v:.{places}f}"


@history_app.command("show")
def history_show(
    code: Annotated[str, typer.Argument(help="Region code, e.g. 32.73 (Kota Bandung).")],
    start: Annotated[str | None, typer.Option("--from", help="First day (default: 1 January of --to's year).")] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last day (default: today); 2029-12-31 shows the path.")
    ] = None,
    resolution: Annotated[Resolution, typer.Option(help="day, week, month or year.")] = Resolution.MONTH,
    framework: Annotated[str | None, typer.Option(help="Framework 'id@version' (default: the current one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The API's JSON body.")] = False,
) -> None:
    """A region's scores over time (closing snapshot per period) against its masterplan path."""
    with _api() as svc:
        s = svc.queries.region_series(code, _day(start, "--from"), _day(end, "--to"), resolution, framework)
        raw = svc.series_body(s)
    if as_json:
        show_json(_as_json(raw))
        return
    body = SeriesBody.model_validate(_as_json(raw))
    r = body.region
    say(f"{r.name} ({r.code}, {r.province_name}): maturity index 0-5 under {body.framework}, by {body.resolution}")
    say("  index: the period's closing snapshot (last day with a score); path: the masterplan's index on the "
        "period's last day; gap = path - index (above 0: behind)")  # fmt: skip
    rows = []
    for p in body.points:
        c = p.closing
        rows.append([p.period, _num(c.index) if c else "-", (c.level_name or "-") if c else "-",
                     _num(p.index_min), _num(p.index_max), _num(p.expected.get("index")), _num(p.gap),
                     f"{p.days}" + (f" ({p.simulated_days} simulated)" if p.simulated_days else "")])  # fmt: skip
    table(rows, ["period", "index", "level", "min", "max", "path", "gap", "days with data"])


@history_app.command("ranking")
def history_ranking(
    on: Annotated[str | None, typer.Option(help="The day (default: today).")] = None,
    province: Annotated[str | None, typer.Option(help="Only this province, e.g. 32.")] = None,
    region_type: Annotated[str | None, typer.Option("--type", help="kabupaten or kota.")] = None,
    level: Annotated[int | None, typer.Option(help="Only regions at this level (1-5).")] = None,
    framework: Annotated[str | None, typer.Option(help="Framework 'id@version' (default: the current one).")] = None,
    limit: Annotated[int, typer.Option(help="Rows shown (text output; --json has all).")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="The API's JSON body.")] = False,
) -> None:
    """Every region's standing as of a day: its latest closing snapshot, rank, and gap to its path."""
    if region_type not in (None, "kabupaten", "kota"):
        fail(f"--type: {region_type!r} is neither kabupaten nor kota")
    with _api() as svc:
        st = svc.queries.standing(_day(on, "--on"), framework, province=province,
                                  region_type=region_type, level=level)  # type: ignore[arg-type]  # fmt: skip
        raw = svc.ranking_body(st, province, region_type, level)
    if as_json:
        show_json(_as_json(raw))
        return
    body = RankingBody.model_validate(_as_json(raw))
    behind = sum(1 for r in body.regions if r.behind_plan)
    say(f"Ranking as of {body.on} under {body.framework}: {body.count} regions listed ({body.scored} scored), "
        f"{behind} behind their masterplan path")  # fmt: skip
    rows = [[r.rank or "-", r.region.code, r.region.name, _num(r.as_of.index), r.as_of.level_name or "-",
             _num(r.expected_index), _num(r.gap), r.as_of.day, "simulated" if r.as_of.simulated else ""]
            for r in body.regions[:limit]]  # fmt: skip
    table(rows, ["rank", "code", "region", "index", "level", "path", "gap", "as of", ""])
    if body.count > limit:
        say(f"  ... {body.count - limit} more (--limit, or --json for all)")


@history_app.command("alerts")
def history_alerts(
    code: Annotated[str | None, typer.Argument(help="Region code, e.g. 32.73 (optional with --open).")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day (default: 1 January this year).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (default: today).")] = None,
    open_now: Annotated[
        bool, typer.Option("--open", help="The alerts open now (firing or acknowledged), most severe first.")
    ] = False,
    province: Annotated[str | None, typer.Option(help="With --open: only this province, e.g. 32.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The API's JSON body.")] = False,
) -> None:
    """A region's alert transitions between two days, newest first; with --open, the alerts open now."""
    if open_now:
        if start is not None or end is not None:
            fail("--from and --to are for a region's transitions, not with --open")
        _open_alerts(province, code, as_json)
        return
    if code is None:
        fail("a region code (e.g. 32.73), or --open for the alerts open now")
    if province is not None:
        fail("--province goes with --open")
    with _api() as svc:
        first, last, transitions = svc.queries.alerts(code, _day(start, "--from"), _day(end, "--to"), None, 5000)
        raw = svc.alerts_body(code, first, last, transitions)
    if as_json:
        show_json(_as_json(raw))
        return
    body = AlertsBody.model_validate(_as_json(raw))
    say(f"{body.region.name} ({code}): {body.count} alert transitions from {first} to {last}")
    table([[t.at.isoformat(timespec="minutes"), t.state, t.severity, t.kind, t.target, _num(t.current),
            _num(t.expected), t.escalation] for t in body.transitions],
          ["at", "state", "severity", "kind", "target", "score", "path", "to"])  # fmt: skip


def _open_alerts(province: str | None, region: str | None, as_json: bool) -> None:
    with _api() as svc:
        raw = svc.open_alerts_body(svc.queries.open_alerts(province, region, 5000))
    if as_json:
        show_json(_as_json(raw))
        return
    body = OpenAlertsBody.model_validate(_as_json(raw))
    where = f" in {region}" if region else f" in province {province}" if province else ""
    say(f"{body.count} alerts open now{where}, most severe first (gap = path - score; above 0: behind)")
    table([[a.severity, a.region.code, a.region.name, a.kind, a.target, _num(a.current), _num(a.expected),
            _num(a.gap), a.fired_at.isoformat(timespec="minutes") if a.fired_at else "-", a.escalation,
            "acknowledged" if a.acknowledged else ""] for a in body.alerts],
          ["severity", "code", "region", "kind", "target", "score", "path", "gap", "fired", "to", ""])  # fmt: skip


@history_app.command("progress")
def history_progress(
    start: Annotated[str | None, typer.Option("--from", help="First day (default: 1 January of --to's year).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (default: today).")] = None,
    resolution: Annotated[Resolution, typer.Option(help="month or year.")] = Resolution.MONTH,
    as_json: Annotated[bool, typer.Option("--json", help="The API's JSON body.")] = False,
) -> None:
    """The programme over time: regions per level and behind their path, by month or year."""
    with _api() as svc:
        key, points = svc.queries.programme(_day(start, "--from"), _day(end, "--to"), resolution)
        raw = svc.programme_body(key, resolution, points)
    if as_json:
        show_json(_as_json(raw))
        return
    body = ProgrammeBody.model_validate(_as_json(raw))
    say(f"Programme progress under {body.framework} ({body.regions} kab/kota; goal: {body.masterplan_target} "
        f"masterplans by {body.target_year})")  # fmt: skip
    rows = [[p.period, p.regions_scored, _num(p.mean_index), *(p.levels.get(str(n), 0) for n in range(1, 6)),
             p.behind_plan, p.assisted_cumulative if p.assisted_cumulative is not None else "-"]
            for p in body.points]  # fmt: skip
    table(rows, ["period", "scored", "mean index", "L1", "L2", "L3", "L4", "L5", "behind path", "assisted (published)"])


@history_app.command("api")
def history_api(
    port: Annotated[int | None, typer.Option(help="Port (default 6069, HISTORY_API_PORT).")] = None,
) -> None:
    """Serve the read-only query API (OpenAPI at /docs). SIGTERM stops it."""
    from services.history.api_server import serve_api

    platform = platform_settings()
    settings = _settings()
    if port is not None:
        settings = settings.model_copy(update={"api_port": port})
    serve_api(settings, log_format=platform.log_format)


@history_app.command("backfill")
def history_backfill(
    topic: Annotated[list[str] | None, typer.Option(help="A topic of RegionScores to add (a rescore output).")] = None,
    framework: Annotated[
        list[Path] | None, typer.Option(help="A framework YAML a 'pantau rescore' ran under: its output topic.")
    ] = None,
    only: Annotated[bool, typer.Option("--only", help="Only the topics given, not the followed ones.")] = False,
) -> None:
    """Rebuild the history from the topics, from their beginning to their end now, then stop.

    Without options: region-scores, maturity-alerts and masterplan-milestones. With --framework (or
    --topic): also the scores 'pantau rescore' wrote under that framework version, stored beside the live
    version's. Safe beside a running writer: the same rows are written once.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from schemas.framework import FrameworkError, load_framework
    from services.history.backfill import backfill
    from services.scoring.rescore import output_topic

    settings = _settings()  # (logging set up as for every command)
    extra = [settings.topic(t) for t in topic or []]
    for path in framework or []:
        try:
            extra.append(settings.topic(output_topic(load_framework(path))))
        except FrameworkError as exc:
            fail(str(exc))
    if only and not extra:
        fail("--only needs a --topic or --framework")
    with Progress(TextColumn("backfilling history"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as bar:
        task = bar.add_task("backfill", total=None)
        try:
            report = backfill(settings, extra_scores=extra, followed=not only,
                              progress=lambda done, total: bar.update(task, completed=done, total=total))  # fmt: skip
        except LookupError as exc:
            fail(str(exc))
    written = ", ".join(f"{table} {n}" for table, n in sorted(report.rows.items())) or "no rows"
    say(f"{report.records} records read from {', '.join(report.topics)}; rows written: {written}")


@history_app.command("seed-demo")
def history_seed_demo(
    start: Annotated[str, typer.Option("--from", help="First day of the seeded past.")] = "2024-01-01",
    workers: Annotated[
        int | None, typer.Option(help="Processes scoring the regions (default: CPUs, at most 4).")
    ] = None,
    nice: Annotated[bool, typer.Option(help="Run at a lower CPU priority (beside a running platform).")] = False,
) -> None:
    """Seed the demo's past: one simulated closing snapshot per region and local day up to yesterday.

    Scored by the real scorer from each region's BPS figures (IPM 2020-2024 and P0 2024 are real) and
    simulated live indicators; every row is marked simulated and never replaces a stored day. Run again,
    it only adds the days since (make run does this at each start).
    """
    import os
    import sys

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from pantau.seed_history import seed_demo_history
    from schemas.framework import load_framework
    from services.history.db import create_engine, migrate
    from services.runtime import logs
    from services.scoring.config import ScoringSettings

    settings = _settings()  # (logging set up as for every command)
    first = _day(start, "--from")
    assert first is not None
    if nice:
        os.nice(10)
    log = logs.get("pantau.history.seed")
    engine = create_engine(settings.url(), connect_args={"application_name": "pantau-history-seed"})
    try:
        migrate(engine)
        framework = load_framework(ScoringSettings().framework_file)  # the framework the live scores are under
        log.info("history.seed.start", since=first.isoformat(), framework=framework.key)
        bar = Progress(TextColumn("seeding the demo's past"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       disable=not sys.stderr.isatty())  # fmt: skip
        with bar:
            task = bar.add_task("seed", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)
                if not sys.stderr.isatty() and (done % 50 == 0 or done == total):
                    log.info("history.seed.progress", regions_done=done, regions=total)

            result = seed_demo_history(engine, start=first, framework=framework, progress=progress, workers=workers)
    except ValueError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    say(f"seeded {result.rows_inserted} simulated daily snapshots for {result.regions_seeded} regions "
        f"({result.regions_skipped} already seeded) in {result.seconds:.0f} s")  # fmt: skip
