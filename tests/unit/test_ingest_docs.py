"""/docs and /redoc of the ingest API work offline: every asset they name is served by the API itself,
and no inline script needs a lax Content-Security-Policy (no Kafka: the app's lifespan is not started)."""

from __future__ import annotations

import asyncio
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.ingest.bootstrap import build_service
from services.ingest.config import IngestSettings
from services.ingest.web import create_app


class Client:
    """Requests straight to the ASGI app, in memory (httpx's transport; starlette's TestClient warns)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def get(self, path: str) -> httpx.Response:
        async def fetch() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as c:
                return await c.get(path)

        return asyncio.run(fetch())


class Page(HTMLParser):
    """The URLs an HTML page loads or links, and the bodies of its scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[tuple[str | None, str]] = []
        self._in_script: str | None = None
        self._script_body: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name in ("src", "href", "spec-url", "data-openapi-url"):
            if a.get(name):
                self.urls.append(str(a[name]))
        if tag == "script":
            self._in_script, self._script_body = a.get("src") or "", []

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._script_body.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_script is not None:
            self.scripts.append((self._in_script or None, "".join(self._script_body).strip()))
            self._in_script = None


@pytest.fixture
def client(tmp_path: Path) -> Client:
    settings = IngestSettings(publishers_file=tmp_path / "publishers.yaml", validator=False)
    return Client(create_app(build_service(settings)))


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


# Either name of JavaScript's type, as the machine's mime.types has it.
EXPECTED_TYPES = {".js": ("text/javascript", "application/javascript"), ".css": ("text/css",),
                  ".png": ("image/png",), ".json": ("application/json",)}  # fmt: skip


@pytest.mark.parametrize(
    ("path", "urls"),
    [
        ("/docs", ["/docs/assets/favicon.png", "/docs/assets/swagger-ui.css", "/openapi.json", "/openapi.json",
                   "/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-init.js"]),
        ("/redoc", ["/docs/assets/favicon.png", "/openapi.json", "/docs/assets/redoc.standalone.js"]),
    ],
)  # fmt: skip
def test_a_docs_page_loads_only_what_the_api_serves(client: Client, path: str, urls: list[str]) -> None:
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    page = parse(r.text)
    assert page.urls == urls  # local paths only: no CDN, no Google Fonts
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].split(";")[0] in EXPECTED_TYPES[Path(url).suffix], url
        assert len(asset.content) > 1000 or url.endswith("swagger-init.js"), url
    # No inline script: every script is a file of this origin, so script-src 'self' is enough.
    assert page.scripts and all(src and not body for src, body in page.scripts)
    csp = dict(d.strip().split(" ", 1) for d in r.headers["content-security-policy"].split(";"))
    assert csp["script-src"] == "'self'" and csp["default-src"] == "'self'"


def test_the_assets_are_swagger_ui_and_redoc(client: Client) -> None:
    assert b"SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").content
    assert b"Redoc" in client.get("/docs/assets/redoc.standalone.js").content
    assert b".swagger-ui" in client.get("/docs/assets/swagger-ui.css").content
    init = client.get("/docs/assets/swagger-init.js").text
    assert "SwaggerUIBundle(" in init and "validatorUrl: null" in init  # no badge from validator.swagger.io
    assert client.get("/docs/assets/nope.js").status_code == 404


def test_the_pages_are_not_in_the_openapi_document(client: Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not any(p.startswith(("/docs", "/redoc")) for p in paths)
