"""``pantau schemas``: the JSON Schema files of the contracts."""

from __future__ import annotations

from typing import Annotated

import typer

from pantau.cli.output import say

schemas_app = typer.Typer(help="JSON Schema files of the wire contracts.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(schemas_app, name="schemas")


@schemas_app.command("export")
def schemas_export(
    check: Annotated[bool, typer.Option(help="Only check; exit 1 when the files drift from the models.")] = False,
) -> None:
    """Write the JSON Schema of each contract to schemas/json/."""
    from schemas import export

    if check:
        stale = [p for p, text in export.expected_files().items() if not p.exists() or p.read_text() != text]
        for p in stale:
            say(f"drift: {p}")
        raise typer.Exit(1 if stale else 0)
    for p in export.write_all():
        say(f"wrote {p}")
