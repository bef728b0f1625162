"""``pantau ingest``: the ingest service (HTTP API, raw-topic validator, OpenAPI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pantau.cli.output import fail, platform_settings, say

if TYPE_CHECKING:
    from services.ingest.config import IngestSettings

ingest_app = typer.Typer(help="The ingest service: HTTP API and raw-topic validator.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(ingest_app, name="ingest")


def ingest_settings(**overrides: Any) -> IngestSettings:
    from pydantic import ValidationError

    from services.ingest.config import IngestSettings

    try:
        return IngestSettings(**overrides)
    except ValidationError as exc:
        fail("; ".join(f"INGEST_{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()))


def check_publishers_file(path: Path) -> None:
    from services.ingest.publishers import PublishersFileError, read_publishers

    try:
        read_publishers(path)
    except PublishersFileError as exc:
        fail(str(exc))


@ingest_app.command("run")
def ingest_run(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8080).")] = None,
    validator: Annotated[
        bool | None, typer.Option(help="Also run the raw-topic validator in this process (default: INGEST_VALIDATOR).")
    ] = None,
) -> None:
    """Serve the HTTP API (POST /v1/events, /docs, /metrics) and validate indicator-events.raw. SIGTERM stops it."""
    from services.ingest.server import serve

    platform_settings()
    overrides: dict[str, Any] = {} if validator is None else {"validator": validator}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = ingest_settings(**overrides)
    check_publishers_file(settings.publishers_file)
    serve(settings)


@ingest_app.command("validator")
def ingest_validator(
    port: Annotated[int | None, typer.Option(help="Port of /metrics (default 8080).")] = None,
) -> None:
    """Run only the raw-topic validator (more processes share the partitions). SIGTERM stops it."""
    from services.ingest.server import run_validator

    platform_settings()
    run_validator(ingest_settings(**({"web_port": port} if port is not None else {})))


@ingest_app.command("openapi")
def ingest_openapi(
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output.")] = None,
) -> None:
    """Print the OpenAPI document of the HTTP API (the one served at /openapi.json)."""
    from services.ingest.bootstrap import build_service
    from services.ingest.web import create_app

    platform_settings()
    text = json.dumps(create_app(build_service(ingest_settings(validator=False))).openapi(), indent=2)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        say(f"wrote {output}")
    else:
        say(text)
