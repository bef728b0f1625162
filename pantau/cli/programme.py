"""``pantau programme``: the national programme's status."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pantau.cli.masterplan import plans_now
from pantau.cli.output import say, show_json

programme_app = typer.Typer(
    help="The national programme: masterplans toward 263 regions by 2029.", no_args_is_help=True
)


def register(root: typer.Typer) -> None:
    root.add_typer(programme_app, name="programme")


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
    statuses = {code: p.programme for code, p in plans_now(file).items() if isinstance(p, Masterplan)}
    if as_json:
        show_json(summary(prog, statuses))
        return
    target, latest = prog.target, prog.assisted
    assisted, goal = latest.cumulative_assisted or 0, target.cumulative_assisted or 0
    say(f"Gerakan Menuju Smart City: {assisted} kab/kota assisted {prog.cohorts[0].year}-{latest.year} "
               f"(published total) against the target of {goal} masterplans by {target.year}: "
               f"{assisted / goal:.0%}, {max(0, goal - assisted)} to go ({first_url(latest.source)})")  # fmt: skip
    say(f"  {'cohort':>6}  {'assisted':>8}  {'cumulative':>10}  known by name")
    for before, c in zip([None, *prog.cohorts], prog.cohorts, strict=False):
        for gap in range(before.year + 1 if before else c.year, c.year):
            say(f"  {gap:>6}  {'-':>8}  {'-':>10}  (no cohort reported)")
        named = f"{c.named} (complete list)" if c.named_complete else f"{c.named} of {c.cohort_size} (partial list)"
        say(f"  {c.year:>6}  {c.cohort_size or '-':>8}  {c.cumulative_assisted or '-':>10}  {named}")
    twice = {code: years for code, years in prog.named_regions.items() if len(years) > 1}
    say(f"  known by name: {len(prog.named_regions)} kab/kota ({len(prog.participants)} cohort places; "
               f"named in two cohorts: {', '.join(twice) or 'none'}): a subset of the {assisted} assisted, "
               "not the total")  # fmt: skip
    say(f"  conflicting published figures; {FIGURE_USED}:")
    for k in prog.conflicts:
        say(f"    {k.year} {k.field.replace('_', ' ')}: {k.used} used ({first_url(k.source_used)}); "
                   f"{k.other} also published ({first_url(k.source_other)})")  # fmt: skip
    for t in prog.targets:
        if t is not target:
            say(f"  an earlier target: {t.cumulative_assisted} kab/kota by {t.year} ({first_url(t.source)})")
    where = "in the files" if file is not None else "on the topic"
    if not statuses:
        say(f"no plans {where}: load them with 'pantau masterplan load' (default: the national plan)")
        return
    by_status, by_province = plan_counts(statuses)
    say(f"plans {where}: {len(statuses)} regions; masterplan adopted: {by_status.get('masterplan_adopted', 0)} "
               f"(named participants and regions whose file says so), in a cohort without adoption: "
               f"{by_status.get('cohort_member', 0)}, not named: {by_status.get('not_named', 0)}")  # fmt: skip
    for prov, n in by_province.items():
        say(f"  {prov} {reg.provinces[prov].name}: {n} adopted")
