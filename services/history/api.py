"""The history query API (FastAPI, read-only): a region's scores over time against its masterplan path, the
ranking as of a day, a region's alerts, the alerts open now and one alert's transitions, the programme's
progress, in JSON or CSV.

- Every ``/v1`` answer is JSON by default and CSV with ``format=csv`` (or ``Accept: text/csv``), one row
  per point with the same figures and a header row naming them.
- No key is needed for published scores by default; with ``HISTORY_API_KEYS`` set, every ``/v1`` request
  sends one as ``X-API-Key`` (401 otherwise). Requests are rate-limited per key, or per client address
  without one (``HISTORY_API_RATE_LIMIT``; 429 with ``Retry-After``).
- Errors are ``{"error": {"code", "message", "field"}}``; a database that cannot be reached is 503 with
  ``Retry-After``; nothing else of the server's insides reaches a client.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Annotated, Any, Literal

import orjson
from fastapi import FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, BeforeValidator
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.masterplan import NATIONAL_MASTERPLAN_TARGET, NATIONAL_MASTERPLAN_TARGET_YEAR
from schemas.programme import Programme
from schemas.regions import RegionRegistry
from services.history.api_models import (
    AlertBody,
    AlertsBody,
    ErrorBody,
    FrameworkBody,
    FrameworksBody,
    Json,
    OpenAlertsBody,
    PlanBody,
    ProgrammeBody,
    RankingBody,
    SeriesBody,
    alert_item,
    progress_point,
    ranked,
    series_point,
    transition,
)
from services.history.domain.periods import Resolution
from services.history.domain.views import AlertSummary, Progress, Transition
from services.history.service.ports import DatabaseUnavailable
from services.history.service.queries import HistoryQueries, QueryError, RegionSeries, RegionType, Standing
from services.runtime import logs
from services.runtime.api_docs import add_docs
from services.runtime.asgi import MetricsMiddleware
from services.runtime.ratelimit import RateLimiter

log = logs.get("pantau.history.api")
CSV = "text/csv; charset=utf-8"
Format = Literal["json", "csv"]
RETRY_AFTER = 5


class ApiMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "pantau_history_api_requests_total", "History API requests by route template, method and status.",
            ["route", "method", "status"], registry=self.registry,
        )  # fmt: skip
        self.request_duration = Histogram(
            "pantau_history_api_request_duration_seconds", "History API request duration by route template.",
            ["route"], registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )  # fmt: skip


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None, **headers: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.headers = status, code, message, field, headers


class HistoryApi:
    """What the routes need: the queries, the registry, the programme's figures, the key and rate checks."""

    def __init__(
        self,
        queries: HistoryQueries,
        registry: RegionRegistry,
        programme: Programme,
        dimensions: Sequence[str],
        keys: frozenset[str],
        rate_limit: str,
        metrics: ApiMetrics,
    ) -> None:
        self.queries, self.registry, self.programme, self.dimensions = queries, registry, programme, list(dimensions)
        self.keys, self.limiter, self.metrics, self.rate_limit = keys, RateLimiter(rate_limit), metrics, rate_limit
        self._refs: dict[str, Json] = {}

    def admit(self, request: Request) -> None:
        """The key (when keys are required) and the rate left for it, or the client's address."""
        key = request.headers.get("x-api-key")
        if self.keys:
            if not key:
                raise ApiError(401, "missing_api_key", "this API needs a key: send it as 'X-API-Key: <key>'",
                               "X-API-Key")  # fmt: skip
            if key not in self.keys:
                raise ApiError(401, "invalid_api_key", "unknown API key", "X-API-Key")
        who = f"key:{key}" if self.keys and key else f"addr:{request.client.host if request.client else '-'}"
        wait = self.limiter.take(who)
        if wait is not None:
            raise ApiError(429, "rate_limited", f"rate limit {self.rate_limit} reached; retry in {wait:.0f} s",
                           None, **{"Retry-After": str(int(wait))})  # fmt: skip

    def region_ref(self, code: str) -> Json:
        ref = self._refs.get(code)
        if ref is None:
            r = self.registry.get(code)
            ref = self._refs[code] = {"code": r.code, "name": r.name, "type": r.type,
                                      "province_code": r.province_code, "province_name": r.province_name}  # fmt: skip
        return ref

    def series_body(self, s: RegionSeries) -> Json:
        """A SeriesBody."""
        return {"region": self.region_ref(s.region_code), "framework": s.framework, "resolution": s.resolution.value,
                "from": s.start, "to": s.end, "points": [series_point(p) for p in s.points]}  # fmt: skip

    def ranking_body(self, st: Standing, province: str | None, region_type: str | None, level: int | None) -> Json:
        """A RankingBody."""
        return {
            "on": st.on, "framework": st.framework, "province": province, "type": region_type, "level": level,
            "scored": st.total, "count": len(st.regions),
            "regions": [ranked(r, self.region_ref(r.closing.region_code)) for r in st.regions],
        }  # fmt: skip

    def alerts_body(self, code: str, start: date, end: date, transitions: Sequence[Transition]) -> Json:
        """An AlertsBody."""
        return {"region": self.region_ref(code), "from": start, "to": end, "count": len(transitions),
                "transitions": [transition(t) for t in transitions]}  # fmt: skip

    def open_alerts_body(self, alerts: Sequence[AlertSummary]) -> Json:
        """An OpenAlertsBody."""
        return {"count": len(alerts),
                "alerts": [alert_item(a, self.region_ref(a.latest.region_code)) for a in alerts]}  # fmt: skip

    def alert_body(self, summary: AlertSummary, transitions: Sequence[Transition]) -> Json:
        """An AlertBody."""
        region = self.region_ref(summary.latest.region_code)
        return {"alert_id": summary.latest.alert_id, "region": region, "open": summary.open,
                "latest": alert_item(summary, region), "transitions": [transition(t) for t in transitions]}  # fmt: skip

    def programme_body(self, framework: str, resolution: Resolution, points: Sequence[Progress]) -> Json:
        """A ProgrammeBody."""
        return {
            "framework": framework, "resolution": resolution.value, "from": points[0].period.since,
            "to": points[-1].period.until, "regions": len(self.registry),
            "masterplan_target": NATIONAL_MASTERPLAN_TARGET, "target_year": NATIONAL_MASTERPLAN_TARGET_YEAR,
            "points": [progress_point(p, self.assisted_by(p.period.until.year)) for p in points],
        }  # fmt: skip

    def assisted_by(self, year: int) -> int | None:
        """The programme's published cumulative count of assisted kab/kota by the end of ``year``."""
        known = [c for c in self.programme.cohorts if c.cumulative_assisted is not None and c.year <= year]
        return max(known, key=lambda c: c.year).cumulative_assisted if known else None


