"""The ingest HTTP app in memory (httpx's ASGI transport), Kafka replaced by a stand-in writer.

What answers say back (never more than a bounded prefix of the input), what the OpenAPI document
declares (the time window, the NGSI-LD door), and the NGSI-LD door's answers.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from schemas.framework import load_framework
from schemas.regions import default_registry
from services.ingest.bootstrap import build_service
from services.ingest.config import IngestSettings
from services.ingest.domain.auth import make_scope
from services.ingest.publishers import add_publisher
from services.ingest.service import IngestService
from services.ingest.web import create_app
from tests.builders import a_kpi_entity, an_event_doc
from tests.unit.test_ingest_auth import RecordingWriter

BIG = 900_000  # characters: what the issue sent back and got echoed whole


class Api:
    def __init__(self, tmp_path: Path) -> None:
        pub_file = tmp_path / "publishers.yaml"
        scope = make_scope(regions=["32.73"], indicators=["*"], registry=default_registry(), framework=load_framework())
        _pub, self.key = add_publisher(pub_file, "bandung", "Bandung", scope)
        self.svc: IngestService = build_service(IngestSettings(publishers_file=pub_file, validator=False))
        self.writer = RecordingWriter()
        self.svc.intake.writer = self.writer
        self.app = create_app(self.svc)

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json",
                key: str | None = None) -> httpx.Response:  # fmt: skip
        headers = {"Content-Type": content_type, "Authorization": f"Bearer {key or self.key}"}

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as c:
                return await c.request(method, path, content=body, headers=headers)

        return asyncio.run(go())

    def post(self, path: str, doc: Any, content_type: str = "application/json") -> httpx.Response:
        return self.request("POST", path, orjson.dumps(doc), content_type)


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return Api(tmp_path)


def _doc(**overrides: object) -> dict:
    return an_event_doc(**{"event_id": str(uuid.uuid4()), "observed_at": datetime.now(UTC).isoformat(), **overrides})


def test_a_huge_event_id_is_echoed_as_a_bounded_prefix(api: Api) -> None:
    r = api.post("/v1/events", _doc(event_id="x" * BIG))
    assert r.status_code == 422 and len(r.content) < 2_000
    item = r.json()["results"][0]
    assert item["event_id"] == "x" * 64 + f"... ({BIG} characters)"
    assert item["errors"][0]["field"] == "event_id" and item["errors"][0]["code"] == "invalid_value"


def test_a_huge_attribute_key_is_echoed_as_a_bounded_prefix(api: Api) -> None:
    r = api.post("/v1/events", _doc(attributes={"k" * BIG: "v"}))
    assert r.status_code == 422 and len(r.content) < 2_000
    # pydantic names a bad key 'attributes.<key>.[key]': 11 + 900,000 + 6 characters.
    (field,) = {e["field"] for e in r.json()["results"][0]["errors"]}
    assert field == "attributes." + "k" * 109 + f"... ({BIG + 17} characters)"


def test_a_huge_region_out_of_scope_is_echoed_as_a_bounded_prefix(api: Api) -> None:
    r = api.post("/v1/events", _doc(region_code="9" * BIG))
    assert r.status_code == 403 and len(r.content) < 2_000
    assert r.json()["error"]["message"].endswith(f"... ({BIG + 2} characters); nothing was written")


def test_the_openapi_document_declares_the_time_window_and_the_notify_door(api: Api) -> None:
    doc = api.request("GET", "/openapi.json").json()
    observed = doc["components"]["schemas"]["IndicatorEventIn"]["properties"]["observed_at"]
    assert observed["x-pantau-window"] == {"max_future": "PT5M", "max_age": "P3650D"}
    events_422 = doc["paths"]["/v1/events"]["post"]["responses"]["422"]["description"]
    assert "observed_in_future: more than PT5M ahead" in events_422 and "observed_too_old" in events_422
    notify = doc["paths"]["/v1/ngsi-ld/notify"]["post"]
    assert sorted(notify["requestBody"]["content"]) == ["application/json", "application/ld+json"]
    assert sorted(notify["responses"]) == ["200", "207", "401", "403", "413", "415", "422", "429", "503"]
    entity = doc["components"]["schemas"]["NgsiLdNotification"]["properties"]["data"]["items"]
    assert entity["properties"]["kpiValue"]["properties"]["observedAt"]["x-pantau-window"]["max_age"] == "P3650D"
    assert len(entity["oneOf"]) == len(load_framework().indicators)


def _notification(*entities: dict, context: bool = False) -> dict:
    doc = {"id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}", "type": "Notification",
           "subscriptionId": "urn:ngsi-ld:Subscription:pantau", "notifiedAt": datetime.now(UTC).isoformat(),
           "data": list(entities)}  # fmt: skip
    if context:
        doc["@context"] = ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"]
    return doc


def _kpi(value: float, **overrides: object) -> dict:
    now = datetime.now(UTC).isoformat()
    return a_kpi_entity(**{"id": f"urn:ngsi-ld:KeyPerformanceIndicator:{uuid.uuid4()}",
                           "kpiValue": {"type": "Property", "value": value, "unitCode": "GQ", "observedAt": now},
                           **overrides})  # fmt: skip


@pytest.mark.parametrize("media", ["application/json", "application/ld+json; charset=utf-8"])
def test_notify_writes_the_good_entities_and_says_which_were_dead_lettered(api: Api, media: str) -> None:
    bad = _kpi(5.0, name={"type": "Property", "value": "NOPE"})
    r = api.post("/v1/ngsi-ld/notify", _notification(_kpi(10.0), bad, context=media.startswith("application/ld")),
                 content_type=media)  # fmt: skip
    assert r.status_code == 207, r.json()
    body = r.json()
    assert (body["accepted"], body["dead_lettered"], body["duplicates"], body["unavailable"]) == (1, 1, 0, 0)
    assert [(x["status"], x["reason"]) for x in body["results"]] == [("accepted", None),
                                                                    ("dead_lettered", "unknown_indicator")]  # fmt: skip
    assert body["results"][1]["entity_id"] == bad["id"] and body["results"][1]["event_id"] is None
    assert body["error"]["code"] == "entities_dead_lettered"
    assert [r.topic for r in api.writer.records] == ["indicator-events", "indicator-events.dlq"]


def test_notify_answers_what_is_wrong_with_the_request(api: Api) -> None:
    wrong_type = api.request("POST", "/v1/ngsi-ld/notify", b"{}", "text/plain")
    assert wrong_type.status_code == 415 and wrong_type.json()["error"]["field"] == "Content-Type"
    not_json = api.request("POST", "/v1/ngsi-ld/notify", b"{nope")
    assert not_json.status_code == 422 and not_json.json()["error"]["code"] == "invalid_json"
    entity = api.post("/v1/ngsi-ld/notify", _kpi(1.0))  # an entity, not a Notification
    assert entity.status_code == 422 and entity.json()["error"] == {
        "code": "ngsi_ld_invalid",
        "field": "type",
        "message": 'expected an NGSI-LD Notification: {"type": "Notification", "data": [entity, ...]}',
    }
    empty = api.post("/v1/ngsi-ld/notify", _notification())
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "data"
    out = api.post("/v1/ngsi-ld/notify", _notification(_kpi(1.0, area={"type": "Property", "value": "35.78"})))
    assert out.status_code == 403 and out.json()["results"][0]["errors"][0]["code"] == "out_of_scope"
    assert (out.json()["dead_lettered"], out.json()["results"][0]["status"]) == (0, "rejected")
    assert api.writer.records == []


def test_notify_of_key_values_entities_is_200(api: Api) -> None:
    kv = {"id": "urn:ngsi-ld:KeyPerformanceIndicator:kv", "type": "KeyPerformanceIndicator", "name": "ENV_PM25",
          "area": "32.73", "kpiValue": 14.0, "modifiedAt": datetime.now(UTC).isoformat()}  # fmt: skip
    r = api.post("/v1/ngsi-ld/notify", _notification(kv))
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert orjson.loads(api.writer.records[0].value)["unit"] == "ug/m3"  # the indicator's own, none stated
