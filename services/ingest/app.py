"""The ingest HTTP API (FastAPI): thin. Authentication, limits and rendering here; the work in handlers.py.

Order of the checks of a POST: API key (401), rate allowance left (429), body size (413), JSON and
batch shape (422), rate for the whole batch (429), scope of every item (403, nothing written),
validity of each item (per-item results), duplicates, then the write (503 if Kafka does not ack).
Answers never repeat more than a bounded prefix of what the client sent (``clip``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from schemas.framework import Indicator, load_framework
from schemas.reasons import INVALID_VALUE, NGSI_LD_INVALID
from schemas.regions import Region, default_registry
from schemas.validation import Problem
from services.ingest.config import IngestSettings
from services.ingest.consumer import ValidatorLoop
from services.ingest.docs import add_docs
from services.ingest.domain.auth import Publisher
from services.ingest.domain.dedupe import RecentIds
from services.ingest.domain.intake import ItemResult, Rules, Status, Undecodable, clip
from services.ingest.domain.ngsi_ld import is_notification
from services.ingest.handlers import Intake, RawValidator, Submission
from services.ingest.http_guard import REQUEST_TIMEOUT
from services.ingest.metrics import IngestMetrics
from services.ingest.openapi import (
    EVENT_IN,
    NGSI_LD_MEDIA,
    NOTIFICATION,
    event_in_schema,
    events_body,
    ndjson_body,
    notification_body,
    notification_schema,
)
from services.ingest.publishers import PublisherStore
from services.ingest.ratelimit import RateLimiter
from services.ingest.writer import KafkaWriter
from services.runtime import logs

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


# ------------------------------------------------------------------------------------ documented bodies


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(description="Stable machine-readable code.")
    message: str = Field(description="What is wrong, in English.")
    field: str | None = Field(default=None, description="The field at fault, when there is one.")


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    error: ErrorDetail


class ItemError(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    field: str
    message: str


class ItemOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    index: int = Field(description="Position of the item in the request (0 for a single event; line order for NDJSON).")
    event_id: str | None
    status: str = Field(description="accepted | duplicate | rejected | unavailable")
    errors: list[ItemError] = Field(default_factory=list)


class IngestReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accepted: int = Field(description="Items written (the broker acknowledged them).")
    duplicates: int = Field(
        description="Items whose event_id this key wrote recently for the region: not written again."
    )
    rejected: int
    unavailable: int = Field(description="Valid items not written because Kafka did not acknowledge: send again.")
    results: list[ItemOutcome]
    error: ErrorDetail | None = None


class EntityOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    index: int = Field(description="Position of the entity in the notification's data.")
    entity_id: str | None
    event_id: str | None = Field(description="The event the entity became (derived from id, time and value).")
    status: str = Field(
        description="accepted | duplicate | dead_lettered | unavailable | rejected (403: outside the key's scope)"
    )
    reason: str | None = Field(description="Dead-letter reason (pantau.dlq.reason) of a dead-lettered entity.")
    errors: list[ItemError] = Field(default_factory=list)


class NotifyReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accepted: int = Field(description="Entities written as events (the broker acknowledged them).")
    duplicates: int = Field(description="Entities this key wrote recently (same entity, time and value).")
    dead_lettered: int = Field(description="Entities refused and written to indicator-events.dlq with their reason.")
    unavailable: int = Field(description="Entities not written because Kafka did not acknowledge: send again.")
    results: list[EntityOutcome]
    error: ErrorDetail | None = None


class Limits(BaseModel):
    max_batch: int
    max_body_bytes: int
    rate_limit: str = Field(description="Events per key, in the 'limits' notation (a batch of n costs n).")
    max_future: str = Field(description="How far observed_at may lie ahead of arrival (RFC 3339 duration).")
    max_age: str = Field(description="How far observed_at may lie before arrival (RFC 3339 duration).")


class Bounds(BaseModel):
    min: float
    max: float


class IndicatorView(BaseModel):
    """What a publisher needs to know of an indicator to send it."""

    id: str
    name: str
    name_id: str | None
    dimension: str
    element: str
    unit: str = Field(description="The only unit accepted.")
    bounds: Bounds = Field(description="Physically possible values; others are rejected (out_of_bounds).")
    direction: str
    kind: str
    aggregation: str
    window: str | None = Field(description="Aggregation window (RFC 3339 duration), none for 'latest'.")
    validity: str = Field(description="Age after which a reading is stale (RFC 3339 duration).")
    source: str

    @classmethod
    def of(cls, ind: Indicator) -> IndicatorView:
        w = ind.aggregation.window
        return cls(id=ind.id, name=ind.name, name_id=ind.name_id, dimension=ind.dimension, element=ind.element,
                   unit=ind.unit, bounds=Bounds(min=ind.bounds.min, max=ind.bounds.max), direction=ind.direction.value,
                   kind=ind.kind, aggregation=ind.aggregation.method, window=None if w is None else duration(w),
                   validity=duration(ind.validity), source=ind.source)  # fmt: skip


class FrameworkView(BaseModel):
    framework: str = Field(description="id@version of the framework events are checked against.")
    indicators: list[IndicatorView] = Field(description="The indicators this key may send.")
    limits: Limits


def duration(d: timedelta) -> str:
    """An RFC 3339 duration in days, hours, minutes and seconds (never years or months, which vary)."""
    days, rest = divmod(int(d.total_seconds()), 86_400)
    h, rest = divmod(rest, 3_600)
    m, sec = divmod(rest, 60)
    clock = ""
    if h:
        clock = f"{h}H" + (f"{m}M" if m or sec else "") + (f"{sec}S" if sec else "")
    elif m:
        clock = f"{m}M" + (f"{sec}S" if sec else "")
    elif sec:
        clock = f"{sec}S"
    text = "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "")
    return text if text != "P" else "PT0S"


class RegionsView(BaseModel):
    registry: str
    regions: list[Region] = Field(description="The regions this key may send for.")


class Readiness(BaseModel):
    status: str
    kafka: bool
    reason: str | None = None


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.headers = status, code, message, field, headers or {}


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _error(status: int, code: str, message: str, field: str | None = None,
           headers: dict[str, str] | None = None) -> Response:  # fmt: skip
    return _json(status, {"error": _detail(code, message, field)}, headers)


def _detail(code: str, message: str, field: str | None) -> dict[str, str | None]:
    return {"code": code, "message": clip(message, 400), "field": None if field is None else clip(field)}


def _problem(p: Problem) -> dict[str, str]:
    return {"code": p.code, "field": clip(p.field), "message": clip(p.message, 400)}


def _id(value: str | None) -> str | None:
    return None if value is None else clip(value, 64)


def render(sub: Submission, retry_after: int, *, ngsi_ld: bool = False) -> Response:
    """The JSON answer to a submission: counts, per-item results, and the whole-request error if any.

    ``ngsi_ld``: the answer to a notification, whose items are entities (rejected ones dead-lettered).
    """
    counts = {s: sub.count(s) for s in Status}
    if ngsi_ld:
        body: dict[str, Any] = {
            "accepted": counts[Status.ACCEPTED], "duplicates": counts[Status.DUPLICATE],
            "dead_lettered": sum(1 for r in sub.results if r.status is Status.REJECTED and r.reason is not None),
            "unavailable": counts[Status.UNAVAILABLE],
            "results": [_entity_outcome(r) for r in sub.results], "error": None,
        }  # fmt: skip
    else:
        body = {
            "accepted": counts[Status.ACCEPTED], "duplicates": counts[Status.DUPLICATE],
            "rejected": counts[Status.REJECTED], "unavailable": counts[Status.UNAVAILABLE],
            "results": [{"index": r.index, "event_id": _id(r.event_id), "status": r.status.value,
                         "errors": [_problem(p) for p in r.errors]} for r in sub.results],
            "error": None,
        }  # fmt: skip
    status, headers = sub.http_status, None
    if status == 403:
        first = sub.results[0].errors[0]
        body["error"] = _detail(OUT_OF_SCOPE, f"{first.message}; nothing was written", first.field)
    elif status == 503:
        body["error"] = _detail(KAFKA_UNAVAILABLE, "Kafka did not acknowledge; items marked 'unavailable' were not "
                                "written, send them again", None)  # fmt: skip
        headers = {"Retry-After": str(retry_after)}
    elif status in (207, 422) and ngsi_ld:
        rest = "nothing else was written" if status == 422 else "the others were written"
        body["error"] = _detail(ENTITIES_DEAD_LETTERED, f"{counts[Status.REJECTED]} of {len(sub.results)} entities "
                                f"dead-lettered to indicator-events.dlq (see results); {rest}", None)  # fmt: skip
    elif status in (207, 422):
        body["error"] = _detail(ITEMS_REJECTED, f"{counts[Status.REJECTED]} of {len(sub.results)} item(s) rejected; "
                                "see results", None)  # fmt: skip
    return _json(status, body, headers)


def _entity_outcome(r: ItemResult) -> dict[str, Any]:
    status = "dead_lettered" if r.status is Status.REJECTED and r.reason is not None else r.status.value
    entity_id = None if r.entity_id is None else clip(r.entity_id, 256)
    return {"index": r.index, "entity_id": entity_id, "event_id": _id(r.event_id), "status": status,
            "reason": r.reason, "errors": [_problem(p) for p in r.errors]}  # fmt: skip


# ------------------------------------------------------------------------------------ the service


@dataclass
class IngestService:
    settings: IngestSettings
    metrics: IngestMetrics
    rules: Rules
    writer: KafkaWriter
    intake: Intake
    publishers: PublisherStore
    limiter: RateLimiter
    validator: ValidatorLoop | None


def build_service(settings: IngestSettings, metrics: IngestMetrics | None = None) -> IngestService:
    metrics = metrics or IngestMetrics()
    framework = load_framework(settings.framework_file)
    rules = Rules(default_registry(), framework, settings.time_limits)
    out_topic, dlq_topic = settings.topic("indicator-events"), settings.topic("indicator-events.dlq")
    writer = KafkaWriter(settings.bootstrap_servers, metrics, required_topics=(out_topic, dlq_topic),
                         timeout=settings.produce_timeout, probe_interval=settings.probe_interval,
                         linger_ms=settings.linger_ms)  # fmt: skip
    dedupe = RecentIds(settings.dedupe_capacity, settings.dedupe_window.total_seconds())
    intake = Intake(rules, writer, dedupe, metrics, topic=out_topic, dlq_topic=dlq_topic,
                    wait_timeout=settings.produce_timeout)  # fmt: skip
    validator = None
    if settings.validator:
        validator = ValidatorLoop(
            RawValidator(rules, dlq_topic=dlq_topic), writer, metrics, bootstrap=settings.bootstrap_servers,
            source_topic=settings.topic("indicator-events.raw"), output_topic=out_topic,
            group_id=settings.topic_prefix + settings.validator_group, max_records=settings.validator_max_records,
        )  # fmt: skip
    return IngestService(settings, metrics, rules, writer, intake, PublisherStore(settings.publishers_file),
                         RateLimiter(settings.rate_limit), validator)  # fmt: skip


class MetricsMiddleware:
    """Counts every request by route template, method and status, and times it (pure ASGI: cheap)."""

    def __init__(self, app: ASGIApp, metrics: IngestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:  # fmt: skip
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500

        async def send_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(path, scope["method"], str(status)).inc()
            self.metrics.request_duration.labels(path).observe(time.perf_counter() - t0)


BEARER = HTTPBearer(auto_error=False, description="The publisher's API key: 'Authorization: Bearer pk_...'.")


def authenticate(request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> Publisher:
    """The publisher whose API key the request carries (401 otherwise)."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if creds is None:
        raise ApiError(401, MISSING_API_KEY, "send the API key as 'Authorization: Bearer <key>'",
                       "Authorization", challenge)  # fmt: skip
    svc: IngestService = request.app.state.service
    pub = svc.publishers.keyring().authenticate(creds.credentials)
    if pub is None:
        raise ApiError(401, INVALID_API_KEY, "unknown or revoked API key", "Authorization", challenge)
    return pub