def api(request: Request) -> HistoryApi:
    svc: HistoryApi = request.app.state.api
    svc.admit(request)
    return svc


def wants_csv(request: Request, fmt: Format | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def json_answer(body: Json | BaseModel) -> Response:
    if isinstance(body, BaseModel):
        return Response(body.model_dump_json(by_alias=True), media_type="application/json")
    return Response(orjson.dumps(body), media_type="application/json")


def csv_answer(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow(["" if v is None else v for v in row])
    return Response(
        out.getvalue(), media_type=CSV, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _iso_day(value: object) -> object:
    """A day is written YYYY-MM-DD (pydantic alone would also take a number as a UNIX time)."""
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise ValueError(f"{value!r} is not a day written YYYY-MM-DD")
    return value


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
Day = Annotated[date, BeforeValidator(_iso_day)]
FromDate = Annotated[Day | None, Query(alias="from", description="First day (default: 1 January of 'to''s year).")]
ToDate = Annotated[Day | None, Query(alias="to", description="Last day (default: today, UTC).")]
FrameworkKey = Annotated[
    str | None,
    Query(description="Framework 'id@version' (default: the one scored under; see /v1/frameworks).", max_length=80),
]
FormatQ = Annotated[Format | None, Query(alias="format", description="json (default) or csv.")]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "A key is required (HISTORY_API_KEYS) and none or a wrong one was sent."},
    404: {"model": ErrorBody, "description": "Unknown region or province code."},
    422: {"model": ErrorBody, "description": "A parameter is invalid (the body names it)."},
    429: {"model": ErrorBody, "description": "Rate limit reached; see Retry-After."},
    503: {"model": ErrorBody, "description": "The history database cannot be reached; retry."},
}
#: An alert id (24 hex digits as the alerts service makes them; any letters, digits and _ . : - but not a dot
#: first, so that no id is a path segment like '..').
AlertId = Annotated[
    str, Path(description="The alert's id (AlertEvent.alert_id).", pattern=r"^[A-Za-z0-9_:-][A-Za-z0-9_.:-]{0,127}$")
]
ALERT_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"model": ErrorBody, "description": "No alert with this id in the history store."},
}
CSV_TOO = {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "JSON, or CSV with format=csv."}


