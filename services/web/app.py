"""The pages (FastAPI, Jinja2 templates): each route asks the services behind it (services/web/upstream.py),
builds its view model (services/web/views.py, details.py) and renders it.

Routes: ``/`` (Beranda), ``/provinsi/{code}``, ``/wilayah/{code}`` (or ``/wilayah/kota-bandung``), the
exports ``/peringkat.csv|xlsx`` and ``/wilayah/{code}/riwayat.csv|xlsx``, the alert pages
``/peringatan/{id}`` (and ``/ack/{id}``, the link of the notifications: with its token the page has the
acknowledge button, a POST forwarded to the alerts service), ``/healthz``, ``/metrics``, ``/static/``.

Bahasa Indonesia unless the reader chose English (``?lang=en``, kept in a cookie). Every response
carries the security headers; no inline script or style (the CSP forbids both); an error is a page in
the reader's language, never a stack trace.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import gzip
import hmac
import re
from collections.abc import Awaitable, Callable, Hashable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast
from urllib.parse import quote, urlencode

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from schemas.framework import Framework, load_framework
from schemas.masterplan import Masterplan
from schemas.programme import Programme, default_programme
from schemas.regions import RegionRegistry, default_registry
from services.runtime import logs
from services.runtime.asgi import MetricsMiddleware
from services.web import details, exports, views
from services.web.chart import chart_rows, history_chart
from services.web.config import Lang, WebSettings
from services.web.map import BOUNDARIES, build_map, default_boundaries, national_map, render_map
from services.web.messages import LANGUAGES, Messages, messages
from services.web.upstream import AckAnswer, LiveAlert, NotFound, TtlCache, Unavailable, Upstream

log = logs.get("pantau.web")
HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
CODE = re.compile(r"^\d{2}\.\d{2}$")
BOUNDARIES_LICENCE = BOUNDARIES.parent / "LICENSE-wilayah_boundaries.txt"
PROVINCE = re.compile(r"^\d{2}$")
#: Paths anyone may open when the scores are restricted: an alert page's link carries its own signed token.
OPEN_PATHS: Final = (
    "/peringatan/",
    "/ack/",
    "/alerts/",
    "/static/",
    "/healthz",
    "/metrics",
    "/favicon.ico",
    "/lisensi/",
)

SECURITY_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class WebMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.requests = Counter("pantau_web_requests_total", "Requests by route template, method and status.",
                                ["route", "method", "status"], registry=r)  # fmt: skip
        self.request_duration = Histogram(
            "pantau_web_request_duration_seconds", "Time to answer a request, by route template.", ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0), registry=r,
        )  # fmt: skip
        self.upstream_errors = Counter("pantau_web_upstream_unavailable_total",
                                       "Pages that could not be built because a service behind them did not answer.",
                                       ["service"], registry=r)  # fmt: skip


class PageError(Exception):
    """A page that cannot be shown: its status and the catalogue key of what to say."""

    def __init__(self, status: int, key: str, **values: str) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.values = values


@dataclass
class Site:
    """What the pages need, built once at start-up."""

    settings: WebSettings
    upstream: Upstream
    registry: RegionRegistry = field(default_factory=default_registry)
    framework: Framework = field(default_factory=load_framework)
    programme: Programme = field(default_factory=default_programme)
    metrics: WebMetrics = field(default_factory=WebMetrics)
    env: Environment = field(init=False)
    by_slug: dict[str, str] = field(init=False)
    province_maps: dict[str, Any] = field(init=False, default_factory=dict)
    #: Rendered pages (compressed, ~0.2 MB for the national one): a few dozen at most.
    pages: TtlCache = field(init=False, default_factory=lambda: TtlCache(max_entries=64))

    def __post_init__(self) -> None:
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)  # fmt: skip
        self.by_slug = {slug(r.name): code for code, r in self.registry.regions.items()}

    def warm(self) -> None:
        """Build the map geometry before the first page (about a second)."""
        national_map()

    def province_map(self, code: str) -> Any:
        if code not in self.province_maps:
            shapes = {c: s for c, s in default_boundaries().items() if c.startswith(code + ".")}
            self.province_maps[code] = build_map(shapes)
        return self.province_maps[code]

    def html(self, request: Request, template: str, **values: Any) -> str:
        msg: Messages = request.state.msg
        return self.env.get_template(template).render(msg=msg, lang=msg.lang, page=request.url.path,
                                                      switch=switch_url(request, msg.lang), **values)  # fmt: skip

    def render(self, request: Request, template: str, status: int = 200, **values: Any) -> Response:
        return self.respond(request, HTMLResponse(self.html(request, template, **values), status_code=status))

    def respond(self, request: Request, response: Response) -> Response:
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie("lang", request.state.msg.lang, max_age=365 * 86400, samesite="lax", httponly=True)
        return response

    async def cached(self, request: Request, key: Hashable, build: Callable[[], Awaitable[str]]) -> Response:
        """A page built from figures that change only when the cache of the upstream answers does: kept
        compressed for ``WEB_CACHE_S`` per ``key`` (the page, its language and its parsed parameters: an
        address with anything else added is the same page), built once for the concurrent readers that ask
        for it meanwhile. Compression runs off the event loop."""

        async def render() -> bytes:
            body = (await build()).encode()
            return await asyncio.to_thread(lambda: gzip.compress(body, compresslevel=6, mtime=0))

        packed = await self.pages.get((key, request.state.msg.lang), self.settings.cache_s, render)
        if "gzip" in request.headers.get("accept-encoding", ""):
            response = Response(packed, media_type="text/html; charset=utf-8",
                                headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})  # fmt: skip
        else:
            response = HTMLResponse(gzip.decompress(packed), headers={"Vary": "Accept-Encoding"})
        return self.respond(request, response)

    def forget(self) -> None:
        """Drop every kept answer and page (after an acknowledgement: the pages show it at once)."""
        self.upstream.cache.clear()
        self.pages.clear()


def region_ref(registry: RegionRegistry, code: str) -> Mapping[str, str]:
    """A region as the history API refers to it."""
    r = registry.get(code)
    return {"code": r.code, "name": r.name, "type": r.type, "province_code": r.province_code,
            "province_name": r.province_name}  # fmt: skip


def slug(name: str) -> str:
    """``Kota Bandung`` -> ``kota-bandung``: the name of a region as a path segment."""
    return "-".join(views.fold(name).split())


def switch_url(request: Request, lang: Lang) -> str:
    other = "en" if lang == "id" else "id"
    query = {k: v for k, v in request.query_params.items() if k in (*PAGE_PARAMS, "token") and v}  # an ack link's too
    return f"{request.url.path}?{urlencode({**query, 'lang': other})}"


def chosen_language(request: Request, default: Lang) -> Lang:
    for value in (request.query_params.get("lang"), request.cookies.get("lang")):
        if value in LANGUAGES:
            return value
    return default


def _date(value: str | None, what: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PageError(400, "error.bad_date", field=what, value=value[:40]) from None


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def ranking_filter(request: Request) -> views.RankingFilter:
    q = request.query_params
    province = q.get("province") or None
    kind = q.get("type") or None
    level = q.get("level") or None
    if province is not None and not PROVINCE.fullmatch(province):
        raise PageError(400, "error.bad_value", field="province", value=province[:40])
    if kind is not None and kind not in ("kabupaten", "kota"):
        raise PageError(400, "error.bad_value", field="type", value=kind[:40])
    if level is not None and level not in ("1", "2", "3", "4", "5"):
        raise PageError(400, "error.bad_value", field="level", value=level[:40])
    return views.RankingFilter(province, kind, int(level) if level else None, (q.get("q") or "")[:100])


def chosen_measure(request: Request) -> views.Measure:
    value = request.query_params.get("measure") or "index"
    if value not in views.MEASURES:
        raise PageError(400, "error.bad_value", field="measure", value=value[:40])
    return value


async def national_bodies(site: Site, on: dt.date | None) -> tuple[Mapping[str, Any], Any, Any, Mapping[str, Any]]:
    """Today's ranking (or ``on``'s), a month and a year before it, and the programme since 1 January."""
    day = on or today()
    up = site.upstream
    now, month, year = await asyncio.gather(up.ranking(on), up.ranking(day - dt.timedelta(days=30)),
                                            up.ranking(day - dt.timedelta(days=365)))  # fmt: skip
    progress = await site.upstream.progress(dt.date(day.year, 1, 1), day)
    return now, month, year, progress


def create_app(site: Site) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        yield
        await site.upstream.close()

    app = FastAPI(title="Pantau Kota Cerdas", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    viewers = site.settings.viewer_passwords()

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.msg = messages(chosen_language(request, site.settings.language))
        if viewers and not request.url.path.startswith(OPEN_PATHS) and not _admitted(request, viewers):
            response: Response = error_page(site, request, PageError(401, "error.restricted"))
            response.headers["WWW-Authenticate"] = 'Basic realm="Pantau", charset="UTF-8"'
        else:
            try:
                response = await call_next(request)
            except Exception as exc:  # caught here, not by a handler of Exception: Starlette re-raises after
                # those, and uvicorn would log the same fault a second time as "Exception in ASGI application"
                log.error("web.page_failed", path=request.url.path, error=repr(exc)[:500], exc_info=exc)
                response = error_page(site, request, PageError(500, "error.internal"))
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "public, max-age=3600"
        else:
            response.headers.setdefault("Cache-Control", "no-cache")
        return response

    @app.exception_handler(PageError)
    async def on_page_error(request: Request, exc: Exception) -> Response:
        return error_page(site, request, cast(PageError, exc))

    @app.exception_handler(Unavailable)
    async def on_unavailable(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Unavailable)
        site.metrics.upstream_errors.labels(exc.service).inc()
        log.warning("web.upstream_unavailable", service=exc.service, detail=exc.detail, path=request.url.path)
        response = error_page(site, request, PageError(503, "error.unavailable", service=exc.service))
        response.headers["Retry-After"] = "10"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        key = {404: "error.not_found", 405: "error.method"}.get(exc.status_code, "error.internal")
        return error_page(site, request, PageError(exc.status_code, key))

    # ----------------------------------------------------------------------------------- pages
    @app.get("/", response_class=HTMLResponse)
    async def beranda(request: Request) -> Response:
        msg: Messages = request.state.msg
        on = _date(request.query_params.get("on"), "on")
        chosen, measure = ranking_filter(request), chosen_measure(request)

        async def build() -> str:
            now, month, year, progress = await national_bodies(site, on)

            def draw() -> str:  # about 150 ms of CPU for 514 rows and shapes: off the event loop
                page = views.national_page(today=now, month_ago=month, year_ago=year, progress=progress,
                                           programme=site.programme, registry=site.registry,
                                           framework=site.framework, msg=msg, chosen=chosen,
                                           measure=measure)  # fmt: skip
                drawn = render_map(page.map, label=msg("map.label.national", measure=msg(f"measure.{measure}")),
                                   missing=views.map_missing(site.registry, msg))  # fmt: skip
                return site.html(request, "national.html.j2", p=page, map_svg=drawn,
                                 provinces=site.registry.provinces, measures=views.MEASURES, query=_query(request),
                                 chosen=page_filter(chosen),
                                 export=_export_query(on, msg.lang))  # fmt: skip

            return await asyncio.to_thread(draw)

        return await site.cached(request, ("national", on, chosen, measure), build)

    @app.get("/provinsi/{code}", response_class=HTMLResponse)
    async def provinsi(request: Request, code: str) -> Response:
        msg: Messages = request.state.msg
        if code not in site.registry.provinces:
            raise PageError(404, "error.no_province", code=code[:20])
        chosen, measure = ranking_filter(request), chosen_measure(request)

        async def build() -> str:
            (now, month, year, _progress), alerts = await asyncio.gather(
                national_bodies(site, None), site.upstream.open_alerts(province=code)
            )

            def draw() -> str:
                rows = views.ranking_rows(now, month, year, msg, site.registry)
                page = views.province_page(code, rows, site.registry, msg, chosen, measure)
                drawn = render_map(page.map, label=msg("map.label.province", name=page.summary.name,
                                                        measure=msg(f"measure.{measure}")),
                                   missing=views.map_missing(site.registry, msg),
                                   geometry=site.province_map(code))  # fmt: skip
                return site.html(request, "province.html.j2", p=page, map_svg=drawn, measure=measure,
                                 measures=views.MEASURES, legend=views.legend(measure, site.framework, msg),
                                 alerts=details.open_alerts(alerts["alerts"], site.framework, msg),
                                 chosen=page_filter(chosen), query=_query(request))  # fmt: skip

            return await asyncio.to_thread(draw)

        return await site.cached(request, ("province", code, chosen, measure), build)

    @app.get("/wilayah/{code}", response_class=HTMLResponse)
    async def wilayah(request: Request, code: str) -> Response:
        msg: Messages = request.state.msg
        if not CODE.fullmatch(code):
            return by_name(request, code)
        if code not in site.registry.regions:
            raise PageError(404, "error.no_region", code=code[:20])
        start, end = dt.date(site.settings.baseline_year, 1, 1), dt.date(site.settings.target_year, 12, 31)

        async def build() -> str:
            series, alerts, plan_body, score = await asyncio.gather(
                site.upstream.series(code, start, end), site.upstream.open_alerts(region=code),
                site.upstream.plan(code), optional(site.upstream.score(code)),
            )  # fmt: skip
            plan = Masterplan.model_validate(plan_body["plan"]) if plan_body else None
            card = views.region_card(series, site.framework, msg, plan, site.programme)
            indicators = None if not isinstance(score, Mapping) else details.indicators(score, site.framework, msg)
            return site.html(request, "region.html.j2", c=card, chart=history_chart(card, msg),
                             chart_rows=chart_rows(card, msg), indicators=indicators, scoring_down=score is False,
                             alerts=details.open_alerts(alerts["alerts"], site.framework, msg), plan=plan,
                             programme_status=plan.programme if plan else None, region=site.registry.get(code),
                             export_from=start.isoformat(), export_to=today().isoformat())  # fmt: skip

        return await site.cached(request, ("card", code), build)

    def by_name(request: Request, name: str) -> Response:
        code = site.by_slug.get(slug(name))
        if code is not None:
            return RedirectResponse(f"/wilayah/{code}", status_code=308)
        return RedirectResponse(f"/?{urlencode({'q': name.replace('-', ' ')})}#peringkat", status_code=303)

    # --------------------------------------------------------------------------------- exports
    @app.get("/peringkat.{fmt}")
    async def ranking_export(request: Request, fmt: str) -> Response:
        msg: Messages = request.state.msg
        if fmt not in ("csv", "xlsx"):
            raise PageError(404, "error.not_found")
        on = _date(request.query_params.get("on"), "on")
        body = await site.upstream.ranking(on)
        out = exports.export_ranking(body, cast(exports.Format, fmt), msg.lang, site.framework)
        return _download(out)

    @app.get("/wilayah/{code}/riwayat.{fmt}")
    async def history_export(request: Request, code: str, fmt: str) -> Response:
        msg: Messages = request.state.msg
        if fmt not in ("csv", "xlsx"):
            raise PageError(404, "error.not_found")
        if code not in site.registry.regions:
            raise PageError(404, "error.no_region", code=code[:20])
        q = request.query_params
        start = _date(q.get("from"), "from") or dt.date(site.settings.baseline_year, 1, 1)
        end = _date(q.get("to"), "to") or today()
        resolution = q.get("resolution") or "month"
        if resolution not in ("day", "week", "month", "year"):
            raise PageError(400, "error.bad_value", field="resolution", value=resolution[:40])
        if end < start:
            raise PageError(400, "error.bad_range", start=start.isoformat(), end=end.isoformat())
        try:
            body = await site.upstream.series(code, start, end, resolution)
        except NotFound as exc:
            raise PageError(404, "error.no_region", code=code) from exc
        return _download(exports.export_history(body, cast(exports.Format, fmt), msg.lang))

    # ---------------------------------------------------------------------------------- alerts
    @app.get("/peringatan/{alert_id}", response_class=HTMLResponse)
    async def alert_page(request: Request, alert_id: str) -> Response:
        return await show_alert(request, alert_id, request.query_params.get("token"))

    @app.get("/ack/{alert_id}", response_class=HTMLResponse)
    async def ack_link(request: Request, alert_id: str) -> Response:
        """The link of a notification: the alert's page with the button (a GET changes nothing)."""
        return await show_alert(request, alert_id, request.query_params.get("token"))

    @app.get("/alerts/{alert_id}", response_class=HTMLResponse)
    async def alert_link(request: Request, alert_id: str) -> Response:
        """Alertmanager's generatorURL: the alert's page without the button."""
        return await show_alert(request, alert_id, None)

    @app.post("/peringatan/{alert_id}", response_class=HTMLResponse)
    async def acknowledge(request: Request, alert_id: str) -> Response:
        return await press(request, alert_id)

    @app.post("/ack/{alert_id}", response_class=HTMLResponse)
    async def acknowledge_link(request: Request, alert_id: str) -> Response:
        return await press(request, alert_id)

    async def show_alert(request: Request, alert_id: str, token: str | None) -> Response:
        """The alert as its worker knows it now (its escalation), else as the history has it; with the
        link's token (checked by the alerts service) the page has the button."""
        msg: Messages = request.state.msg
        live, stored = await asyncio.gather(optional(site.upstream.live_alert(alert_id, token)),
                                            optional(site.upstream.alert(alert_id, missing_ok=True)))  # fmt: skip
        if isinstance(live, LiveAlert) and live.problem is not None:
            outcome = live.problem.removeprefix("bad.")
            return site.render(request, "outcome.html.j2", status=403, outcome=outcome,
                               title=msg(f"ack.{outcome}.title"), text=msg(f"ack.{outcome}", region=""),
                               back=None, region_href=None)  # fmt: skip
        state = live.state if isinstance(live, LiveAlert) and live.state and live.state.get("alert") else None
        alert, escalation, following, steps = None, "", "", []
        if state is not None:
            code = state["alert"]["region_code"]
            alert = details.alert_row(details.live_item(state, region_ref(site.registry, code)), site.framework, msg)
            escalation, following = details.escalation_text(state, code[:2], msg)
        if isinstance(stored, Mapping):
            if alert is None:
                alert = details.alert_row(stored["latest"], site.framework, msg)
            steps = [details.transition_row(t, alert.region_code, msg) for t in stored["transitions"]]
        if alert is None and not token:
            raise PageError(404, "error.no_alert", alert_id=alert_id[:80])
        can_ack = bool(token) and (alert is None or (alert.open and not alert.acknowledged))
        return site.render(request, "alert.html.j2", a=alert, alert_id=alert_id, token=token or "",
                           transitions=steps, can_ack=can_ack, escalation=escalation, following=following)  # fmt: skip

    async def press(request: Request, alert_id: str) -> Response:
        msg: Messages = request.state.msg
        form = await request.form()
        token = str(form.get("token") or request.query_params.get("token") or "")
        if not token:
            if wants_json(request):
                return Response(
                    b'{"error": "no acknowledge token: use the link of the notification"}',
                    status_code=403,
                    media_type="application/json",
                )
            raise PageError(403, "ack.invalid")
        answer: AckAnswer = await site.upstream.acknowledge(alert_id, token)
        site.forget()  # the card and the lists show the acknowledgement at once
        log.info("web.acknowledge", alert_id=alert_id, outcome=answer.outcome)
        if wants_json(request):  # a ticketing system posting a webhook's ack_url: the alerts service's answer
            return Response(orjson.dumps(answer.body), status_code=answer.status, media_type="application/json")
        back = f"/peringatan/{quote(alert_id, safe='')}"
        region = site.registry.regions.get(answer.region or "")
        return site.render(request, "outcome.html.j2", status=answer.status, outcome=answer.outcome,
                           title=msg(f"ack.{answer.outcome}.title"),
                           text=msg(f"ack.{answer.outcome}", region=region.name if region else (answer.region or "")),
                           back=back, region_href=f"/wilayah/{region.code}" if region else None)  # fmt: skip

    @app.get("/runbooks")
    async def runbooks(request: Request) -> Response:
        return RedirectResponse(f"{site.settings.alerts_url}/runbooks", status_code=307)

    @app.get("/runbooks/{section}")
    async def runbook(request: Request, section: str) -> Response:
        return RedirectResponse(f"{site.settings.alerts_url}/runbooks/{quote(section, safe='')}", status_code=307)

    # ------------------------------------------------------------------------------ operations
    @app.get("/healthz")
    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.get("/metrics")
    async def metrics(request: Request) -> Response:
        return Response(generate_latest(site.metrics.registry), media_type="text/plain; version=0.0.4")

    @app.get("/lisensi/batas-wilayah")
    async def boundaries_licence(request: Request) -> Response:
        """The MIT notice of the kab/kota boundaries the maps are drawn from."""
        return Response(BOUNDARIES_LICENCE.read_bytes(), media_type="text/plain; charset=utf-8")

    @app.get("/favicon.ico")
    async def favicon(request: Request) -> Response:
        return RedirectResponse("/static/favicon.svg", status_code=308)

    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    app.add_middleware(MetricsMiddleware, metrics=site.metrics)
    return app


