"""What every ``pantau`` command shares: settings with logging set up, and how results are shown.

All output to people goes through here: ``say`` a line, ``show_json`` a document, ``table`` rows,
``fail`` with a message and an exit code (never a traceback).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

import typer

from pantau.config import PlatformSettings
from services.runtime import logs


def platform_settings() -> PlatformSettings:
    settings = PlatformSettings()
    logs.configure(settings.log_level, settings.log_format)
    return settings


def say(text: str = "", *, err: bool = False) -> None:
    """One line for the person at the terminal (stdout; ``err``: stderr)."""
    typer.echo(text, err=err)


def show_json(doc: Any) -> None:
    """``doc`` as indented JSON (UTF-8 kept readable), for scripts."""
    typer.echo(json.dumps(doc, indent=2, ensure_ascii=False, default=str))


def table(rows: Iterable[Sequence[object]], header: Sequence[str]) -> None:
    """Rows in aligned columns under ``header``."""
    cells = [[str(c) for c in header], *([str(c) for c in row] for row in rows)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for r in cells:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def fail(message: str, code: int = 1) -> NoReturn:
    """Stop the command: ``error: message`` on stderr and exit ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
