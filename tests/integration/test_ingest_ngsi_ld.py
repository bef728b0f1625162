"""POST /v1/ngsi-ld/notify end to end: notifications as an Orion-LD subscription sends them (written from
the NGSI-LD spec, ETSI GS CIM 009: a Notification with ``id``, ``type``, ``subscriptionId``, ``notifiedAt``
and ``data``), on the real broker, with the ingest service on a free port.

Two subscriptions: one ``normalized`` delivered as ``application/json`` with the ``@context`` in a Link
header, one ``keyValues`` delivered as ``application/ld+json`` with the ``@context`` in the body. The
first notification carries two good entities and two bad ones.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from schemas.dlq import read_headers
from schemas.events import IndicatorEvent
from tests.integration.helpers import metric, read_all, wait_for
from tests.integration.test_ingest_support import Answer, Ingest, StartIngest, request, start_ingest, wait_ready

__all__ = ["start_ingest"]

CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
SDM = "https://raw.githubusercontent.com/smart-data-models/dataModel.KeyPerformanceIndicator/master/context.jsonld"
LINK = f'<{SDM}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
WIB = timedelta(hours=7)


def _post(ing: Ingest, body: dict[str, Any], key: str, media: str, headers: dict[str, str] | None = None) -> Answer:
    h = {"Content-Type": media, "Authorization": f"Bearer {key}", **(headers or {})}
    return request("POST", ing.url + "/v1/ngsi-ld/notify", json.dumps(body).encode(), h)


def _normalised(n: str, indicator: str, region: str, value: float, observed: str, unit_code: str | None) -> dict:
    kpi: dict[str, Any] = {"type": "Property", "value": value, "observedAt": observed}
    if unit_code:
        kpi["unitCode"] = unit_code
    return {
        "id": f"urn:ngsi-ld:KeyPerformanceIndicator:{n}",
        "type": "KeyPerformanceIndicator",
        "name": {"type": "Property", "value": indicator},
        "area": {"type": "Property", "value": region},
        "kpiValue": kpi,
        "provider": {"type": "Property", "value": "orion-ld-bandung"},
        "description": {"type": "Property", "value": "Pantau KPI"},
        "modifiedAt": observed,
    }


def test_orion_ld_notifications_write_the_good_entities_and_dead_letter_the_bad_ones(start_ingest: StartIngest) -> None:
    # Every indicator: an id the framework lacks is then a bad entity, not one outside the scope (403).
    ing = start_ingest({"bandung-fiware": {"regions": ["32.73"], "provinces": ["33"], "indicators": ["*"]}})
    wait_ready(ing)
    key = ing.keys["bandung-fiware"]
    now = datetime.now(UTC).replace(microsecond=0)
    observed = (now - timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    tag = uuid.uuid4().hex[:8]
    first = {
        "id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}",
        "type": "Notification",
        "subscriptionId": "urn:ngsi-ld:Subscription:pantau-kpi-normalized",
        "notifiedAt": now.isoformat().replace("+00:00", ".000Z"),
        "data": [
            _normalised(f"{tag}-pm25", "ENV_PM25", "32.73", 21.5, observed, "GQ"),
            _normalised(f"{tag}-ipm", "IPM", "33.74", 80.25, observed, None),  # no unitCode: the indicator's unit
            _normalised(f"{tag}-noise", "ENV_NOISE_DB", "32.73", 55.0, observed, None),  # not an indicator id
            _normalised(f"{tag}-pm25-bad", "ENV_PM25", "32.73", 5000.0, observed, "GQ"),  # beyond physical bounds
        ],
    }
    got = _post(ing, first, key, "application/json", {"Link": LINK, "Ngsild-Attribute-Format": "Normalized"})
    assert got.status == 207, got.body
    assert [(r["index"], r["status"], r["reason"]) for r in got.body["results"]] == [
        (0, "accepted", None), (1, "accepted", None),
        (2, "dead_lettered", "unknown_indicator"), (3, "dead_lettered", "out_of_bounds"),
    ]  # fmt: skip
    assert (got.body["accepted"], got.body["dead_lettered"]) == (2, 2)
    assert got.body["error"]["code"] == "entities_dead_lettered"
    assert got.body["results"][2]["errors"][0] == {
        "code": "unknown_indicator", "field": "name",
        "message": "'ENV_NOISE_DB' is not an indicator id of the framework",
    }  # fmt: skip

    # keyValues, @context in the body: yesterday's daily KPI for Bandung, a date of Bandung's own (WIB).
    yesterday = ((now + WIB).date() - timedelta(days=1)).isoformat()
    second = {
        "@context": [SDM, CORE],
        "id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}",
        "type": "Notification",
        "subscriptionId": "urn:ngsi-ld:Subscription:pantau-kpi-keyvalues",
        "notifiedAt": now.isoformat(),
        "data": [{"id": f"urn:ngsi-ld:KeyPerformanceIndicator:{tag}-daily", "type": "KeyPerformanceIndicator",
                  "name": "ENV_PM25", "area": "32.73", "kpiValue": 30.0, "organization": "DLH Kota Bandung",
                  "calculationPeriod": {"from": yesterday, "to": yesterday}}],
    }  # fmt: skip
    kv = _post(ing, second, key, "application/ld+json")
    assert kv.status == 200 and kv.body["accepted"] == 1, kv.body

    events = wait_for("3 events", lambda: (r := ing.events()) and len(r) >= 3 and r, timeout=30)
    by_entity = {IndicatorEvent.model_validate_json(r.value).attributes["ngsi-ld.id"]: r for r in events}
    assert len(events) == 3
    pm25 = IndicatorEvent.model_validate_json(by_entity[f"urn:ngsi-ld:KeyPerformanceIndicator:{tag}-pm25"].value)
    assert (pm25.region_code, pm25.value, pm25.unit, pm25.publisher, pm25.source) == (
        "32.73", 21.5, "ug/m3", "bandung-fiware", "orion-ld-bandung")  # fmt: skip
    assert pm25.observed_at == now - timedelta(minutes=10)
    assert pm25.attributes["ngsi-ld.subscription"] == "urn:ngsi-ld:Subscription:pantau-kpi-normalized"
    ipm_rec = by_entity[f"urn:ngsi-ld:KeyPerformanceIndicator:{tag}-ipm"]
    ipm = IndicatorEvent.model_validate_json(ipm_rec.value)
    assert (ipm_rec.key, ipm.unit, ipm.value) == (b"33.74", "index 0-100", 80.25)
    daily = IndicatorEvent.model_validate_json(by_entity[f"urn:ngsi-ld:KeyPerformanceIndicator:{tag}-daily"].value)
    assert daily.observed_at.isoformat() == f"{yesterday}T00:00:00+07:00" and daily.source == "DLH Kota Bandung"

    dead = wait_for("1 dead letter", lambda: read_all(ing.bootstrap, ing.topic("indicator-events.dlq")), timeout=30)
    assert len(dead) == 1 and orjson.loads(dead[0].value) == first and dead[0].key is None
    h = read_headers(dead[0].headers)
    assert h["pantau.dlq.reason"] == "unknown_indicator" and h["pantau.dlq.publisher"] == "bandung-fiware"
    assert h["pantau.dlq.source.topic"] == "http:POST /v1/ngsi-ld/notify"
    assert h["pantau.dlq.detail"].startswith("entity[2] name: 'ENV_NOISE_DB' is not an indicator id")
    assert " | entity[3] value: 5000.0 is outside ENV_PM25's bounds" in h["pantau.dlq.detail"]

    # The broker sends the first notification again (a retry, or the same state notified twice).
    again = _post(ing, first, key, "application/json", {"Link": LINK})
    assert again.status == 207
    assert [r["status"] for r in again.body["results"]] == ["duplicate", "duplicate", "dead_lettered", "dead_lettered"]
    wait_for("a second dead letter", lambda: len(read_all(ing.bootstrap, ing.topic("indicator-events.dlq"))) == 2)
    assert len(ing.events()) == 3

    # An entity of a region outside the key's scope refuses the notification: nothing written.
    foreign = {**first, "data": [_normalised(f"{tag}-sby", "ENV_PM25", "35.78", 10.0, observed, "GQ")]}
    refused = _post(ing, foreign, key, "application/json")
    assert refused.status == 403 and refused.body["results"][0]["errors"][0]["code"] == "out_of_scope"
    assert len(ing.events()) == 3

    text = ing.metrics()
    assert metric(text, "pantau_ingest_messages_invalid_total", reason="unknown_indicator") == 2
    assert metric(text, "pantau_ingest_events_accepted_total", source="http") == 3
    assert metric(text, "pantau_ingest_requests_total", route="/v1/ngsi-ld/notify", method="POST", status="207") == 2
