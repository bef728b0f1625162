"""How ingest is put together: the service's life, the app's document per settings, answers as documented.

The routers are module-level and shared by every app, so what the document says of the settings is
per app; each answer of a POST is the typed dict its route documents (responses.py), key for key.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args, get_type_hints

import orjson
import pytest
from pydantic import TypeAdapter, ValidationError

from services.ingest import web
from services.ingest.bootstrap import build_service
from services.ingest.config import IngestSettings
from services.ingest.responses import ErrorBody, IngestReport, NotifyReport
from services.ingest.service import IngestService
from services.runtime.errors import ProcessingStopped
from tests.builders import a_kpi_entity, an_event_doc
from tests.unit.test_ingest_api import Api


def _doc(app_settings: IngestSettings) -> dict[str, Any]:
    return web.create_app(build_service(app_settings)).openapi()


def test_each_app_documents_its_own_limits(tmp_path: Path) -> None:
    small = IngestSettings(publishers_file=tmp_path / "p.yaml", validator=False, max_batch=7, rate_limit="100/second",
                           max_future=timedelta(minutes=10), max_age=timedelta(days=2))  # fmt: skip
    default = IngestSettings(publishers_file=tmp_path / "p.yaml", validator=False)
    docs = {"small": _doc(small), "default": _doc(default)}
    for name, batch, future, age in (("small", 7, "PT10M", "P2D"), ("default", 500, "PT5M", "P3650D")):
        paths = docs[name]["paths"]
        events = paths["/v1/events"]["post"]
        assert events["requestBody"]["content"]["application/json"]["schema"]["oneOf"][1]["maxItems"] == batch
        ndjson = paths["/v1/events/ndjson"]["post"]
        assert ndjson["requestBody"]["content"]["application/x-ndjson"]["schema"]["maxItems"] == batch
        for op in (events, ndjson):
            assert f"more than {future} ahead of arrival" in op["responses"]["422"]["description"]
            assert f"more than {age} before it" in op["responses"]["422"]["description"]
        window = docs[name]["components"]["schemas"]["IndicatorEventIn"]["properties"]["observed_at"]
        assert window["x-pantau-window"] == {"max_future": future, "max_age": age}
    assert "{max_future}" in web.EVENTS_RESPONSES[422]["description"]  # the shared declaration stays a template


def _now_doc(**overrides: object) -> dict[str, Any]:
    return an_event_doc(**{"event_id": str(uuid.uuid4()), "observed_at": datetime.now(UTC).isoformat(), **overrides})


def _kpi(value: float, **overrides: object) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return a_kpi_entity(**{"id": f"urn:ngsi-ld:KeyPerformanceIndicator:{uuid.uuid4()}",
                           "kpiValue": {"type": "Property", "value": value, "unitCode": "GQ", "observedAt": now},
                           **overrides})  # fmt: skip


def _note(*entities: dict[str, Any]) -> dict[str, Any]:
    return {"id": "urn:ngsi-ld:Notification:1", "type": "Notification", "data": list(entities)}


BAD_NAME = {"type": "Property", "value": "NOPE"}
CASES: list[tuple[str, bytes, int, Any]] = [
    ("/v1/events", orjson.dumps(_now_doc()), 200, IngestReport),
    ("/v1/events", orjson.dumps([_now_doc(), _now_doc(value=-1.0)]), 207, IngestReport),
    ("/v1/events", orjson.dumps(_now_doc(region_code="35.78")), 403, IngestReport),
    ("/v1/events", b"{nope", 422, IngestReport),
    ("/v1/events", b"[]", 422, IngestReport),
    ("/v1/events/ndjson", b"{nope\n" + orjson.dumps(_now_doc()), 207, IngestReport),
    ("/v1/ngsi-ld/notify", orjson.dumps(_note(_kpi(1.0), _kpi(2.0, name=BAD_NAME))), 207, NotifyReport),
    ("/v1/ngsi-ld/notify", orjson.dumps(_note(_kpi(1.0, area={"type": "Property", "value": "35.78"}))), 403,
     NotifyReport),
    ("/v1/ngsi-ld/notify", orjson.dumps(_kpi(1.0)), 422, NotifyReport),
    ("/nope", b"", 404, ErrorBody),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "status", "kind"), CASES)
def test_every_answer_is_the_type_its_route_documents(api: Api, path: str, body: bytes, status: int, kind: Any) -> None:
    r = api.request("POST", path, body)
    assert r.status_code == status, r.text
    answer = r.json()
    TypeAdapter(kind).validate_python(answer, strict=True)  # extra="forbid": no key the type does not name
    assert list(answer) == list(kind.__annotations__)  # every key, in the documented order
    if "results" in answer:
        (item_kind,) = get_args(get_type_hints(kind)["results"])
        assert all(list(item) == list(item_kind.__annotations__) for item in answer["results"])


def test_an_answer_with_a_key_the_type_does_not_name_is_not_that_type() -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(ErrorBody).validate_python({"error": {"code": "x", "message": "y", "field": None, "more": 1}})


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return Api(tmp_path)


class StandInWriter:
    def __init__(self) -> None:
        self.started = self.stopped = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True


class FailingLoop:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    async def run(self) -> None:
        await asyncio.sleep(0)
        raise self.exc


def _service(tmp_path: Path, exc: BaseException) -> tuple[IngestService, StandInWriter, list[BaseException]]:
    svc = build_service(IngestSettings(publishers_file=tmp_path / "p.yaml", validator=False))
    writer, stopped = StandInWriter(), []
    svc.writer, svc.validator = writer, FailingLoop(exc)  # type: ignore[assignment]
    svc.on_validator_stopped = stopped.append
    return svc, writer, stopped


async def _run(svc: IngestService) -> None:
    await svc.start()
    for _ in range(5):
        await asyncio.sleep(0)
    await svc.stop()


def test_a_validator_stopped_by_the_crash_policy_ends_the_service(tmp_path: Path) -> None:
    exc = ProcessingStopped("raw[0]@8: ValueError('a bug')")
    svc, writer, stopped = _service(tmp_path, exc)
    asyncio.run(_run(svc))
    assert stopped == [exc] and svc.validator_error is exc
    assert writer.started and writer.stopped


def test_any_other_failure_of_the_validator_does_not_end_the_service(tmp_path: Path) -> None:
    svc, writer, stopped = _service(tmp_path, RuntimeError("a bug in the loop"))
    asyncio.run(_run(svc))
    assert stopped == [] and svc.validator_error is None
    assert writer.started and writer.stopped
