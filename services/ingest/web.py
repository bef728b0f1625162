"""The ingest HTTP API (FastAPI): thin. Authentication, limits and rendering here; the work in submissions.py.

Order of the checks of a POST: API key (401), rate allowance left (429), body size (413), JSON and
batch shape (422), rate for the whole batch (429), scope of every item (403, nothing written),
validity of each item (per-item results), duplicates, then the write (503 if Kafka does not ack).
Answers never repeat more than a bounded prefix of what the client sent (responses.py).

The routes are plain functions on module-level routers; what they need comes from the app the
request reached (``request.app.state.service``, through :func:`service`). :func:`create_app` only
assembles: routers, middleware, exception handlers, the documentation pages and the OpenAPI document
(the routers are shared by every app: what the document says of the settings, the batch size and
the time window, is filled in when it is made, by openapi.py's ``with_limits``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from schemas.reasons import INVALID_VALUE, NGSI_LD_INVALID
from services.ingest.domain.auth import Publisher
from services.ingest.domain.intake import Status, Undecodable
from services.ingest.domain.ngsi_ld import is_notification
from services.ingest.openapi import NGSI_LD_MEDIA, notification_body, with_limits
from services.ingest.responses import (
    ErrorBody,
    FrameworkView,
    IndicatorView,
    IngestReport,
    Limits,
    NotifyReport,
    Readiness,
    RegionsView,
    detail,
    duration,
    error_body,
    ingest_report,
    notify_report,
    refused_events,
    refused_notification,
)
from services.ingest.service import IngestService
from services.ingest.submissions import Submission
from services.runtime import logs
from services.runtime.api_docs import add_docs
from services.runtime.asgi import MetricsMiddleware
from services.runtime.http_guard import REQUEST_TIMEOUT

log = logs.get("pantau.ingest")
Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]

# Stable codes of whole-request errors (item-level codes are in schemas/validation.py).
MISSING_API_KEY = "missing_api_key"
INVALID_API_KEY = "invalid_api_key"
OUT_OF_SCOPE = "out_of_scope"
BODY_TOO_LARGE = "body_too_large"
INVALID_JSON = "invalid_json"
INVALID_BODY = "invalid_body"
EMPTY_BATCH = "empty_batch"
BATCH_TOO_LARGE = "batch_too_large"
RATE_LIMITED = "rate_limited"
KAFKA_UNAVAILABLE = "kafka_unavailable"
ITEMS_REJECTED = "items_rejected"
ENTITIES_DEAD_LETTERED = "entities_dead_lettered"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"


class ApiError(Exception):
    """A request refused whole: answered ``{"error": ...}`` (an :class:`ErrorBody`) with ``status``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.headers = status, code, message, field, headers or {}


def json_response(status: int, body: Mapping[str, Any], headers: dict[str, str] | None = None) -> Response:
    """A POST answer (a typed dict of responses.py), written by orjson."""
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def render(sub: Submission, retry_after: int, *, ngsi_ld: bool = False) -> Response:
    """The answer to a submission: counts, per-item results, and the whole-request error if any.

    ``ngsi_ld``: the answer to a notification, whose items are entities (rejected ones dead-lettered).
    """
    counts = {s: sub.count(s) for s in Status}
    status, headers, error = sub.http_status, None, None
    if status == 403:
        first = sub.results[0].errors[0]
        error = detail(OUT_OF_SCOPE, f"{first.message}; nothing was written", first.field)
    elif status == 503:
        error = detail(KAFKA_UNAVAILABLE, "Kafka did not acknowledge; items marked 'unavailable' were not written, "
                       "send them again")  # fmt: skip
        headers = {"Retry-After": str(retry_after)}
    elif status in (207, 422) and ngsi_ld:
        rest = "nothing else was written" if status == 422 else "the others were written"
        error = detail(ENTITIES_DEAD_LETTERED, f"{counts[Status.REJECTED]} of {len(sub.results)} entities "
                       f"dead-lettered to indicator-events.dlq (see results); {rest}")  # fmt: skip
    elif status in (207, 422):
        error = detail(ITEMS_REJECTED, f"{counts[Status.REJECTED]} of {len(sub.results)} item(s) rejected; see results")
    if ngsi_ld:
        return json_response(status, notify_report(sub.results, counts, error), headers)
    return json_response(status, ingest_report(sub.results, counts, error), headers)


