"""Push the committed boards to a Grafana over its HTTP API (grafana-client): folder, then boards.

Idempotent: the folder is found by uid (or by title) and created only when missing; each board is
posted with ``overwrite: true`` under its fixed uid, so a second push replaces the first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

from services.ops.grafana_build import DASHBOARDS_DIR


class PushError(RuntimeError):
    """Grafana refused or could not be reached; the message says which step."""


@dataclass(frozen=True)
class Pushed:
    uid: str
    title: str
    url: str
    version: int | None


def folder_uid(title: str) -> str:
    """A stable folder uid from its title ("Pantau" -> "pantau")."""
    return re.sub(r"[^a-z0-9-]+", "-", title.lower()).strip("-")[:40] or "pantau"


def load_boards(directory: Path = DASHBOARDS_DIR) -> list[dict[str, Any]]:
    boards = [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]
    if not boards:
        raise PushError(f"no boards in {directory}; run: pantau grafana build")
    return boards


def ensure_folder(api: Any, title: str) -> str:
    """The uid of the folder titled ``title``, created when missing."""
    uid = folder_uid(title)
    try:
        api.folder.get_folder(uid)
        return uid
    except GrafanaClientError as exc:
        if exc.status_code != 404:
            raise PushError(f"reading folder {uid!r}: {_why(exc)}") from exc
    except GrafanaException as exc:
        raise PushError(f"reading folder {uid!r}: {_why(exc)}") from exc
    for folder in api.folder.get_all_folders() or []:
        if folder.get("title") == title:  # made by hand before, with another uid
            return str(folder["uid"])
    try:
        created = api.folder.create_folder(title, uid=uid)
    except GrafanaException as exc:
        raise PushError(f"creating folder {title!r}: {_why(exc)}") from exc
    return str(created.get("uid", uid))


def push(
    url: str,
    token: str,
    *,
    folder: str = "Pantau",
    boards: Iterable[dict[str, Any]] | None = None,
    timeout: float = 30.0,
) -> list[Pushed]:
    """Create the folder if needed and overwrite every board in it. Returns what Grafana answered."""
    api: Any = GrafanaApi.from_url(url, credential=token, timeout=timeout)  # grafana-client is untyped
    uid = ensure_folder(api, folder)
    done: list[Pushed] = []
    for board in load_boards() if boards is None else boards:
        body = {k: v for k, v in board.items() if k != "id"}  # Grafana matches on uid
        payload = {"dashboard": body, "folderUid": uid, "overwrite": True, "message": "pantau grafana push"}
        try:
            answer = api.dashboard.update_dashboard(payload)
        except GrafanaException as exc:
            raise PushError(f"pushing board {board.get('uid')!r}: {_why(exc)}") from exc
        done.append(Pushed(uid=str(board["uid"]), title=str(board.get("title", "")),
                           url=str(answer.get("url", "")), version=answer.get("version")))  # fmt: skip
    return done


def _why(exc: GrafanaException) -> str:
    status = getattr(exc, "status_code", 0)
    return f"HTTP {status}: {exc.message}" if status else str(exc)
