"""The API's response bodies, each defined once: the types the OpenAPI document is made of and the routes send.

Two kinds. The answers to a POST (``IngestReport``, ``NotifyReport``, ``ErrorBody`` and their parts)
are typed dicts: one entry per item of a batch of up to ``max_batch``, so they are built as dict
literals (checked against these types by mypy) and written by orjson, at no cost per item beyond the
dict itself. The answers of the GET routes (``RegionsView``, ``FrameworkView``, ``Readiness``) are
pydantic models, returned as such and serialised by FastAPI. Pydantic makes the JSON Schema of both
(``extra="forbid"``: ``additionalProperties: false``); a key the schema does not name is a type error.

Answers never repeat more than a bounded prefix of what the client sent (``clip``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, NotRequired

from pydantic import BaseModel, ConfigDict, Field, with_config
from typing_extensions import TypedDict

from schemas.framework import Indicator
from schemas.regions import Region
from schemas.validation import Problem
from services.ingest.domain.intake import ItemResult, Status, clip

FORBID = ConfigDict(extra="forbid")

# ------------------------------------------------------------------------------------ POST answers


@with_config(FORBID)
class ErrorDetail(TypedDict):
    code: Annotated[str, Field(description="Stable machine-readable code.")]
    message: Annotated[str, Field(description="What is wrong, in English.")]
    field: NotRequired[Annotated[str | None, Field(description="The field at fault, when there is one.")]]


@with_config(FORBID)
class ErrorBody(TypedDict):
    error: ErrorDetail


@with_config(FORBID)
class ItemError(TypedDict):
    code: str
    field: str
    message: str


@with_config(FORBID)
class ItemOutcome(TypedDict):
    index: Annotated[
        int, Field(description="Position of the item in the request (0 for a single event; line order for NDJSON).")
    ]
    event_id: str | None
    status: Annotated[str, Field(description="accepted | duplicate | rejected | unavailable")]
    errors: NotRequired[list[ItemError]]


@with_config(FORBID)
class IngestReport(TypedDict):
    accepted: Annotated[int, Field(description="Items written (the broker acknowledged them).")]
    duplicates: Annotated[
        int, Field(description="Items whose event_id this key wrote recently for the region: not written again.")
    ]
    rejected: int
    unavailable: Annotated[
        int, Field(description="Valid items not written because Kafka did not acknowledge: send again.")
    ]
    results: list[ItemOutcome]
    error: NotRequired[ErrorDetail | None]


@with_config(FORBID)
class EntityOutcome(TypedDict):
    index: Annotated[int, Field(description="Position of the entity in the notification's data.")]
    entity_id: str | None
    event_id: Annotated[str | None, Field(description="The event the entity became (derived from id, time and value).")]
    status: Annotated[
        str,
        Field(
            description="accepted | duplicate | dead_lettered | unavailable | rejected (403: outside the key's scope)"
        ),
    ]
    reason: Annotated[
        str | None, Field(description="Dead-letter reason (pantau.dlq.reason) of a dead-lettered entity.")
    ]
    errors: NotRequired[list[ItemError]]


@with_config(FORBID)
class NotifyReport(TypedDict):
    accepted: Annotated[int, Field(description="Entities written as events (the broker acknowledged them).")]
    duplicates: Annotated[int, Field(description="Entities this key wrote recently (same entity, time and value).")]
    dead_lettered: Annotated[
        int, Field(description="Entities refused and written to indicator-events.dlq with their reason.")
    ]
    unavailable: Annotated[
        int, Field(description="Entities not written because Kafka did not acknowledge: send again.")
    ]
    results: list[EntityOutcome]
    error: NotRequired[ErrorDetail | None]


def detail(code: str, message: str, field: str | None = None) -> ErrorDetail:
    return {"code": code, "message": clip(message, 400), "field": None if field is None else clip(field)}


def error_body(code: str, message: str, field: str | None = None) -> ErrorBody:
    return {"error": detail(code, message, field)}


def ingest_report(sub_results: list[ItemResult], counts: dict[Status, int], error: ErrorDetail | None) -> IngestReport:
    """The answer to events (``counts``: the results by status)."""
    return {
        "accepted": counts[Status.ACCEPTED], "duplicates": counts[Status.DUPLICATE],
        "rejected": counts[Status.REJECTED], "unavailable": counts[Status.UNAVAILABLE],
        "results": [{"index": r.index, "event_id": _id(r.event_id), "status": r.status.value,
                     "errors": [_problem(p) for p in r.errors]} for r in sub_results],
        "error": error,
    }  # fmt: skip


def notify_report(sub_results: list[ItemResult], counts: dict[Status, int], error: ErrorDetail | None) -> NotifyReport:
    """The answer to a notification: its items are entities, the rejected ones dead-lettered (with a reason)."""
    return {
        "accepted": counts[Status.ACCEPTED], "duplicates": counts[Status.DUPLICATE],
        "dead_lettered": dead_lettered(sub_results), "unavailable": counts[Status.UNAVAILABLE],
        "results": [_entity_outcome(r) for r in sub_results], "error": error,
    }  # fmt: skip


def dead_lettered(results: list[ItemResult]) -> int:
    return sum(1 for r in results if r.status is Status.REJECTED and r.reason is not None)


def refused_events(error: ErrorDetail) -> IngestReport:
    """The answer to a request refused whole (not JSON, not a batch...): nothing looked at, nothing written."""
    return {"accepted": 0, "duplicates": 0, "rejected": 0, "unavailable": 0, "results": [], "error": error}


def refused_notification(error: ErrorDetail) -> NotifyReport:
    return {"accepted": 0, "duplicates": 0, "dead_lettered": 0, "unavailable": 0, "results": [], "error": error}


def _entity_outcome(r: ItemResult) -> EntityOutcome:
    status = "dead_lettered" if r.status is Status.REJECTED and r.reason is not None else r.status.value
    entity_id = None if r.entity_id is None else clip(r.entity_id, 256)
    return {"index": r.index, "entity_id": entity_id, "event_id": _id(r.event_id), "status": status,
            "reason": r.reason, "errors": [_problem(p) for p in r.errors]}  # fmt: skip


def _problem(p: Problem) -> ItemError:
    return {"code": p.code, "field": clip(p.field), "message": clip(p.message, 400)}


def _id(value: str | None) -> str | None:
    return None if value is None else clip(value, 64)


# ------------------------------------------------------------------------------------ GET answers


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


class RegionsView(BaseModel):
    registry: str
    regions: list[Region] = Field(description="The regions this key may send for.")


class Readiness(BaseModel):
    status: str
    kafka: bool
    reason: str | None = None


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