# ------------------------------------------------------------------------------------ dependencies


def service(request: Request) -> IngestService:
    """The service of the app the request reached (``app.state.service``, set by :func:`create_app`)."""
    svc: IngestService = request.app.state.service
    return svc


BEARER = HTTPBearer(auto_error=False, description="The publisher's API key: 'Authorization: Bearer pk_...'.")


def authenticate(request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> Publisher:
    """The publisher whose API key the request carries (401 otherwise)."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if creds is None:
        raise ApiError(401, MISSING_API_KEY, "send the API key as 'Authorization: Bearer <key>'",
                       "Authorization", challenge)  # fmt: skip
    pub = service(request).publishers.keyring().authenticate(creds.credentials)
    if pub is None:
        raise ApiError(401, INVALID_API_KEY, "unknown or revoked API key", "Authorization", challenge)
    return pub


Auth = Annotated[Publisher, Depends(authenticate)]


async def read_body(request: Request, limit: int) -> bytes:
    """The body, up to ``limit`` bytes (413 beyond, without reading the rest)."""
    too_large = ApiError(413, BODY_TOO_LARGE, f"the body is larger than {limit} bytes; send smaller batches")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise too_large
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect:  # gone, or cut off by the body deadline (http_guard.py answered 408)
        raise ApiError(408, REQUEST_TIMEOUT, "the body did not arrive in time; nothing was written") from None
    return b"".join(chunks)


def spend(svc: IngestService, pub: Publisher, cost: int) -> None:
    """Spend ``cost`` events of the key's rate (0: only check that one is left); 429 when there are not enough."""
    wait = svc.limiter.take(pub.key_id, cost) if cost else svc.limiter.exhausted(pub.key_id)
    if wait is not None:
        raise ApiError(429, RATE_LIMITED, f"rate limit {svc.settings.rate_limit} (events per key) reached; retry in "
                       f"{wait:.0f} s", headers={"Retry-After": str(int(wait))})  # fmt: skip


async def submit(svc: IngestService, pub: Publisher, items: list[Any]) -> Response:
    """Check the batch's size, spend its cost of the key's rate, hand it to the intake, render the result."""
    max_batch = svc.settings.max_batch
    if not items:
        return refused(422, EMPTY_BATCH, "the batch is empty")
    if len(items) > max_batch:
        return refused(422, BATCH_TOO_LARGE, f"{len(items)} events in one request; at most {max_batch}")
    spend(svc, pub, len(items))
    sub = await svc.intake.submit(items, pub)
    if sub.http_status == 503:
        log.warning("kafka unavailable: answered 503", reason=svc.writer.why_not_ready, items=len(items))
    return render(sub, svc.settings.retry_after)


def refused(status: int, code: str, message: str, field: str = "(body)") -> Response:
    return json_response(status, refused_events(detail(code, message, field)))


def refused_notify(status: int, code: str, message: str, field: str) -> Response:
    return json_response(status, refused_notification(detail(code, message, field)))


# ------------------------------------------------------------------------------------ documented answers

RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}}
#: {max_future} and {max_age}: the settings' window, filled in when the document is made (openapi.py, with_limits).
EVENTS_422 = ("Nothing written: the body is not a batch, or every item is invalid (results name the field and the "
              "code), among them an observed_at outside the time window (observed_in_future: more than {max_future} "
              "ahead of arrival; observed_too_old: more than {max_age} before it; see x-pantau-window).")  # fmt: skip
EVENTS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": IngestReport, "description": "Every item written, or a duplicate of one written recently."},
    207: {"model": IngestReport, "description": "Some items rejected (see results); the others were written."},
    401: {"model": ErrorBody, "description": "Missing or unknown API key."},
    403: {"model": IngestReport, "description": "An item is outside the key's scope: nothing was written."},
    413: {"model": ErrorBody, "description": "Body larger than the limit."},
    422: {"model": IngestReport, "description": EVENTS_422},
    429: {"model": ErrorBody, "description": "Rate limit of the key reached.", "headers": RETRY_AFTER},
    503: {"model": IngestReport, "description": "Kafka did not acknowledge: items marked unavailable were not "
          "written.", "headers": RETRY_AFTER},
}  # fmt: skip
NOTIFY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": NotifyReport, "description": "Every entity written as an event, or a duplicate of one."},
    207: {"model": NotifyReport, "description": "Some entities dead-lettered with their reason (see results); "
          "the others were written."},
    401: {"model": ErrorBody, "description": "Missing or unknown API key."},
    403: {"model": NotifyReport, "description": "An entity is outside the key's scope: nothing was written."},
    413: {"model": ErrorBody, "description": "Body larger than the limit."},
    415: {"model": ErrorBody, "description": "Not application/json or application/ld+json."},
    422: {"model": NotifyReport, "description": "Not a Notification, or every entity dead-lettered (see results; "
          "an observedAt outside the window among the reasons: see x-pantau-window)."},
    429: {"model": ErrorBody, "description": "Rate limit of the key reached.", "headers": RETRY_AFTER},
    503: {"model": NotifyReport, "description": "Kafka did not acknowledge: entities marked unavailable were "
          "not written (nor dead-lettered).", "headers": RETRY_AFTER},
}  # fmt: skip