async def optional(pending: Awaitable[Any]) -> Any:
    """The answer, or False when the service behind it is down (that part of the page says so)."""
    try:
        return await pending
    except Unavailable as exc:
        log.info("web.part_unavailable", service=exc.service, detail=exc.detail)
        return False


@dataclass(frozen=True)
class PageFilter:
    province: str
    type: str
    level: str
    q: str


def page_filter(chosen: views.RankingFilter) -> PageFilter:
    return PageFilter(chosen.province or "", chosen.type or "", str(chosen.level or ""), chosen.query)


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


#: The parameters of the pages (others are ignored: not echoed in links, not part of a cached page's key).
PAGE_PARAMS: Final = ("q", "province", "type", "level", "on", "measure")


def _query(request: Request) -> Mapping[str, str]:
    return {k: v for k, v in request.query_params.items() if k in PAGE_PARAMS and v}


def _export_query(on: dt.date | None, lang: str) -> str:
    return urlencode({k: v for k, v in (("on", on and on.isoformat()), ("lang", lang)) if v})


def _download(out: exports.Export) -> Response:
    return Response(out.content, media_type=out.media_type,
                    headers={"Content-Disposition": f"attachment; filename=\"{out.filename}\""})  # fmt: skip


def _admitted(request: Request, viewers: Mapping[str, str]) -> bool:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        name, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    expected = viewers.get(name)
    return expected is not None and hmac.compare_digest(expected.encode(), password.encode())


def error_page(site: Site, request: Request, exc: PageError) -> HTMLResponse:
    msg: Messages = getattr(request.state, "msg", None) or messages(site.settings.language)
    request.state.msg = msg
    html = site.env.get_template("error.html.j2").render(
        msg=msg, lang=msg.lang, page=request.url.path, switch=switch_url(request, msg.lang), status=exc.status,
        title=msg(f"{exc.key}.title") if f"{exc.key}.title" in msg.labels else msg("error.title"),
        text=msg(exc.key, **exc.values),
    )  # fmt: skip
    return HTMLResponse(html, status_code=exc.status)
