"""``pantau regions``: the reference list of kabupaten/kota."""

from __future__ import annotations

from typing import Annotated

import typer

from pantau.cli.output import fail, say

regions_app = typer.Typer(help="The 38 provinces and 514 kabupaten/kota.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(regions_app, name="regions")


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
            say(r.model_dump_json())
        else:
            say(f"{r.code}  {r.name:40} {r.province_name}{'  (administrative)' if r.administrative_only else ''}")
    if not as_json:
        say(f"{len(regions)} regions (registry {reg.version})", err=True)
