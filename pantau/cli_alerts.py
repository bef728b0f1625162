"""``pantau alerts``, ``masterplan``, ``programme`` and ``simulate``: the commands of issue 5."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pantau.cli_common import fail, platform_settings

if TYPE_CHECKING:
    from schemas.masterplan import MasterplanFile
    from services.alerts.notify import NotifySettings

alerts_app = typer.Typer(help="The alerts service: region scores + masterplans -> alerts -> notifications.",
                         no_args_is_help=True)  # fmt: skip
masterplan_app = typer.Typer(help="Masterplans: milestones per region, the path they set.", no_args_is_help=True)
programme_app = typer.Typer(help="The national programme: masterplans toward 263 regions by 2029.",
                            no_args_is_help=True)  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(masterplan_app, name="masterplan")
    app.add_typer(programme_app, name="programme")
    app.command("simulate")(simulate)
    app.command("sinks")(sinks)


def _topic(name: str) -> str:
    import os

    return os.environ.get("ALERTS_TOPIC_PREFIX", "") + name


def _framework_file() -> Path | None:
    """The framework the alerts service scores against (ALERTS_FRAMEWORK_FILE), else the shipped one."""
    import os

    value = os.environ.get("ALERTS_FRAMEWORK_FILE")
    return Path(value) if value else None


@alerts_app.command("run")
def alerts_run(
    web_port: Annotated[int | None, typer.Option(help="Web/metrics/acknowledge port (default 6067).")] = None,
    store: Annotated[str | None, typer.Option(help="Table store: rocksdb (default) or memory.")] = None,
) -> None:
    """Run an alerts worker (faust). Configured by ALERTS_* variables; SIGTERM stops it.

    Acknowledge links are signed with ALERTS_ACK_SECRET, which every worker must share. On the
    embedded default (a broker on this machine) a secret kept in PANTAU_HOME/ack-secret is used
    when none is set; against another cluster the worker refuses to start without one.
    """
    from services.alerts.app import run_worker
    from services.alerts.config import AlertsSettings
    from services.alerts.notify import NotifySettings

    platform = platform_settings()
    overrides: dict[str, object] = {}
    if web_port is not None:
        overrides["web_port"] = web_port
    if store is not None:
        overrides["store"] = store
    settings = AlertsSettings(**overrides)  # type: ignore[arg-type]
    run_worker(settings, ack_settings(NotifySettings(), settings.bootstrap_servers, platform.home),
               log_format=platform.log_format)  # fmt: skip


def ack_settings(notify: NotifySettings, bootstrap: str, home: Path) -> NotifySettings:
    """``notify`` with the acknowledge secret every worker shares (see ``alerts run``); exits 2 without one."""
    from pydantic import SecretStr

    from services.alerts.notify import local_secret

    if notify.ack_secret is not None:
        return notify
    if not all(_loopback(server) for server in bootstrap.split(",")):
        fail(
            f"ALERTS_ACK_SECRET is not set. Against the cluster {bootstrap} several alerts workers may verify each "
            "other's acknowledge links, so all must share one secret: set ALERTS_ACK_SECRET (e.g. from a "
            "Kubernetes Secret) on every worker.",
            2,
        )
    return notify.model_copy(update={"ack_secret": SecretStr(local_secret(home / "ack-secret"))})


def _loopback(server: str) -> bool:
    host = server.strip().rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")


def _load_files(files: list[Path]) -> list[MasterplanFile]:
    from schemas.framework import load_framework
    from schemas.masterplan import DEFAULT_MASTERPLAN_FILE, MasterplanFileError, load_masterplan_file
    from schemas.regions import default_registry

    fw, reg = load_framework(_framework_file()), default_registry()
    out: list[MasterplanFile] = []
    for f in files or [DEFAULT_MASTERPLAN_FILE]:
        try:
            out.append(load_masterplan_file(f, fw, reg))
        except MasterplanFileError as exc:
            fail(f"invalid masterplan file:\n{exc}")
    return out


@masterplan_app.command("load")
def masterplan_load(
    files: Annotated[
        list[Path] | None, typer.Argument(help="YAML or CSV plan files (default: the national plan).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report; publish nothing.")] = False,
) -> None:
    """Validate plan files and publish the plans they change to the compacted masterplan topic."""
    from kafka.errors import KafkaError

    from schemas.regions import default_registry
    from services.alerts.masterplans import publish_plans

    settings = platform_settings()
    loaded = _load_files(files or [])
    try:
        report = publish_plans(settings.bootstrap_servers, _topic("masterplan-milestones"), loaded,
                               default_registry(), dry_run=dry_run)  # fmt: skip
    except (LookupError, TimeoutError) as exc:
        fail(str(exc))
    except KafkaError as exc:
        fail(f"{exc}. Is Kafka up? ('pantau kafka status')")
    verb = "would publish" if dry_run else "published"
    basis = ", ".join(f"{n} {b}" for b, n in sorted(report.by_basis.items())) or "none"
    typer.echo(f"{verb} {report.published} plan(s) ({basis}); {report.unchanged} unchanged")


def _plans_now(from_files: list[Path] | None) -> dict[str, object]:
    from kafka.errors import KafkaError

    from schemas.masterplan import resolve_plans
    from schemas.regions import default_registry
    from services.alerts.masterplans import current_plans

    if from_files is not None:
        return resolve_plans(_load_files(from_files), default_registry())  # type: ignore[return-value]
    settings = platform_settings()
    try:
        return current_plans(settings.bootstrap_servers, _topic("masterplan-milestones"))  # type: ignore[return-value]
    except (LookupError, TimeoutError, KafkaError) as exc:
        fail(f"{exc}. Is Kafka up? ('pantau kafka status')")


@masterplan_app.command("show")
def masterplan_show(
    region: Annotated[str, typer.Argument(help="Region code, e.g. 32.73 (Kota Bandung).")],
    file: Annotated[list[Path] | None, typer.Option("--file", help="Read plans from files, not the topic.")] = None,
    on: Annotated[str | None, typer.Option(help="The day of the expected values (default today), YYYY-MM-DD.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The plan as JSON.")] = False,
) -> None:
    """Print a region's plan, its milestones and today's expected value on the interpolated path."""
    from schemas.masterplan import Masterplan, expected_on, next_milestone
    from schemas.regions import default_registry

    reg = default_registry()
    if region not in reg:
        fail(f"unknown region code {region!r}; see 'pantau regions list'")
    try:
        day = dt.date.fromisoformat(on) if on else dt.datetime.now(dt.UTC).date()
    except ValueError:
        fail(f"--on: {on!r} is not a date (YYYY-MM-DD)")
    plan = _plans_now(file).get(region)
    if plan is None:
        fail(f"no plan for {region}: load one with 'pantau masterplan load' (default: the national plan)")
    assert isinstance(plan, Masterplan)
    if as_json:
        typer.echo(plan.model_dump_json(indent=2))
        return
    r = reg.get(region)
    p = plan.programme
    adopted = f"adopted{' on ' + str(p.adopted_on) if p.adopted_on else ''}" if p.masterplan_adopted else "not adopted"
    typer.echo(f"{r.name} ({region}), {r.province_name}: plan {plan.plan_id} ({plan.basis}); "
               f"cohort {p.cohort_year or '-'}, masterplan {adopted}")  # fmt: skip
    keys = sorted({k for m in plan.milestones for k in m.targets}, key=lambda k: (k != "index", k))
    typer.echo(f"  {'due':10}  " + "  ".join(f"{k[:11]:>11}" for k in keys) + "  label")
    for m in plan.milestones:
        vals = "  ".join(f"{m.targets[k]:11.2f}" if k in m.targets else f"{'':>11}" for k in keys)
        typer.echo(f"  {m.due}  {vals}  {m.label}")
    typer.echo(f"  expected on {day} (interpolated path):")
    for k in keys:
        exp = expected_on(plan, k, day)
        nxt = next_milestone(plan, k, day)
        nxt_s = f"; next {nxt.targets[k]:.2f} due {nxt.due}" if nxt else ""
        typer.echo(f"    {k:12} {'-' if exp is None else f'{exp:.2f}'}{nxt_s}")


@programme_app.command("status")
def programme_status(
    file: Annotated[list[Path] | None, typer.Option("--file", help="Read plans from files, not the topic.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The figures as JSON.")] = False,
) -> None:
    """Progress toward the national goal: kab/kota assisted (published totals) and known by name, by
    cohort year, against the target of 263 masterplans by 2029; then what the plans record per region."""
    from schemas.masterplan import Masterplan
    from schemas.programme import FIGURE_USED, default_programme, first_url, plan_counts, summary
    from schemas.regions import default_registry

    reg, prog = default_registry(), default_programme()
    statuses = {code: p.programme for code, p in _plans_now(file).items() if isinstance(p, Masterplan)}
    if as_json:
        typer.echo(json.dumps(summary(prog, statuses), indent=2))
        return
    target, latest = prog.target, prog.assisted
    assisted, goal = latest.cumulative_assisted or 0, target.cumulative_assisted or 0
    typer.echo(f"Gerakan Menuju Smart City: {assisted} kab/kota assisted {prog.cohorts[0].year}-{latest.year} "
               f"(published total) against the target of {goal} masterplans by {target.year}: "
               f"{assisted / goal:.0%}, {max(0, goal - assisted)} to go ({first_url(latest.source)})")  # fmt: skip
    typer.echo(f"  {'cohort':>6}  {'assisted':>8}  {'cumulative':>10}  known by name")
    for before, c in zip([None, *prog.cohorts], prog.cohorts, strict=False):
        for gap in range(before.year + 1 if before else c.year, c.year):
            typer.echo(f"  {gap:>6}  {'-':>8}  {'-':>10}  (no cohort reported)")
        named = f"{c.named} (complete list)" if c.named_complete else f"{c.named} of {c.cohort_size} (partial list)"
        typer.echo(f"  {c.year:>6}  {c.cohort_size or '-':>8}  {c.cumulative_assisted or '-':>10}  {named}")
    twice = {code: years for code, years in prog.named_regions.items() if len(years) > 1}
    typer.echo(f"  known by name: {len(prog.named_regions)} kab/kota ({len(prog.participants)} cohort places; "
               f"named in two cohorts: {', '.join(twice) or 'none'}): a subset of the {assisted} assisted, "
               "not the total")  # fmt: skip
    typer.echo(f"  conflicting published figures; {FIGURE_USED}:")
    for k in prog.conflicts:
        typer.echo(f"    {k.year} {k.field.replace('_', ' ')}: {k.used} used ({first_url(k.source_used)}); "
                   f"{k.other} also published ({first_url(k.source_other)})")  # fmt: skip
    for t in prog.targets:
        if t is not target:
            typer.echo(f"  an earlier target: {t.cumulative_assisted} kab/kota by {t.year} ({first_url(t.source)})")
    where = "in the files" if file is not None else "on the topic"
    if not statuses:
        typer.echo(f"no plans {where}: load them with 'pantau masterplan load' (default: the national plan)")
        return
    by_status, by_province = plan_counts(statuses)
    typer.echo(f"plans {where}: {len(statuses)} regions; masterplan adopted: {by_status.get('masterplan_adopted', 0)} "
               f"(named participants and regions whose file says so), in a cohort without adoption: "
               f"{by_status.get('cohort_member', 0)}, not named: {by_status.get('not_named', 0)}")  # fmt: skip
    for prov, n in by_province.items():
        typer.echo(f"  {prov} {reg.provinces[prov].name}: {n} adopted")


def simulate(
    rate: Annotated[float, typer.Option(help="Live events per second over all regions.")] = 500.0,
    regions: Annotated[str, typer.Option(help="'all', or comma-separated region codes.")] = "all",
    drift: Annotated[float, typer.Option(help="Share of regions that drift behind and recover.")] = 0.05,
    drift_regions: Annotated[str, typer.Option(help="Comma-separated codes that drift (overrides --drift).")] = "",
    cycle: Annotated[float, typer.Option(help="Seconds of one steady/collapse/recovery cycle.")] = 240.0,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: until Ctrl-C).")
    ] = None,
    to: Annotated[
        str, typer.Option(help="'raw' (through the ingest validator) or 'events' (straight to scoring).")
    ] = "raw",
    seed: Annotated[int, typer.Option(help="Seed of the per-region qualities.")] = 7,
) -> None:
    """Feed a live simulation: real BPS baselines for every region plus live indicators; some drift behind."""
    import random

    from pantau import simulate as sim
    from schemas.framework import load_framework
    from schemas.regions import default_registry

    settings = platform_settings()
    reg = default_registry()
    codes = sorted(reg.regions) if regions == "all" else [c.strip() for c in regions.split(",") if c.strip()]
    unknown = [c for c in codes if c not in reg]
    if unknown or not codes:
        fail(f"--regions: unknown region code(s) {', '.join(unknown) or '(none given)'}")
    if drift_regions:
        drifting = {c.strip() for c in drift_regions.split(",") if c.strip()}
        if bad := sorted(c for c in drifting if c not in codes):
            fail(f"--drift-regions: {', '.join(bad)} not among the simulated regions")
    else:
        drifting = set(random.Random(seed).sample(codes, round(len(codes) * max(0.0, min(1.0, drift)))))
    if to not in ("raw", "events"):
        fail("--to must be 'raw' or 'events'")
    if rate <= 0 or cycle <= 0:
        fail("--rate and --cycle must be positive")
    topic = _topic("indicator-events.raw" if to == "raw" else "indicator-events")
    shown = ", ".join(sorted(drifting)[:10]) + (" ..." if len(drifting) > 10 else "")
    typer.echo(f"simulating {len(codes)} regions at {rate:g} events/s into {topic}; "
               f"{len(drifting)} drift (cycle {cycle:g}s): {shown}")  # fmt: skip
    plan = sim.Plan(regions=codes, drifting=frozenset(drifting), rate=rate, cycle=cycle, seed=seed)
    n = sim.run(load_framework(_framework_file()), plan, settings.bootstrap_servers, topic, duration)
    typer.echo(f"sent {n} events")


def sinks(
    smtp_port: Annotated[int, typer.Option(help="SMTP port of the local mailbox.")] = 8025,
    webhook_port: Annotated[int, typer.Option(help="Port of the local webhook receiver.")] = 8099,
) -> None:
    """Local stand-ins for the heads' inboxes: an SMTP mailbox and a webhook log under PANTAU_HOME."""
    from pantau.sinks import serve

    settings = platform_settings()
    serve(settings.home, smtp_port, webhook_port)