# ------------------------------------------------------------------------------------ routes

events = APIRouter()
ngsi_ld = APIRouter()
reference = APIRouter(responses={401: {"model": ErrorBody}})
operations = APIRouter()
ROUTERS = (events, ngsi_ld, reference, operations)


@events.post("/v1/events", summary="Send one event or a batch", responses=EVENTS_RESPONSES, response_model=None)
async def post_events(request: Request, pub: Auth) -> Response:
    """Send one event (a JSON object) or a batch (a JSON array of up to the configured size)."""
    svc = service(request)
    spend(svc, pub, 0)
    body = await read_body(request, svc.settings.max_body_bytes)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return refused(422, INVALID_JSON, f"the body is not JSON: {exc}")
    if isinstance(doc, dict):
        items: list[Any] = [doc]
    elif isinstance(doc, list):
        items = doc
    else:
        return refused(422, INVALID_BODY, "the body must be an event (object) or a batch (array)")
    return await submit(svc, pub, items)


@events.post("/v1/events/ndjson", summary="Send a batch as NDJSON", responses=EVENTS_RESPONSES, response_model=None)
async def post_ndjson(request: Request, pub: Auth) -> Response:
    """Send events as newline-delimited JSON (``application/x-ndjson``): one event per line."""
    svc = service(request)
    spend(svc, pub, 0)
    body = await read_body(request, svc.settings.max_body_bytes)
    items: list[Any] = []
    for line in body.splitlines():
        if not line.strip():
            continue
        try:
            items.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            items.append(Undecodable(str(exc)))
    return await submit(svc, pub, items)


@ngsi_ld.post("/v1/ngsi-ld/notify", summary="Receive NGSI-LD notifications (an Orion-LD subscription's endpoint)",
              responses=NOTIFY_RESPONSES, response_model=None,
              openapi_extra={"requestBody": notification_body()})  # fmt: skip
async def post_notify(request: Request, pub: Auth) -> Response:
    """A Notification of ``KeyPerformanceIndicator`` entities, as a context broker sends it (NGSI-LD).

    ``application/json`` or ``application/ld+json``, with or without ``@context``; entities
    normalised, concise or key-values. The good entities are written as events, the bad ones
    dead-lettered to ``indicator-events.dlq`` with their reason, and the answer lists each.
    """
    svc = service(request)
    spend(svc, pub, 0)
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in NGSI_LD_MEDIA:
        raise ApiError(415, UNSUPPORTED_MEDIA_TYPE, f"send application/json or application/ld+json, not "
                       f"{media or 'no Content-Type'!r}", "Content-Type")  # fmt: skip
    body = await read_body(request, svc.settings.max_body_bytes)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return refused_notify(422, INVALID_JSON, f"the body is not JSON: {exc}", "(body)")
    if not is_notification(doc):
        return refused_notify(422, NGSI_LD_INVALID, "expected an NGSI-LD Notification: "
                              '{"type": "Notification", "data": [entity, ...]}', "type")  # fmt: skip
    data = doc.get("data")
    max_batch = svc.settings.max_batch
    if not isinstance(data, list) or not data:
        return refused_notify(422, NGSI_LD_INVALID, "a Notification's data is a non-empty array of entities", "data")
    if len(data) > max_batch:
        return refused_notify(422, BATCH_TOO_LARGE, f"{len(data)} entities in one notification; at most {max_batch}",
                              "data")  # fmt: skip
    spend(svc, pub, len(data))
    sub = await svc.intake.notify(doc, body, pub)
    if sub.http_status == 503:
        log.warning("kafka unavailable: answered 503", reason=svc.writer.why_not_ready, entities=len(data))
    return render(sub, svc.settings.retry_after, ngsi_ld=True)


