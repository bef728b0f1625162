"""The API's documentation pages, /docs (Swagger UI) and /redoc (ReDoc), with every asset served by the API.

FastAPI's own pages load Swagger UI, ReDoc and a favicon from CDNs, so offline they are blank. Here the
assets come from the pinned ``fastapi-offline`` package (Swagger UI, ReDoc and FastAPI's favicon, kept
up to date there), mounted at ``/docs/assets`` with Swagger UI's start-up script of ours. The pages
carry no inline script and a Content-Security-Policy that allows only this origin, so a page that
reached for a CDN would fail loudly in the browser instead of working only online.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"
#: Inline styles stay allowed: Swagger UI and ReDoc set them on their elements; ReDoc's search runs in
#: a worker it makes from a blob.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")  # fmt: skip

_SWAGGER = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - Swagger UI</title>
<link rel="icon" type="image/png" href="{assets}/favicon.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<noscript>Swagger UI needs JavaScript; the OpenAPI document is at <a href="{openapi}">{openapi}</a>.</noscript>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""


def add_docs(app: FastAPI) -> None:
    """/docs, /redoc and their assets on ``app`` (made with ``docs_url=None, redoc_url=None``)."""
    openapi_url = app.openapi_url or "/openapi.json"
    static = StaticFiles(directory=Path(__file__).parent / "static", packages=[("fastapi_offline", "static")])
    app.mount(ASSETS, static, name="docs-assets")

    def page(html: str) -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": CSP})

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return page(_SWAGGER.format(title=escape(app.title), assets=escape(root + ASSETS),
                                    openapi=escape(root + openapi_url)))  # fmt: skip

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        html = get_redoc_html(openapi_url=root + openapi_url, title=f"{app.title} - ReDoc",
                              redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{root}{ASSETS}/favicon.png", with_google_fonts=False)  # fmt: skip
        return page(bytes(html.body).decode())
