"""``pantau grafana push`` against a stand-in Grafana that records the requests it receives.

Grafana cannot be installed on these machines, so this is the one stand-in of the suite: a small HTTP
server on loopback that answers like Grafana's folder and dashboard API and records every request, so
that the test can check the requests' shapes (paths, token, payloads) and that a second push only
overwrites. It says nothing about whether a real Grafana accepts the boards' JSON; the queries inside
them are checked against a real Prometheus in tests/integration/test_grafana_queries.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from typer.testing import CliRunner

from pantau.cli import app
from services.ops import grafana_build as build
from services.ops.grafana_boards import BOARDS
from services.ops.grafana_push import PushError, folder_uid, push

TOKEN = "glsa_test_token"


@dataclass
class FakeGrafana:
    """Folder and dashboard endpoints, in memory; every request is appended to ``requests``."""

    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, str | None, Any]] = field(default_factory=list)
    refuse_with: int | None = None
    url: str = ""

    def handle(self, method: str, path: str, auth: str | None, body: Any) -> tuple[int, Any]:
        self.requests.append((method, path, auth, body))
        if self.refuse_with:
            return self.refuse_with, {"message": "refused"}
        if auth != f"Bearer {TOKEN}":
            return 401, {"message": "Unauthorized"}
        if method == "GET" and path == "/api/folders":
            return 200, list(self.folders.values())
        if method == "GET" and path.startswith("/api/folders/"):
            uid = path.rsplit("/", 1)[1]
            return (200, self.folders[uid]) if uid in self.folders else (404, {"message": "folder not found"})
        if method == "POST" and path == "/api/folders":
            if any(f["title"] == body["title"] for f in self.folders.values()):
                return 409, {"message": "a folder with the same name already exists"}
            self.folders[body["uid"]] = {"uid": body["uid"], "title": body["title"], "id": len(self.folders) + 1}
            return 200, self.folders[body["uid"]]
        if method == "POST" and path == "/api/dashboards/db":
            uid = body["dashboard"]["uid"]
            if uid in self.dashboards and not body.get("overwrite"):
                return 412, {"message": "version-mismatch", "status": "version-mismatch"}
            version = self.dashboards.get(uid, {}).get("version", 0) + 1
            self.dashboards[uid] = {"body": body, "version": version}
            return 200, {"status": "success", "uid": uid, "url": f"/d/{uid}/x", "version": version}
        return 404, {"message": "Not found"}


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    fake = FakeGrafana()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, answer = fake.handle(self.command, self.path.split("?")[0], self.headers.get("Authorization"), body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(5)


def board_uids() -> set[str]:
    return {json.loads(p.read_text())["uid"] for p in build.expected_files()}


def test_first_push_creates_the_folder_and_every_board(grafana: FakeGrafana) -> None:
    pushed = push(grafana.url, TOKEN, folder="Pantau")

    assert {p.uid for p in pushed} == board_uids() and len(pushed) == len(BOARDS)
    assert all(p.version == 1 for p in pushed)
    calls = [(m, p) for m, p, _a, _b in grafana.requests]
    assert calls[:3] == [("GET", "/api/folders/pantau"), ("GET", "/api/folders"), ("POST", "/api/folders")]
    assert calls[3:] == [("POST", "/api/dashboards/db")] * len(BOARDS)
    assert {a for _m, _p, a, _b in grafana.requests} == {f"Bearer {TOKEN}"}
    assert grafana.requests[2][3] == {"title": "Pantau", "uid": "pantau"}
    for _m, _p, _a, body in grafana.requests[3:]:
        assert body["folderUid"] == "pantau" and body["overwrite"] is True and body["message"]
        assert "id" not in body["dashboard"], "Grafana matches boards on uid; a stale id would clash"
        committed = json.loads((build.DASHBOARDS_DIR / _file_of(body["dashboard"]["uid"])).read_text())
        assert body["dashboard"] == committed


def test_a_second_push_overwrites_and_creates_nothing(grafana: FakeGrafana) -> None:
    push(grafana.url, TOKEN)
    grafana.requests.clear()

    pushed = push(grafana.url, TOKEN)

    assert all(p.version == 2 for p in pushed)
    calls = [(m, p) for m, p, _a, _b in grafana.requests]
    assert calls == [("GET", "/api/folders/pantau")] + [("POST", "/api/dashboards/db")] * len(BOARDS)
    assert len(grafana.folders) == 1 and set(grafana.dashboards) == board_uids()


def test_a_folder_made_by_hand_with_the_same_title_is_reused(grafana: FakeGrafana) -> None:
    grafana.folders["abc123"] = {"uid": "abc123", "title": "Operations boards", "id": 7}

    push(grafana.url, TOKEN, folder="Operations boards")

    assert ("POST", "/api/folders") not in [(m, p) for m, p, _a, _b in grafana.requests]
    assert {d["body"]["folderUid"] for d in grafana.dashboards.values()} == {"abc123"}


def test_a_refusal_is_a_clear_error(grafana: FakeGrafana) -> None:
    with pytest.raises(PushError, match="reading folder 'pantau'"):
        push(grafana.url, "wrong-token")
    grafana.refuse_with = 500
    with pytest.raises(PushError, match=r"reading folder 'pantau'.*500"):
        push(grafana.url, TOKEN)


def test_the_command_pushes_and_prints_each_board(grafana: FakeGrafana) -> None:
    result = CliRunner().invoke(app, ["grafana", "push", "--url", grafana.url, "--token", TOKEN, "--folder", "Pantau"])

    assert result.exit_code == 0, result.output
    assert result.output.count("pushed ") == len(BOARDS)
    assert f"{grafana.url}/d/pantau-national/x" in result.output


def test_the_command_fails_cleanly_when_grafana_refuses(grafana: FakeGrafana) -> None:
    result = CliRunner().invoke(app, ["grafana", "push", "--url", grafana.url, "--token", "nope"])

    assert result.exit_code == 1
    assert "error:" in result.output and "401" in result.output


def test_build_check_command_passes_on_the_committed_files() -> None:
    result = CliRunner().invoke(app, ["grafana", "build", "--check"])
    assert result.exit_code == 0, result.output


def test_folder_uid_is_stable() -> None:
    assert folder_uid("Pantau") == "pantau"
    assert folder_uid("Pantau / Ops boards") == "pantau-ops-boards"


def _file_of(uid: str) -> str:
    for path in build.expected_files():
        if json.loads(path.read_text())["uid"] == uid:
            return path.name
    raise KeyError(uid)
