"""``pantau history``: the history store's writer (scores, alert transitions, plan versions -> PostgreSQL)."""

from __future__ import annotations

from typing import Annotated

import typer

from pantau.cli.output import fail, platform_settings

history_app = typer.Typer(
    help="The history store's writer: region scores, alert transitions and plan versions into PostgreSQL.",
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
    from pydantic import ValidationError

    from services.history.config import DatabaseNotReady, HistorySettings
    from services.history.worker import run_worker

    platform = platform_settings()
    overrides: dict[str, object] = {} if web_port is None else {"web_port": web_port}
    try:
        settings = HistorySettings(**overrides)  # type: ignore[arg-type]
        settings.url()
    except ValidationError as exc:
        fail("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()))
    except DatabaseNotReady as exc:
        fail(str(exc))
    run_worker(settings, log_format=platform.log_format)
