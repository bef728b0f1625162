"""Ingest settings, rate-limit semantics, the OpenAPI request schema and the metrics names."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from schemas.framework import load_framework
from schemas.regions import default_registry
from services.ingest.config import IngestSettings
from services.ingest.metrics import IngestMetrics
from services.ingest.openapi import event_in_schema
from services.ingest.responses import duration
from services.runtime.ratelimit import RateLimiter


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_MAX_BATCH", "50")
    monkeypatch.setenv("INGEST_MAX_FUTURE", "PT1M")
    monkeypatch.setenv("INGEST_TOPIC_PREFIX", "x-")
    s = IngestSettings()
    assert (
        s.max_batch == 50 and s.max_future.total_seconds() == 60 and s.topic("indicator-events") == "x-indicator-events"
    )


def test_the_error_policy_is_the_shared_one_dlq_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert IngestSettings().error_policy == "dlq"
    monkeypatch.setenv("INGEST_ERROR_POLICY", "skip")
    assert IngestSettings().error_policy == "skip"
    monkeypatch.setenv("INGEST_ERROR_POLICY", "ignore")
    with pytest.raises(ValidationError, match="error_policy"):
        IngestSettings()


def test_a_rate_limit_below_one_batch_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"allows fewer events \(100\) than a full batch \(500\)"):
        IngestSettings(rate_limit="100/second")
    with pytest.raises(ValidationError):
        IngestSettings(rate_limit="lots")


def test_rate_limit_counts_events_and_refuses_a_batch_whole() -> None:
    rl = RateLimiter("10/minute")
    assert rl.take("k", 6) is None
    wait = rl.take("k", 5)  # 6 + 5 > 10: refused, and costs nothing
    assert wait is not None and 1 <= wait <= 60
    assert rl.take("k", 4) is None  # 6 + 4 = 10
    assert rl.exhausted("k") is not None
    assert rl.take("other", 10) is None  # per key


def test_the_request_schema_pins_units_bounds_and_codes() -> None:
    fw = load_framework()
    schema = event_in_schema(fw, default_registry(), max_future="5 min", max_age="3650 days")
    assert "publisher" not in schema["properties"] and schema["additionalProperties"] is False
    assert len(schema["properties"]["region_code"]["enum"]) == 514
    pm25 = next(b for b in schema["oneOf"] if b["title"] == "ENV_PM25")
    assert pm25["properties"] == {
        "indicator_id": {"const": "ENV_PM25"},
        "unit": {"const": "ug/m3"},
        "value": {"minimum": 0.0, "maximum": 1000.0},
    }
    assert len(schema["oneOf"]) == len(fw.indicators)


def test_metric_names_are_the_contract() -> None:
    reg = CollectorRegistry()
    m = IngestMetrics(reg)
    m.requests.labels("/v1/events", "POST", "200").inc()
    m.request_duration.labels("/v1/events").observe(0.01)
    m.rejected.labels("http", "unit_mismatch").inc()
    m.invalid.labels("undecodable").inc()
    m.produce_latency.observe(0.002)
    m.consumer_lag.labels("indicator-events.raw", "0").set(3)
    samples = {
        ("pantau_ingest_requests_total", (("method", "POST"), ("route", "/v1/events"), ("status", "200"))): 1.0,
        ("pantau_ingest_request_duration_seconds_count", (("route", "/v1/events"),)): 1.0,
        ("pantau_ingest_events_accepted_total", (("source", "csv"),)): 0.0,
        ("pantau_ingest_events_rejected_total", (("reason", "unit_mismatch"), ("source", "http"))): 1.0,
        ("pantau_ingest_messages_invalid_total", (("reason", "undecodable"),)): 1.0,
        ("pantau_ingest_produce_latency_seconds_count", ()): 1.0,
        ("pantau_ingest_consumer_lag_messages", (("partition", "0"), ("topic", "indicator-events.raw"))): 3.0,
    }
    for (name, labels), value in samples.items():
        assert reg.get_sample_value(name, dict(labels)) == value, name


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "PT0S"), (5, "PT5S"), (300, "PT5M"), (3605, "PT1H0M5S"), (86_400 * 400, "P400D"), (86_400 + 60, "P1DT1M")],
)
def test_durations_are_rfc3339_without_years(seconds: int, text: str) -> None:
    # RFC 3339 (appendix A) allows no gap between units: 1 hour 5 seconds is PT1H0M5S, not PT1H5S.
    assert duration(timedelta(seconds=seconds)) == text
