"""``pantau grafana`` and ``pantau manifests``: the boards and the Kubernetes manifests (services/ops)."""

from __future__ import annotations

from typing import Annotated

import typer

from pantau.cli.output import fail, say

grafana_app = typer.Typer(help="Grafana boards as code (services/ops): build the JSON, push it.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(grafana_app, name="grafana")
    root.command("manifests")(manifests)


@grafana_app.command("build")
def grafana_build(
    check: Annotated[
        bool, typer.Option(help="Only check; exit 1 when the committed JSON drifts from the code.")
    ] = False,
) -> None:
    """Write the boards (services/ops/grafana_boards.py) as JSON into deploy/grafana/dashboards/."""
    from services.ops.grafana_build import stale_files, write_all

    if check:
        stale = stale_files()
        for p in stale:
            say(f"drift: {p}")
        raise typer.Exit(1 if stale else 0)
    written = write_all()
    for p in written:
        say(f"wrote {p}")
    if not written:
        say("boards up to date")


@grafana_app.command("push")
def grafana_push(
    url: Annotated[str, typer.Option(help="Grafana base URL, e.g. https://grafana.example:3000.")],
    token: Annotated[str, typer.Option(help="A service account token (Editor on the folder).", envvar="GRAFANA_TOKEN")],
    folder: Annotated[str, typer.Option(help="Folder title; created when missing.")] = "Pantau",
    timeout: Annotated[float, typer.Option(help="Seconds per HTTP request.")] = 30.0,
) -> None:
    """Create the folder if needed and overwrite every board in it (idempotent)."""
    from services.ops.grafana_push import PushError, push

    try:
        pushed = push(url, token, folder=folder, timeout=timeout)
    except PushError as exc:
        fail(str(exc))
    for p in pushed:
        version = f" (version {p.version})" if p.version is not None else ""
        say(f"pushed {p.uid:18} {p.title}{version}  {url.rstrip('/')}{p.url}")


def manifests(
    check: Annotated[bool, typer.Option(help="Only check; exit 1 when deploy/k8s/generated drifts.")] = False,
) -> None:
    """Write deploy/k8s/generated (PrometheusRule, board ConfigMaps) from the rules and the boards."""
    from services.ops.k8s_manifests import stale_files, write_all

    if check:
        stale = stale_files()
        for p in stale:
            say(f"drift: {p}")
        raise typer.Exit(1 if stale else 0)
    for p in write_all():
        say(f"wrote {p}")
