"""``pantau alerts``: the alerts service."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pantau.cli.output import fail, platform_settings

if TYPE_CHECKING:
    from services.alerts.notify import NotifySettings

alerts_app = typer.Typer(
    help="The alerts service: region scores + masterplans -> alerts -> notifications.", no_args_is_help=True
)


def register(root: typer.Typer) -> None:
    root.add_typer(alerts_app, name="alerts")


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
    from services.alerts.config import AlertsSettings
    from services.alerts.notify import NotifySettings
    from services.alerts.worker import run_worker

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
