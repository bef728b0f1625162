"""``pantau web``: the public pages (Beranda, provinces, a card per kab/kota, exports, alert pages)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from pantau.cli.output import fail, platform_settings

if TYPE_CHECKING:
    from services.web.config import WebSettings

web_app = typer.Typer(help="The public web pages, in Bahasa Indonesia (English as a switch).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(web_app, name="web")


def _settings() -> WebSettings:
    from pydantic import ValidationError

    from services.web.config import WebSettings

    try:
        return WebSettings()
    except ValidationError as exc:
        fail("; ".join(f"WEB_{'_'.join(map(str, e['loc'])).upper()}: {str(e['msg']).removeprefix('Value error, ')}"
                       for e in exc.errors()))  # fmt: skip


@web_app.command("run")
def web_run(
    port: Annotated[int | None, typer.Option(help="Port (default 8000, WEB_PORT).")] = None,
) -> None:
    """Serve the pages on http://127.0.0.1:8000/. SIGTERM stops it.

    They read the history query API (WEB_HISTORY_URL, default :6069), the scoring service (WEB_SCORING_URL,
    :6066) and the alerts service (WEB_ALERTS_URL, :6067). Public by default; WEB_VIEWERS=name:password,...
    restricts the scores to those viewers.
    """
    from services.web.server import serve

    platform = platform_settings()
    settings = _settings()
    if port is not None:
        settings = settings.model_copy(update={"web_port": port})
    serve(settings, log_format=platform.log_format)
