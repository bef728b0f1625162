"""``pantau publishers``: publishers and their API keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pantau.cli.output import fail, platform_settings, say

FileOption = Annotated[
    Path | None, typer.Option("--file", help="Publishers file (default: INGEST_PUBLISHERS_FILE or PANTAU_HOME/ingest).")
]
from pantau.cli.ingest import ingest_settings  # noqa: E402

publishers_app = typer.Typer(help="Publishers and their API keys (stored as hashes only).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(publishers_app, name="publishers")


@publishers_app.command("add")
def publishers_add(
    publisher_id: Annotated[str, typer.Argument(help="Short id, e.g. bandung-command-centre.")],
    name: Annotated[str | None, typer.Option(help="Human-readable name.")] = None,
    region: Annotated[list[str] | None, typer.Option("--region", help="A region code it may write (repeat).")] = None,
    province: Annotated[list[str] | None, typer.Option("--province", help="A whole province (repeat).")] = None,
    all_regions: Annotated[bool, typer.Option(help="Every region (national publishers such as BPS).")] = False,
    indicator: Annotated[list[str] | None, typer.Option("--indicator", help="An indicator id (repeat).")] = None,
    all_indicators: Annotated[bool, typer.Option(help="Every indicator of the framework.")] = False,
    file: FileOption = None,
) -> None:
    """Create a publisher and its API key. The key is printed once; only its hash is stored."""
    from pydantic import ValidationError

    from schemas.framework import load_framework
    from schemas.regions import default_registry
    from services.ingest.domain.auth import ALL, make_scope
    from services.ingest.publishers import PublishersFileError, add_publisher

    platform_settings()
    settings = ingest_settings()
    path = file or settings.publishers_file
    try:
        scope = make_scope(
            regions=[ALL] if all_regions else (region or []), provinces=province or [],
            indicators=[ALL] if all_indicators else (indicator or []),
            registry=default_registry(), framework=load_framework(settings.framework_file),
        )  # fmt: skip
        pub, key = add_publisher(path, publisher_id, name or publisher_id, scope)
    except (ValueError, PublishersFileError) as exc:
        detail = "; ".join(e["msg"] for e in exc.errors()) if isinstance(exc, ValidationError) else str(exc)
        fail(detail)
    say(f"publisher {pub.id} added to {path}\nscope: {pub.scope.describe()}")
    say("API key (shown only now; store it in the publishing system's secrets):", err=True)
    say(key)


@publishers_app.command("list")
def publishers_list(
    file: FileOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines (without key hashes).")] = False,
) -> None:
    """List publishers with their key ids and scopes (never the keys)."""
    from services.ingest.publishers import PublishersFileError, read_publishers

    platform_settings()
    path = file or ingest_settings().publishers_file
    try:
        publishers = read_publishers(path)
    except PublishersFileError as exc:
        fail(str(exc))
    for p in publishers:
        if as_json:
            say(json.dumps(p.model_dump(mode="json", exclude={"key_hash"})))
        else:
            say(f"{p.id:28} key {p.key_id}  {p.scope.describe()}  (since {p.created_at:%Y-%m-%d})")
    if not as_json:
        say(f"{len(publishers)} publisher(s) in {path}", err=True)


@publishers_app.command("remove")
def publishers_remove(
    publisher_id: Annotated[str, typer.Argument(help="The publisher's id.")],
    file: FileOption = None,
) -> None:
    """Remove a publisher: its key stops working within a second (the service re-reads the file)."""
    from services.ingest.publishers import PublishersFileError, remove_publisher

    platform_settings()
    path = file or ingest_settings().publishers_file
    try:
        removed = remove_publisher(path, publisher_id)
    except PublishersFileError as exc:
        fail(str(exc))
    if not removed:
        fail(f"no publisher {publisher_id!r} in {path}")
    say(f"publisher {publisher_id} removed from {path}")
