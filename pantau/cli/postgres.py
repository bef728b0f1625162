"""``pantau postgres``: the embedded local PostgreSQL cluster of the history store (up, down, status)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from pantau.cli.output import fail, platform_settings, say, show_json

if TYPE_CHECKING:
    from services.history.config import HistorySettings

postgres_app = typer.Typer(
    help="The embedded local PostgreSQL cluster (the history store), from Debian's postgresql package.",
    no_args_is_help=True,
)


def register(root: typer.Typer) -> None:
    root.add_typer(postgres_app, name="postgres")


def history_settings() -> HistorySettings:
    from pydantic import ValidationError

    from services.history.config import HistorySettings

    platform_settings()  # logging set up as for every command
    try:
        return HistorySettings()
    except ValidationError as exc:
        fail("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()))


@postgres_app.command("up")
def postgres_up(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the server to answer.")] = 60.0,
) -> None:
    """Start the local cluster on 127.0.0.1:5433 (initdb and the database 'pantau' on first use). Idempotent."""
    from pantau.postgres_local import LocalPostgres, PostgresSetupError, url_answers

    settings = history_settings()
    if settings.external_database:
        if not url_answers(settings.url(), timeout):
            fail(f"PANTAU_DATABASE_URL is set, but no PostgreSQL server accepts {settings.safe_url}")
        say(f"Using the existing server at {settings.safe_url} (PANTAU_DATABASE_URL); nothing to start.")
        return
    lp = LocalPostgres.from_settings(settings)
    try:
        pid, started = lp.up(timeout=timeout)
    except PostgresSetupError as exc:
        fail(str(exc))
    where = f"{lp.safe_url} (password in {lp.password_file})"
    if started:
        say(f"PostgreSQL {lp.binaries().version} started (pid {pid}) at {where}; logs: {lp.log_file}")
    else:
        say(f"PostgreSQL is already running (pid {pid}) at {where}")


@postgres_app.command("down")
def postgres_down() -> None:
    """Stop the local cluster (fast shutdown; the data stay for the next 'up')."""
    from pantau.postgres_local import LocalPostgres, PostgresSetupError

    settings = history_settings()
    if settings.external_database:
        say(f"PANTAU_DATABASE_URL is set ({settings.safe_url}); pantau does not stop it.")
        return
    try:
        stopped = LocalPostgres.from_settings(settings).down()
    except PostgresSetupError as exc:
        fail(str(exc))
    say("PostgreSQL stopped" if stopped else "PostgreSQL was not running")


@postgres_app.command("status")
def postgres_status(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Tell whether the server runs and answers, and the schema revision. Exit code 0 when it answers, 3 when not."""
    from pantau.postgres_local import LocalPostgres, url_answers

    settings = history_settings()
    if settings.external_database:
        st: dict[str, object] = {"managed": False, "url": settings.safe_url,
                                 "answers": url_answers(settings.url())}  # fmt: skip
    else:
        st = LocalPostgres.from_settings(settings).status()
    st["revision"] = _revision(settings) if st["answers"] else None
    if as_json:
        show_json(st)
    elif not st["managed"]:
        say(f"external server {st['url']}: {'answers' if st['answers'] else 'NOT answering'}, "
            f"schema {st['revision'] or 'not migrated'}")  # fmt: skip
    elif st["running"]:
        say(
            f"running: pid {st['pid']}, PostgreSQL {st['version']} at {st['url']} (as {st['run_as']}), "
            f"{'answers' if st['answers'] else 'NOT answering'}, schema {st['revision'] or 'not migrated'}; "
            f"data {st['data_dir']}"
        )
    else:
        say(f"not running (PostgreSQL {st['version'] or 'NOT installed'}, would listen at {st['url']})")
    raise typer.Exit(0 if st["answers"] else 3)


def _revision(settings: HistorySettings) -> str | None:
    from sqlalchemy.exc import SQLAlchemyError

    from services.history.db import current_revision

    try:
        return current_revision(settings.url())
    except SQLAlchemyError:
        return None
