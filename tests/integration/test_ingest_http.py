"""The ingest HTTP API against the real broker: writes, duplicates, authorisation, limits, metrics."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import orjson

from schemas.events import IndicatorEvent
from schemas.regions import default_registry
from tests.builders import an_event_doc
from tests.integration.helpers import metric, wait_for
from tests.integration.test_ingest_support import StartIngest, start_ingest, wait_ready

__all__ = ["start_ingest"]  # the fixture, used by name

NOW = datetime.now(UTC).replace(microsecond=0)
REGIONS = sorted(default_registry().regions)
# Scopes of the test keys: one region, one province, explicit regions of another province.
SCOPES = {
    "kota-bandung": {"regions": ["32.73"], "indicators": ["ENV_PM25"]},
    "jateng": {"provinces": ["33"], "indicators": ["*"]},
    "dki-bps": {"regions": ["31.71", "31.72"], "indicators": ["IPM", "P0"]},
}
# An event each key may send (for the region part of the matrix: same indicator, every other region).
ALLOWED = {
    "kota-bandung": {"region_code": "32.73", "indicator_id": "ENV_PM25", "unit": "ug/m3", "value": 21.5},
    "jateng": {"region_code": "33.01", "indicator_id": "ENV_PM25", "unit": "ug/m3", "value": 30.0},
    "dki-bps": {"region_code": "31.71", "indicator_id": "IPM", "unit": "index 0-100", "value": 83.5},
}


def _doc(**overrides: object) -> dict:
    return an_event_doc(**{"event_id": str(uuid.uuid4()), "observed_at": NOW.isoformat(), **overrides})


def test_an_accepted_event_is_on_indicator_events_once(start_ingest: StartIngest) -> None:
    ing = start_ingest(SCOPES)
    wait_ready(ing)
    key = ing.keys["kota-bandung"]
    doc = _doc(attributes={"station": "dago"})
    first = ing.post("/v1/events", doc, key)
    assert first.status == 200, first.body
    assert first.body["accepted"] == 1 and first.body["results"][0] == {
        "index": 0,
        "event_id": doc["event_id"],
        "status": "accepted",
        "errors": [],
    }
    again = ing.post("/v1/events", doc, key)
    assert again.status == 200 and again.body["results"][0]["status"] == "duplicate"
    ndjson = b"\n".join(orjson.dumps(_doc(value=v)) for v in (10.0, 11.0)) + b"\n"
    nd = ing.post("/v1/events/ndjson", ndjson, key, "application/x-ndjson")
    assert nd.status == 200 and nd.body["accepted"] == 2

    recs = wait_for("3 events on indicator-events", lambda: (r := ing.events()) and len(r) >= 3 and r, timeout=30)
    assert len(recs) == 3
    mine = [r for r in recs if orjson.loads(r.value)["event_id"] == doc["event_id"]]
    assert len(mine) == 1 and mine[0].key == b"32.73"
    ev = IndicatorEvent.model_validate_json(mine[0].value)
    assert (ev.publisher, ev.attributes, ev.observed_at) == ("kota-bandung", {"station": "dago"}, NOW)

    text = ing.metrics()
    assert metric(text, "pantau_ingest_events_accepted_total", source="http") == 3
    assert metric(text, "pantau_ingest_events_duplicate_total", source="http") == 1
    assert metric(text, "pantau_ingest_requests_total", route="/v1/events", method="POST", status="200") == 2
    assert metric(text, "pantau_ingest_produce_latency_seconds_count") == 2
    assert metric(text, "pantau_ingest_kafka_up") == 1


def test_a_publisher_reusing_another_publishers_event_id_is_written(start_ingest: StartIngest) -> None:
    """Dedupe is per (publisher, region, event_id): Surabaya's key cannot suppress Bandung's events, nor the
    other way round, by reusing (or predicting) their ids."""
    ing = start_ingest({"kota-bandung": SCOPES["kota-bandung"],
                        "kota-surabaya": {"regions": ["35.78"], "indicators": ["ENV_PM25"]}})  # fmt: skip
    wait_ready(ing)
    bandung = _doc()
    assert ing.post("/v1/events", bandung, ing.keys["kota-bandung"]).body["results"][0]["status"] == "accepted"
    reused = {**bandung, "region_code": "35.78", "value": 40.0}
    first = ing.post("/v1/events", reused, ing.keys["kota-surabaya"])
    assert first.status == 200 and first.body["results"][0]["status"] == "accepted", first.body
    again = ing.post("/v1/events", reused, ing.keys["kota-surabaya"])
    assert again.body["results"][0]["status"] == "duplicate"
    recs = wait_for("2 events", lambda: (r := ing.events()) and len(r) >= 2 and r, timeout=30)
    got = sorted((r.key, orjson.loads(r.value)["publisher"], orjson.loads(r.value)["event_id"]) for r in recs)
    assert got == [(b"32.73", "kota-bandung", bandung["event_id"]), (b"35.78", "kota-surabaya", bandung["event_id"])]


def test_authorisation_matrix_every_key_every_region_outside_its_scope(start_ingest: StartIngest) -> None:
    """Each test key against every one of the 514 regions it may not write: 403, and nothing written."""
    ing = start_ingest(SCOPES, INGEST_RATE_LIMIT="100000/minute")
    wait_ready(ing)
    refused = 0
    for name, scope in SCOPES.items():
        key = ing.keys[name]
        allowed = ALLOWED[name]
        inside = set(scope.get("regions", [])) | {r for r in REGIONS if r[:2] in scope.get("provinces", [])}
        for region in REGIONS:
            if region in inside:
                continue
            got = ing.post("/v1/events", _doc(**{**allowed, "region_code": region}), key)
            assert got.status == 403, (name, region, got.body)
            assert got.body["error"]["code"] == "out_of_scope" and got.body["error"]["field"] == "region_code"
            refused += 1
        # An indicator outside the scope, in a region inside it.
        if "*" not in scope["indicators"]:
            got = ing.post(
                "/v1/events",
                _doc(region_code=allowed["region_code"], indicator_id="GOV_SERVICE_UPTIME", unit="percent", value=99.0),
                key,
            )
            assert got.status == 403 and got.body["error"]["field"] == "indicator_id"
            refused += 1
        # One forbidden item spoils the batch: the allowed one is not written either.
        batch = [_doc(**allowed), _doc(**{**allowed, "region_code": "94.71"})]
        got = ing.post("/v1/events", batch, key)
        assert got.status == 403 and [r["index"] for r in got.body["results"]] == [1]
        refused += 1
    assert refused == (514 - 1) + 1 + (514 - 35) + (514 - 2) + 1 + 3
    assert ing.events() == []
    assert metric(ing.metrics(), "pantau_ingest_events_rejected_total", source="http", reason="out_of_scope") == refused

    # The same keys inside their scope are accepted.
    for name in SCOPES:
        assert ing.post("/v1/events", _doc(**ALLOWED[name]), ing.keys[name]).status == 200
    assert len(wait_for("3 allowed events", lambda: (r := ing.events()) and len(r) == 3 and r)) == 3


def test_mass_assignment_and_bad_items_are_refused_naming_the_field(start_ingest: StartIngest) -> None:
    ing = start_ingest({"kota-bandung": SCOPES["kota-bandung"]})
    wait_ready(ing)
    key = ing.keys["kota-bandung"]
    for extra, value in (("publisher", "someone-else"), ("is_admin", True), ("score", 5.0)):
        got = ing.post("/v1/events", _doc(**{extra: value}), key)
        assert got.status == 422, got.body
        assert {"code": "unknown_field", "field": extra} == {
            k: got.body["results"][0]["errors"][0][k] for k in ("code", "field")
        }
    cases = {
        "unit": (_doc(unit="mg/m3"), "unit_mismatch"),
        "value": (_doc(value=1500.0), "out_of_bounds"),
        "observed_at": (_doc(observed_at=(NOW + timedelta(hours=1)).isoformat()), "observed_in_future"),
        "region_code": (_doc(region_code="32.7"), "out_of_scope"),  # not a code: not in scope either
    }
    for fieldname, (doc, code) in cases.items():
        got = ing.post("/v1/events", doc, key)
        assert got.status in (403, 422) and got.body["results"][0]["errors"][0]["code"] == code, (fieldname, got.body)
        assert got.body["results"][0]["errors"][0]["field"] == fieldname
    assert ing.post("/v1/events", b"{not json", key).body["error"]["code"] == "invalid_json"
    huge = ing.post("/v1/events", b'{"value": 1e999}', key)  # JSON without a finite value
    assert huge.status == 422 and huge.body["error"]["code"] == "invalid_json"
    assert ing.post("/v1/events", [], key).body["error"]["code"] == "empty_batch"
    assert ing.post("/v1/events", "text", key).body["error"]["code"] == "invalid_body"
    assert ing.events() == []


def test_limits_and_authentication(start_ingest: StartIngest) -> None:
    ing = start_ingest(
        {"kota-bandung": SCOPES["kota-bandung"]},
        INGEST_MAX_BATCH="5",
        INGEST_RATE_LIMIT="12/minute",
        INGEST_MAX_BODY_BYTES="4096",
    )
    wait_ready(ing)
    key = ing.keys["kota-bandung"]
    missing = ing.post("/v1/events", _doc())
    assert missing.status == 401 and missing.body["error"]["code"] == "missing_api_key"
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = ing.post("/v1/events", _doc(), key[:-2] + "xx")
    assert wrong.status == 401 and wrong.body["error"]["code"] == "invalid_api_key"
    assert ing.get("/v1/regions").status == 401

    too_many = ing.post("/v1/events", [_doc() for _ in range(6)], key)
    assert too_many.status == 422 and too_many.body["error"]["code"] == "batch_too_large"
    big = ing.post("/v1/events", _doc(source="x" * 5000), key)
    assert big.status == 413 and big.body["error"]["code"] == "body_too_large"

    assert ing.post("/v1/events", [_doc() for _ in range(5)], key).status == 200  # 5 of 12
    assert ing.post("/v1/events", [_doc() for _ in range(5)], key).status == 200  # 10 of 12
    limited = ing.post("/v1/events", [_doc() for _ in range(3)], key)  # 13 > 12: refused whole
    assert limited.status == 429 and limited.body["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert ing.post("/v1/events", [_doc() for _ in range(2)], key).status == 200  # 12 of 12
    assert len(wait_for("12 events", lambda: (r := ing.events()) and len(r) == 12 and r)) == 12


def test_reference_endpoints_and_probes(start_ingest: StartIngest) -> None:
    ing = start_ingest({"dki-bps": SCOPES["dki-bps"], "jateng": SCOPES["jateng"]})
    wait_ready(ing)
    regions = ing.get("/v1/regions", ing.keys["dki-bps"])
    assert regions.status == 200 and [r["code"] for r in regions.body["regions"]] == ["31.71", "31.72"]
    assert len(ing.get("/v1/regions", ing.keys["jateng"]).body["regions"]) == 35
    fw = ing.get("/v1/framework", ing.keys["dki-bps"]).body
    assert [(i["id"], i["unit"], i["bounds"]) for i in fw["indicators"]] == [
        ("IPM", "index 0-100", {"min": 0.0, "max": 100.0}),
        ("P0", "percent", {"min": 0.0, "max": 100.0}),
    ]
    assert fw["limits"]["max_batch"] == 500
    assert ing.get("/readyz").body == {"status": "ready", "kafka": True, "reason": None}
    assert ing.get("/healthz").body == {"status": "ok"}
    doc = ing.get("/openapi.json").body
    assert {"/v1/events", "/v1/events/ndjson", "/v1/regions", "/v1/framework", "/healthz", "/readyz"} <= set(
        doc["paths"]
    )
    unknown = ing.get("/v2/nothing")
    assert unknown.status == 404 and unknown.body["error"]["code"] == "not_found"
    assert metric(ing.metrics(), "pantau_ingest_requests_total", route="unmatched", method="GET", status="404") == 1
