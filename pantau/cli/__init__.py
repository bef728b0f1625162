"""``pantau``: the one command line for the platform. Every command has ``--help``.

One module per command group (``pantau/cli/<group>.py``, each with ``register(root)``); what is shown
to people goes through ``pantau/cli/output.py``.
"""

from __future__ import annotations

import sys

import typer

from pantau.cli import (
    alerts,
    framework,
    grafana,
    history,
    imports,
    ingest,
    kafka,
    masterplan,
    platform,
    postgres,
    programme,
    publishers,
    regions,
    schemas,
    scoring,
    topics,
    web,
)

app = typer.Typer(
    help="Pantau Kota Cerdas: live smart-city maturity monitoring for Indonesia's 514 kabupaten/kota.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for group in (kafka, postgres, topics, regions, framework, schemas, scoring, alerts, history, masterplan, programme,
              ingest, imports, publishers, grafana, platform, web):  # fmt: skip
    group.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