def _csv_float(v: float | None) -> float | str | None:
    return None if v is None else round(v, 6)


def register(app: FastAPI) -> None:
    @app.get(
        "/v1/regions/{code}/history",
        response_model=SeriesBody,
        responses={**ERRORS, 200: CSV_TOO},
        summary="A region's scores between two days, by day, week, month or year, with its masterplan path",
    )
    def region_history(
        request: Request,
        code: str,
        start: FromDate = None,
        end: ToDate = None,
        resolution: Annotated[Resolution, Query(description="day, week (ISO), month or year.")] = Resolution.MONTH,
        framework: FrameworkKey = None,
        fmt: FormatQ = None,
    ) -> Response:
        """One point per period: its closing snapshot (the last day with a score), the mean, lowest and highest
        daily index, and the masterplan path on the period's last day. Periods without data are listed
        (``closing`` null) so that the path shows ahead of the data, e.g. ``to=2029-12-31``."""
        svc = api(request)
        s = svc.queries.region_series(code, start, end, resolution, framework)
        if wants_csv(request, fmt):
            dims = svc.dimensions
            header = ["region_code", "framework", "period", "first", "last", "since", "until", "days",
                      "simulated_days", "closing_day", "index", "level", "level_name", "coverage", "status",
                      "simulated", *(f"dim_{d}" for d in dims), "index_mean", "index_min", "index_max",
                      "expected_index", *(f"expected_{d}" for d in dims), "gap", "plan_id"]  # fmt: skip
            rows = []
            for p in s.points:
                c = p.closing
                rows.append([
                    s.region_code, s.framework, p.period.label, p.period.first, p.period.last, p.period.since,
                    p.period.until, p.days, p.simulated_days, c.day if c else None, _csv_float(c.index if c else None),
                    c.level if c else None, c.level_name if c else None, _csv_float(c.coverage if c else None),
                    c.status if c else None, c.simulated if c else None,
                    *(_csv_float(c.dimensions.get(d)) if c else None for d in dims),
                    _csv_float(p.index_mean), _csv_float(p.index_min), _csv_float(p.index_max),
                    _csv_float(p.expected.get("index")), *(_csv_float(p.expected.get(d)) for d in dims),
                    _csv_float(p.gap), p.plan_id,
                ])  # fmt: skip
            return csv_answer(header, rows, f"pantau-{s.region_code}-{s.resolution.value}-{s.start}-{s.end}.csv")
        return json_answer(svc.series_body(s))

    @app.get(
        "/v1/ranking",
        response_model=RankingBody,
        responses={**ERRORS, 200: CSV_TOO},
        summary="Every region's standing as of a day, best first; by province, type and level",
    )
    def ranking(
        request: Request,
        on: Annotated[Day | None, Query(description="The day (default: today, UTC).")] = None,
        province: Annotated[str | None, Query(description="A province code, e.g. 32.", pattern=r"^\d{2}$")] = None,
        region_type: Annotated[RegionType | None, Query(alias="type", description="kabupaten or kota.")] = None,
        level: Annotated[int | None, Query(ge=1, le=5, description="Only regions at this level.")] = None,
        framework: FrameworkKey = None,
        fmt: FormatQ = None,
    ) -> Response:
        """Each region's latest closing snapshot on or before the day (``as_of.day`` says which), ranked by
        index (competition ranking: 1, 2, 2, 4), with its masterplan path on that day and whether it is
        behind it. ``rank`` is among the regions listed, ``national_rank`` among all."""
        svc = api(request)
        st = svc.queries.standing(on, framework, province=province, region_type=region_type, level=level)
        dims = svc.dimensions
        if wants_csv(request, fmt):
            header = ["on", "framework", "rank", "national_rank", "region_code", "region_name", "type",
                      "province_code", "as_of_day", "index", "level", "level_name", "coverage", "status",
                      *(f"dim_{d}" for d in dims), "expected_index", "gap", "behind_plan", "plan_id",
                      "simulated"]  # fmt: skip
            rows = []
            for r in st.regions:
                c, reg = r.closing, svc.registry.get(r.closing.region_code)
                rows.append([st.on, st.framework, r.rank, r.national_rank, c.region_code, reg.name, reg.type,
                             reg.province_code, c.day, _csv_float(c.index), c.level, c.level_name,
                             _csv_float(c.coverage), c.status, *(_csv_float(c.dimensions.get(d)) for d in dims),
                             _csv_float(r.expected_index), _csv_float(r.gap), r.behind_plan, r.plan_id,
                             c.simulated])  # fmt: skip
            return csv_answer(header, rows, f"pantau-ranking-{st.on}.csv")
        return json_answer(svc.ranking_body(st, province, region_type, level))

    @app.get(
        "/v1/regions/{code}/plan",
        response_model=PlanBody,
        responses=ERRORS,
        summary="A region's masterplan in force on a day: its milestones and programme status",
    )
    def region_plan(
        request: Request,
        code: str,
        on: Annotated[Day | None, Query(description="The day (default: today, UTC).")] = None,
    ) -> Response:
        """The version of the region's plan the history store saw last on or before ``on`` (its earliest when
        all came later): the milestones its path runs through, its basis, its programme status."""
        svc = api(request)
        day, plan = svc.queries.plan(code, on)
        return json_answer({"region": svc.region_ref(code), "on": day, "plan": plan.model_dump(mode="json")})

    @app.get(
        "/v1/regions/{code}/alerts",
        response_model=AlertsBody,
        responses={**ERRORS, 200: CSV_TOO},
        summary="A region's alert transitions between two days, newest first",
    )
    def region_alerts(
        request: Request,
        code: str,
        start: FromDate = None,
        end: ToDate = None,
        state: Annotated[Literal["firing", "acknowledged", "resolved"] | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
        fmt: FormatQ = None,
    ) -> Response:
        """Every transition (firing, acknowledged, resolved, escalated) the alerts service published for the
        region, from the start of ``from`` to the end of ``to`` on the region's local clock."""
        svc = api(request)
        start_day, end_day, transitions = svc.queries.alerts(code, start, end, state, limit)
        if wants_csv(request, fmt):
            header = ["region_code", "at", "alert_id", "transition_id", "kind", "target", "state", "severity",
                      "escalation", "current", "expected", "gap", "milestone_due", "summary", "remedy"]  # fmt: skip
            rows = [
                [
                    code,
                    t.at.isoformat(),
                    t.alert_id,
                    t.transition_id,
                    t.kind,
                    t.target,
                    t.state,
                    t.severity,
                    t.escalation,
                    t.current,
                    t.expected,
                    t.gap,
                    t.milestone_due,
                    t.summary,
                    t.remedy,
                ]
                for t in transitions
            ]
            return csv_answer(header, rows, f"pantau-alerts-{code}-{start_day}-{end_day}.csv")
        return json_answer(svc.alerts_body(code, start_day, end_day, transitions))

    @app.get(
        "/v1/alerts",
        response_model=OpenAlertsBody,
        responses={**ERRORS, 200: CSV_TOO},
        summary="The alerts open now (firing or acknowledged), most severe first; by province or region",
    )
    def open_alerts(
        request: Request,
        province: Annotated[str | None, Query(description="A province code, e.g. 32.", pattern=r"^\d{2}$")] = None,
        region: Annotated[
            str | None, Query(description="A kab/kota code, e.g. 32.73.", pattern=r"^\d{2}\.\d{2}$")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=5000, description="At most this many alerts.")] = 500,
        fmt: FormatQ = None,
    ) -> Response:
        """Every alert whose newest transition is ``firing`` or ``acknowledged`` (``resolved`` closes one), as of
        that transition: critical first, then warning, then info; within a severity the widest gap to the path
        first, then by region code. ``acknowledged`` is true once anyone acknowledged the alert; ``fired_at`` is
        when it first fired. With ``province`` and ``region``, the region's alerts if it is in the province."""
        svc = api(request)
        alerts = svc.queries.open_alerts(province, region, limit)
        if wants_csv(request, fmt):
            header = ["region_code", "region_name", "province_code", "alert_id", "kind", "target", "state",
                      "severity", "escalation", "acknowledged", "fired_at", "at", "current", "expected", "gap",
                      "milestone_due", "summary", "remedy"]  # fmt: skip
            rows = []
            for a in alerts:
                t, reg = a.latest, svc.registry.get(a.latest.region_code)
                rows.append([t.region_code, reg.name, reg.province_code, t.alert_id, t.kind, t.target, t.state,
                             t.severity, t.escalation, a.acknowledged, a.fired_at.isoformat() if a.fired_at else None,
                             t.at.isoformat(), t.current, t.expected, t.gap, t.milestone_due, t.summary,
                             t.remedy])  # fmt: skip
            return csv_answer(header, rows, f"pantau-open-alerts-{region or province or 'all'}.csv")
        return json_answer(svc.open_alerts_body(alerts))

    @app.get(
        "/v1/alerts/{alert_id}",
        response_model=AlertBody,
        responses=ALERT_ERRORS,
        summary="One alert: where it stands (open or not) and every transition of it, newest first",
    )
    def one_alert(
        request: Request,
        alert_id: AlertId,
    ) -> Response:
        """The alert as of its newest transition (``latest``, as ``/v1/alerts`` lists it), whether it is open,
        and all its transitions (pending, firing, acknowledged, escalations, resolved), newest first."""
        svc = api(request)
        summary, transitions = svc.queries.alert(alert_id)
        return json_answer(svc.alert_body(summary, transitions))

    @app.get(
        "/v1/programme/progress",
        response_model=ProgrammeBody,
        responses={**ERRORS, 200: CSV_TOO},
        summary="The programme over time: regions per level, behind their plan, mean index, by month or year",
    )
    def programme_progress(
        request: Request,
        start: FromDate = None,
        end: ToDate = None,
        resolution: Annotated[Literal[Resolution.MONTH, Resolution.YEAR], Query()] = Resolution.MONTH,
        framework: FrameworkKey = None,
        fmt: FormatQ = None,
    ) -> Response:
        """On each period's last day: how many regions are scored, at each level, behind or on their
        masterplan path, their mean index, and the programme's published count of assisted kab/kota."""
        svc = api(request)
        key, points = svc.queries.programme(start, end, Resolution(resolution), framework)
        body = svc.programme_body(key, Resolution(resolution), points)
        if wants_csv(request, fmt):
            bodies = body["points"]
            levels = sorted({lv for b in bodies for lv in b["levels"]})
            counts = ["behind_plan", "on_or_above_plan", "without_plan", "simulated", "stale", "assisted_cumulative"]
            header = ["framework", "period", "until", "regions_scored", "mean_index",
                      *(f"level_{lv}" for lv in levels), *counts]  # fmt: skip
            rows = [[key, b["period"], b["until"], b["regions_scored"], _csv_float(b["mean_index"]),
                     *(b["levels"].get(lv, 0) for lv in levels), *(b[c] for c in counts)] for b in bodies]  # fmt: skip
            return csv_answer(header, rows, f"pantau-programme-{resolution}.csv")
        return json_answer(body)

    @app.get(
        "/v1/frameworks",
        response_model=FrameworksBody,
        responses=ERRORS,
        summary="The framework versions with history (a re-score under a new version sits beside the old)",
    )
    def frameworks(request: Request) -> Response:
        svc = api(request)
        found = [FrameworkBody(framework=f.framework, first_day=f.first_day, last_day=f.last_day, regions=f.regions)
                 for f in svc.queries.frameworks()]  # fmt: skip
        return json_answer(FrameworksBody(current=svc.queries.framework, frameworks=found))  # (a few rows)

    @app.get("/healthz", include_in_schema=False)
    def healthz(request: Request) -> Response:
        svc: HistoryApi = request.app.state.api
        try:
            svc.queries.reads.ping()
        except DatabaseUnavailable as exc:
            body = {"status": "degraded", "database_up": False, "reason": str(exc)[:200]}
            return Response(orjson.dumps(body), status_code=503, media_type="application/json",
                            headers={"Retry-After": str(RETRY_AFTER)})  # fmt: skip
        return Response(orjson.dumps({"status": "ok", "database_up": True}), media_type="application/json")

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        svc: HistoryApi = request.app.state.api
        return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def error(
    status: int, code: str, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    body = ErrorBody.model_validate({"error": {"code": code, "message": message, "field": field}})
    return Response(body.model_dump_json(), status_code=status, media_type="application/json", headers=headers)


async def on_api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error(exc.status, exc.code, exc.message, exc.field, exc.headers)


async def on_query_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, QueryError)
    return error(exc.status, exc.code, exc.message, exc.field)


