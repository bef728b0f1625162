"""``pantau framework``: the maturity framework."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pantau.cli.output import fail, say

framework_app = typer.Typer(help="The maturity framework (dimensions, elements, indicators).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(framework_app, name="framework")


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
        say(fw.model_dump_json(indent=2))
        return
    say(f"{fw.title}  [{fw.key}]  minimum coverage {fw.minimum_coverage:.0%}")
    say("levels: " + ", ".join(f"{lv.level} {lv.name} (>= {lv.min_score:g})" for lv in fw.levels))
    for d in fw.dimensions:
        say(f"\n{d.id} - {d.name} (weight {d.weight:g})")
        for e in d.elements:
            say(f"  {e.id} - {e.name} (weight {e.weight:g})")
            for i in e.indicators:
                win = f" over {i.aggregation.window}" if i.aggregation.window else ""
                say(
                    f"    {i.id:30} {i.unit:14} {i.direction.value:17} w={i.weight:<4g} "
                    f"{i.normalisation.method:10} {i.aggregation.method}{win}, valid {i.validity}"
                )
    say(f"\n{len(fw.indicators)} indicators")
