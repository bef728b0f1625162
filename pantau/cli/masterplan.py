"""``pantau masterplan``: load and show the masterplans (milestones per region)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pantau.cli.output import fail, platform_settings, say

if TYPE_CHECKING:
    from schemas.masterplan import MasterplanFile

masterplan_app = typer.Typer(help="Masterplans: milestones per region, the path they set.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(masterplan_app, name="masterplan")


def alerts_settings() -> Any:
    """The alerts service's settings (ALERTS_TOPIC_PREFIX, ALERTS_FRAMEWORK_FILE...), as its worker reads them."""
    from services.alerts.config import AlertsSettings

    return AlertsSettings()


def load_files(files: list[Path]) -> list[MasterplanFile]:
    from schemas.framework import load_framework
    from schemas.masterplan import DEFAULT_MASTERPLAN_FILE, MasterplanFileError, load_masterplan_file
    from schemas.regions import default_registry

    fw, reg = load_framework(alerts_settings().framework_file), default_registry()
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
    loaded = load_files(files or [])
    try:
        report = publish_plans(settings.kafka, alerts_settings().topic("masterplan-milestones"), loaded,
                               default_registry(), dry_run=dry_run)  # fmt: skip
    except (LookupError, TimeoutError) as exc:
        fail(str(exc))
    except KafkaError as exc:
        fail(f"{exc}. Is Kafka up? ('pantau kafka status')")
    verb = "would publish" if dry_run else "published"
    basis = ", ".join(f"{n} {b}" for b, n in sorted(report.by_basis.items())) or "none"
    say(f"{verb} {report.published} plan(s) ({basis}); {report.unchanged} unchanged")


def plans_now(from_files: list[Path] | None) -> dict[str, object]:
    from kafka.errors import KafkaError

    from schemas.masterplan import resolve_plans
    from schemas.regions import default_registry
    from services.alerts.masterplans import current_plans

    if from_files is not None:
        return resolve_plans(load_files(from_files), default_registry())  # type: ignore[return-value]
    settings = platform_settings()
    try:
        return current_plans(settings.kafka, alerts_settings().topic("masterplan-milestones"))  # type: ignore[return-value]
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
    plan = plans_now(file).get(region)
    if plan is None:
        fail(f"no plan for {region}: load one with 'pantau masterplan load' (default: the national plan)")
    assert isinstance(plan, Masterplan)
    if as_json:
        say(plan.model_dump_json(indent=2))
        return
    r = reg.get(region)
    p = plan.programme
    adopted = f"adopted{' on ' + str(p.adopted_on) if p.adopted_on else ''}" if p.masterplan_adopted else "not adopted"
    say(f"{r.name} ({region}), {r.province_name}: plan {plan.plan_id} ({plan.basis}); "
               f"cohort {p.cohort_year or '-'}, masterplan {adopted}")  # fmt: skip
    keys = sorted({k for m in plan.milestones for k in m.targets}, key=lambda k: (k != "index", k))
    say(f"  {'due':10}  " + "  ".join(f"{k[:11]:>11}" for k in keys) + "  label")
    for m in plan.milestones:
        vals = "  ".join(f"{m.targets[k]:11.2f}" if k in m.targets else f"{'':>11}" for k in keys)
        say(f"  {m.due}  {vals}  {m.label}")
    say(f"  expected on {day} (interpolated path):")
    for k in keys:
        exp = expected_on(plan, k, day)
        nxt = next_milestone(plan, k, day)
        nxt_s = f"; next {nxt.targets[k]:.2f} due {nxt.due}" if nxt else ""
        say(f"    {k:12} {'-' if exp is None else f'{exp:.2f}'}{nxt_s}")