Auth = Annotated[Publisher, Depends(authenticate)]


def create_app(svc: IngestService) -> FastAPI:
    s = svc.settings

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await svc.writer.start()
        task = asyncio.create_task(svc.validator.run(), name="raw-validator") if svc.validator else None
        log.info("ingest started", validator=task is not None, publishers=len(svc.publishers.keyring()))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await svc.intake.close()
            await svc.writer.stop()

    app = FastAPI(
        title="Pantau ingest API",
        version="1",
        description=(
            "Indicator events from publishing systems. A 2xx means the broker acknowledged the written events "
            "(acks=all). Errors are JSON with a stable code. See docs/ingest.md."
        ),
        lifespan=lifespan,
        docs_url=None,  # served by add_docs, without CDNs
        redoc_url=None,
    )
    add_docs(app)
    app.add_middleware(MetricsMiddleware, metrics=svc.metrics)
    app.state.service = svc

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> Response:
        return _error(exc.status, exc.code, exc.message, exc.field, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, f"http_{exc.status_code}")
        return _error(exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        return _error(422, INVALID_VALUE, str(first["msg"]), ".".join(map(str, first["loc"])) or None)

    async def read_body(request: Request) -> bytes:
        limit = s.max_body_bytes
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

    def spend(pub: Publisher, cost: int) -> None:
        wait = svc.limiter.take(pub.key_id, cost) if cost else svc.limiter.exhausted(pub.key_id)
        if wait is not None:
            raise ApiError(429, RATE_LIMITED, f"rate limit {s.rate_limit} (events per key) reached; retry in "
                           f"{wait:.0f} s", headers={"Retry-After": str(int(wait))})  # fmt: skip

    def check_batch(items: list[Any]) -> None:
        if not items:
            raise ApiError(422, EMPTY_BATCH, "the batch is empty", "(body)")
        if len(items) > s.max_batch:
            raise ApiError(422, BATCH_TOO_LARGE, f"{len(items)} events in one request; at most {s.max_batch}", "(body)")

    retry_after = {
        "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
    }
    post_responses: dict[int | str, dict[str, Any]] = {
        200: {"model": IngestReport, "description": "Every item written, or a duplicate of one written recently."},
        207: {"model": IngestReport, "description": "Some items rejected (see results); the others were written."},
        401: {"model": ErrorBody, "description": "Missing or unknown API key."},
        403: {"model": IngestReport, "description": "An item is outside the key's scope: nothing was written."},
        413: {"model": ErrorBody, "description": "Body larger than the limit."},
        422: {"model": IngestReport, "description": "Nothing written: the body is not a batch, or every item is "
              "invalid (results name the field and the code), among them an observed_at outside the time window "
              f"(observed_in_future: more than {duration(s.max_future)} ahead of arrival; observed_too_old: more "
              f"than {duration(s.max_age)} before it; see x-pantau-window)."},
        429: {"model": ErrorBody, "description": "Rate limit of the key reached.", "headers": retry_after},
        503: {"model": IngestReport, "description": "Kafka did not acknowledge: items marked unavailable were not "
              "written.", "headers": retry_after},
    }  # fmt: skip

    async def submit(pub: Publisher, items: list[Any]) -> Response:
        """Check the batch's size, spend its cost of the key's rate, hand it to the intake, render the result."""
        try:
            check_batch(items)
        except ApiError as exc:
            return request_error(exc.status, exc.code, exc.message, exc.field or "(body)")
        spend(pub, len(items))
        sub = await svc.intake.submit(items, pub)
        if sub.http_status == 503:
            log.warning("kafka unavailable: answered 503", reason=svc.writer.why_not_ready, items=len(items))
        return render(sub, s.retry_after)

    def request_error(status: int, code: str, message: str, field: str) -> Response:
        body = {"accepted": 0, "duplicates": 0, "rejected": 0, "unavailable": 0, "results": [],
                "error": _detail(code, message, field)}  # fmt: skip
        return _json(status, body)

    @app.post("/v1/events", summary="Send one event or a batch", responses=post_responses, response_model=None,
              openapi_extra={"requestBody": events_body(s.max_batch)})  # fmt: skip
    async def post_events(request: Request, pub: Auth) -> Response:
        """Send one event (a JSON object) or a batch (a JSON array of up to the configured size)."""
        spend(pub, 0)
        body = await read_body(request)
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return request_error(422, INVALID_JSON, f"the body is not JSON: {exc}", "(body)")
        if isinstance(doc, dict):
            items: list[Any] = [doc]
        elif isinstance(doc, list):
            items = doc
        else:
            return request_error(422, INVALID_BODY, "the body must be an event (object) or a batch (array)", "(body)")
        return await submit(pub, items)

    @app.post("/v1/events/ndjson", summary="Send a batch as NDJSON", responses=post_responses, response_model=None,
              openapi_extra={"requestBody": ndjson_body(s.max_batch)})  # fmt: skip
    async def post_ndjson(request: Request, pub: Auth) -> Response:
        """Send events as newline-delimited JSON (``application/x-ndjson``): one event per line."""
        spend(pub, 0)
        body = await read_body(request)
        items: list[Any] = []
        for line in body.splitlines():
            if not line.strip():
                continue
            try:
                items.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                items.append(Undecodable(str(exc)))
        return await submit(pub, items)

    notify_responses: dict[int | str, dict[str, Any]] = {
        200: {"model": NotifyReport, "description": "Every entity written as an event, or a duplicate of one."},
        207: {"model": NotifyReport, "description": "Some entities dead-lettered with their reason (see results); "
              "the others were written."},
        401: {"model": ErrorBody, "description": "Missing or unknown API key."},
        403: {"model": NotifyReport, "description": "An entity is outside the key's scope: nothing was written."},
        413: {"model": ErrorBody, "description": "Body larger than the limit."},
        415: {"model": ErrorBody, "description": "Not application/json or application/ld+json."},
        422: {"model": NotifyReport, "description": "Not a Notification, or every entity dead-lettered (see results; "
              "an observedAt outside the window among the reasons: see x-pantau-window)."},
        429: {"model": ErrorBody, "description": "Rate limit of the key reached.", "headers": retry_after},
        503: {"model": NotifyReport, "description": "Kafka did not acknowledge: entities marked unavailable were "
              "not written (nor dead-lettered).", "headers": retry_after},
    }  # fmt: skip

    def notify_error(status: int, code: str, message: str, field: str) -> Response:
        body = {"accepted": 0, "duplicates": 0, "dead_lettered": 0, "unavailable": 0, "results": [],
                "error": _detail(code, message, field)}  # fmt: skip
        return _json(status, body)

    @app.post("/v1/ngsi-ld/notify", summary="Receive NGSI-LD notifications (an Orion-LD subscription's endpoint)",
              responses=notify_responses, response_model=None,
              openapi_extra={"requestBody": notification_body()})  # fmt: skip
    async def post_notify(request: Request, pub: Auth) -> Response:
        """A Notification of ``KeyPerformanceIndicator`` entities, as a context broker sends it (NGSI-LD).

        ``application/json`` or ``application/ld+json``, with or without ``@context``; entities
        normalised, concise or key-values. The good entities are written as events, the bad ones
        dead-lettered to ``indicator-events.dlq`` with their reason, and the answer lists each.
        """
        spend(pub, 0)
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media not in NGSI_LD_MEDIA:
            return _error(415, UNSUPPORTED_MEDIA_TYPE, f"send application/json or application/ld+json, not "
                          f"{media or 'no Content-Type'!r}", "Content-Type")  # fmt: skip
        body = await read_body(request)
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return notify_error(422, INVALID_JSON, f"the body is not JSON: {exc}", "(body)")
        if not is_notification(doc):
            return notify_error(422, NGSI_LD_INVALID, "expected an NGSI-LD Notification: "
                                '{"type": "Notification", "data": [entity, ...]}', "type")  # fmt: skip
        data = doc.get("data")
        if not isinstance(data, list) or not data:
            return notify_error(422, NGSI_LD_INVALID, "a Notification's data is a non-empty array of entities", "data")
        if len(data) > s.max_batch:
            return notify_error(422, BATCH_TOO_LARGE, f"{len(data)} entities in one notification; at most "
                                f"{s.max_batch}", "data")  # fmt: skip
        spend(pub, len(data))
        sub = await svc.intake.notify(doc, body, pub)
        if sub.http_status == 503:
            log.warning("kafka unavailable: answered 503", reason=svc.writer.why_not_ready, entities=len(data))
        return render(sub, s.retry_after, ngsi_ld=True)

    @app.get("/v1/regions", summary="The regions this key may send for", response_model=RegionsView,
             responses={401: {"model": ErrorBody}})  # fmt: skip
    async def get_regions(pub: Auth) -> RegionsView:
        reg = svc.rules.registry
        return RegionsView(registry=reg.version, regions=[r for r in reg.regions.values()
                                                          if pub.scope.allows_region(r.code)])  # fmt: skip

    @app.get("/v1/framework", summary="The indicators this key may send, with units, bounds and limits",
             response_model=FrameworkView, responses={401: {"model": ErrorBody}})  # fmt: skip
    async def get_framework(pub: Auth) -> FrameworkView:
        fw = svc.rules.framework
        return FrameworkView(
            framework=fw.key,
            indicators=[IndicatorView.of(i) for i in fw.indicators if pub.scope.allows_indicator(i.id)],
            limits=Limits(max_batch=s.max_batch, max_body_bytes=s.max_body_bytes, rate_limit=s.rate_limit,
                          max_future=duration(s.max_future), max_age=duration(s.max_age)),
        )  # fmt: skip

    @app.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Readiness: Kafka reachable and the topics there", response_model=Readiness,
             responses={503: {"model": Readiness, "description": "Kafka unreachable (or a topic missing).",
                              "headers": retry_after}})  # fmt: skip
    async def readyz() -> Response:
        w = svc.writer
        body = {"status": "ready" if w.ready else "not_ready", "kafka": w.ready, "reason": w.why_not_ready or None}
        return _json(200 if w.ready else 503, body, None if w.ready else {"Retry-After": str(s.retry_after)})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    event_schema = event_in_schema(svc.rules.framework, svc.rules.registry, max_future=duration(s.max_future),
                                   max_age=duration(s.max_age))  # fmt: skip
    note_schema = notification_schema(svc.rules.framework, svc.rules.registry, max_batch=s.max_batch,
                                      max_future=duration(s.max_future), max_age=duration(s.max_age))  # fmt: skip

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            schemas[EVENT_IN], schemas[NOTIFICATION] = event_schema, note_schema
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