async def on_database_down(_request: Request, exc: Exception) -> Response:
    log.warning("history.api.database_unavailable", error=str(exc)[:300])
    return error(503, "database_unavailable", "the history database cannot be reached; retry shortly",
                 headers={"Retry-After": str(RETRY_AFTER)})  # fmt: skip


async def on_invalid_request(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "header")]
    return error(422, "invalid_value", str(first["msg"]), ".".join(where) or None)


async def on_http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = "no such path: see /docs" if exc.status_code == 404 else str(exc.detail)
    return error(exc.status_code, code, message, headers=dict(exc.headers or {}))  # 405 keeps its Allow


async def on_unexpected(_request: Request, exc: Exception) -> Response:
    log.exception("history.api.failed", error=repr(exc))
    return error(500, "internal_error", "the server failed on this request; it is logged")


def create_app(svc: HistoryApi) -> FastAPI:
    app = FastAPI(
        title="Pantau history API",
        version="1",
        description=(
            "Read-only history of every kab/kota's smart-city maturity (PP 59/2022, 0-5 scale): daily closing "
            "scores since the baseline, the masterplan path to 2029, rankings as of a day, alerts and the "
            "programme's progress. JSON, or CSV with format=csv. See docs/history.md."
        ),
        docs_url=None,
        redoc_url=None,
        exception_handlers={
            ApiError: on_api_error,
            QueryError: on_query_error,
            DatabaseUnavailable: on_database_down,
            RequestValidationError: on_invalid_request,
            StarletteHTTPException: on_http_error,
            Exception: on_unexpected,
        },
    )
    register(app)
    add_docs(app)
    app.add_middleware(MetricsMiddleware, metrics=svc.metrics)
    app.state.api = svc
    return app
