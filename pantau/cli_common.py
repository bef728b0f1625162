"""What every ``pantau`` command module shares: settings with logging set up, and a clean failure."""

from __future__ import annotations

from typing import NoReturn

import typer

from pantau.config import PlatformSettings
from services.runtime import logs


def platform_settings() -> PlatformSettings:
    settings = PlatformSettings()
    logs.configure(settings.log_level, settings.log_format)
    return settings


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