@reference.get("/v1/regions", summary="The regions this key may send for", response_model=RegionsView)
async def get_regions(request: Request, pub: Auth) -> RegionsView:
    reg = service(request).rules.registry
    return RegionsView(registry=reg.version, regions=[r for r in reg.regions.values()
                                                      if pub.scope.allows_region(r.code)])  # fmt: skip


@reference.get("/v1/framework", summary="The indicators this key may send, with units, bounds and limits",
               response_model=FrameworkView)  # fmt: skip
async def get_framework(request: Request, pub: Auth) -> FrameworkView:
    svc = service(request)
    fw, s = svc.rules.framework, svc.settings
    return FrameworkView(
        framework=fw.key,
        indicators=[IndicatorView.of(i) for i in fw.indicators if pub.scope.allows_indicator(i.id)],
        limits=Limits(max_batch=s.max_batch, max_body_bytes=s.max_body_bytes, rate_limit=s.rate_limit,
                      max_future=duration(s.max_future), max_age=duration(s.max_age)),
    )  # fmt: skip


@operations.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@operations.get("/readyz", summary="Readiness: Kafka reachable and the topics there", response_model=Readiness,
                responses={503: {"model": Readiness, "description": "Kafka unreachable (or a topic missing).",
                                 "headers": RETRY_AFTER}})  # fmt: skip
async def readyz(request: Request, response: Response) -> Readiness:
    svc = service(request)
    w = svc.writer
    if not w.ready:
        response.status_code = 503
        response.headers["Retry-After"] = str(svc.settings.retry_after)
    return Readiness(status="ready" if w.ready else "not_ready", kafka=w.ready, reason=w.why_not_ready or None)


@operations.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    return Response(generate_latest(service(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)


# ------------------------------------------------------------------------------------ the app


async def on_api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response(exc.status, error_body(exc.code, exc.message, exc.field), exc.headers)


async def on_http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, f"http_{exc.status_code}")
    return json_response(exc.status_code, error_body(code, str(exc.detail)), dict(exc.headers or {}))


async def on_invalid_request(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    return json_response(422, error_body(INVALID_VALUE, str(first["msg"]), ".".join(map(str, first["loc"])) or None))


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    svc: IngestService = app.state.service
    await svc.start()
    log.info("ingest started", validator=svc.validator is not None, publishers=len(svc.publishers.keyring()))
    try:
        yield
    finally:
        await svc.stop()


def create_app(svc: IngestService) -> FastAPI:
    """The HTTP app of ``svc``: the routers, the request metrics, the JSON errors, /docs and /redoc."""
    app = FastAPI(
        # The routers' routes themselves, not include_router: FastAPI (0.163) resolves an included router
        # on every request, ~10 us more per request (a single-event POST costs ~300 us in all). The
        # routes are the routers' own, so app.dependency_overrides does not reach them (nothing uses it).
        routes=[route for router in ROUTERS for route in router.routes],
        title="Pantau ingest API",
        version="1",
        description=(
            "Indicator events from publishing systems. A 2xx means the broker acknowledged the written events "
            "(acks=all). Errors are JSON with a stable code. See docs/ingest.md."
        ),
        lifespan=lifespan,
        docs_url=None,  # served by add_docs, without CDNs
        redoc_url=None,
        exception_handlers={
            ApiError: on_api_error,
            StarletteHTTPException: on_http_error,
            RequestValidationError: on_invalid_request,
        },
    )
    add_docs(app)
    app.add_middleware(MetricsMiddleware, metrics=svc.metrics)
    app.state.service = svc
    app.openapi = lambda: openapi(app, svc)  # type: ignore[method-assign]
    return app


def openapi(app: FastAPI, svc: IngestService) -> dict[str, Any]:
    """The app's OpenAPI document, made once: the routes', with the limits and request schemas of ``svc``."""
    if app.openapi_schema is None:
        s, rules = svc.settings, svc.rules
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        app.openapi_schema = with_limits(doc, rules.framework, rules.registry, max_batch=s.max_batch,
                                         max_future=duration(s.max_future), max_age=duration(s.max_age))  # fmt: skip
    return app.openapi_schema
