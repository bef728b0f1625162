"""The scoring worker against the real broker: scores out, poison to the DLQ, recovery after SIGKILL."""

from __future__ import annotations

import functools
import json
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from schemas.dlq import read_headers
from schemas.events import IndicatorEvent
from schemas.framework import load_framework
from schemas.scores import RegionScore
from services.scoring.domain import RegionState, apply_reading, reading_from_event, score_region, to_micros
from tests.builders import an_indicator_event
from tests.integration.helpers import (
    TINY_FRAMEWORK,
    create_topics,
    http_get,
    metric,
    produce,
    read_all,
    wait_for,
)


def _event(region: str, ind: str, value: float, unit: str, at: datetime) -> IndicatorEvent:
    return an_indicator_event(region_code=region, indicator_id=ind, value=value, unit=unit, observed_at=at)


def _tiny_events(at: datetime) -> list[IndicatorEvent]:
    """One reading of each tiny-framework indicator for Kota Bandung (scored by hand in the tests)."""
    return [
        _event("32.73", "GOV_UPTIME", 97.5, "percent", at),
        _event("32.73", "GOV_RESPONSE_HOURS", 48.0, "hours", at),
        _event("32.73", "ENV_PM25", 20.0, "ug/m3", at),
    ]


def _records(events: list[IndicatorEvent]) -> list[tuple[bytes | None, bytes]]:
    return [(e.region_code.encode(), e.model_dump_json().encode()) for e in events]


def _latest_scores(bootstrap: str, topic: str) -> dict[str, RegionScore]:
    latest: dict[str, RegionScore] = {}
    for rec in read_all(bootstrap, topic):
        latest[rec.key.decode()] = RegionScore.model_validate_json(rec.value)
    return latest


def _wait_until_ready(port: int) -> None:
    # The worker answers HTTP before its partitions are assigned: wait for the lag gauge.
    def assigned() -> bool:
        status, body = http_get(f"http://127.0.0.1:{port}/metrics")
        return status == 200 and b"pantau_scoring_consumer_lag_messages{" in body

    wait_for("partition assignment", assigned, timeout=90)


def test_events_in_region_score_out(kafka_bootstrap: str, start_scoring: Callable, tmp_path: Path) -> None:
    fw_file = tmp_path / "tiny.yaml"
    fw_file.write_text(TINY_FRAMEWORK)
    svc, prefix, port = start_scoring(SCORING_FRAMEWORK_FILE=str(fw_file))
    _wait_until_ready(port)
    produce(kafka_bootstrap, prefix + "indicator-events", _records(_tiny_events(datetime(2026, 11, 1, tzinfo=UTC))))

    def final() -> RegionScore | None:
        s = _latest_scores(kafka_bootstrap, prefix + "region-scores").get("32.73")
        return s if s is not None and s.events_applied == 3 else None

    score = wait_for("a RegionScore for 32.73 built from all three events", final, timeout=60)
    # By hand: uptime min_max 90..100 -> 5*(97.5-90)/10 = 3.75; response target 24h, lower is better,
    # 48h -> 5*24/48 = 2.5. Element (weights 3, 1): (3*3.75 + 1*2.5)/4 = 3.4375 = governance.
    # PM2.5 20 <= 75, 55, 35 but not <= 15 or 5 -> 3 thresholds met -> 3.0 = environment.
    # Index (weights 2, 1): (2*3.4375 + 1*3.0)/3 = 3.291666...; level 4 (>= 3).
    dims = {d.dimension_id: d for d in score.dimensions}
    assert dims["governance"].score == pytest.approx(3.4375)
    assert dims["environment"].score == pytest.approx(3.0)
    assert score.index == pytest.approx((2 * 3.4375 + 3.0) / 3)
    assert (score.level, score.level_name, score.coverage, score.status.value) == (
        4,
        "Terpadu dan Terukur",
        1.0,
        "ok",
    )
    assert score.framework == "tiny@1"
    # Scores are co-partitioned with the events: 32.73's score is on the partition its events are on.
    event_parts = {r.partition for r in read_all(kafka_bootstrap, prefix + "indicator-events")}
    score_parts = {r.partition for r in read_all(kafka_bootstrap, prefix + "region-scores") if r.key == b"32.73"}
    assert len(event_parts) == 1 and score_parts == event_parts
    # The service's own view and its metrics agree.
    status, body = http_get(f"http://127.0.0.1:{port}/scores/32.73")
    assert status == 200 and json.loads(body)["index"] == pytest.approx(score.index)
    text = http_get(f"http://127.0.0.1:{port}/metrics")[1].decode()
    assert metric(text, "pantau_maturity_index", region="32.73", province="32") == pytest.approx(score.index)
    assert metric(text, "pantau_dimension_score", region="32.73", province="32", dimension="governance") == 3.4375
    assert metric(text, "pantau_scoring_events_total", outcome="scored") == 3
    # The command line reads the same service.
    shown = subprocess.run([sys.executable, "-m", "pantau.cli", "scores", "show", "32.73", "--url",
                            f"http://127.0.0.1:{port}"], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "Kota Bandung (32.73)" in shown.stdout
    assert "index 3.29  level 4 Terpadu dan Terukur  coverage 100%" in shown.stdout
    assert "governance    3.44" in shown.stdout
    # SIGTERM stops the worker cleanly.
    assert svc.stop() == 0, svc.tail()


def test_a_silent_feed_loses_coverage_without_new_events(
    kafka_bootstrap: str, start_scoring: Callable, tmp_path: Path
) -> None:
    fw_file = tmp_path / "short.yaml"
    # PM2.5 now goes stale 6 seconds after its reading.
    doc = TINY_FRAMEWORK.replace(
        "normalisation: {method: thresholds, thresholds: [75, 55, 35, 15, 5]},\n"
        "               aggregation: {method: latest}, validity: P3650D",
        "normalisation: {method: thresholds, thresholds: [75, 55, 35, 15, 5]},\n"
        "               aggregation: {method: latest}, validity: PT6S",
    )
    assert doc != TINY_FRAMEWORK
    fw_file.write_text(doc)
    svc, prefix, port = start_scoring(SCORING_FRAMEWORK_FILE=str(fw_file))
    _wait_until_ready(port)
    produce(kafka_bootstrap, prefix + "indicator-events", _records(_tiny_events(datetime.now(UTC))))

    def latest() -> RegionScore | None:
        return _latest_scores(kafka_bootstrap, prefix + "region-scores").get("32.73")

    first = wait_for("a full-coverage score", lambda: (s := latest()) and s.coverage == 1.0 and s, timeout=60)
    assert first.index == pytest.approx((2 * 3.4375 + 3.0) / 3)
    # No more events. The staleness timer (2 s here) must publish the loss of PM2.5: environment
    # has no fresh indicator left, so it is insufficient; index coverage = (2*1 + 1*0)/3.
    stale = wait_for("a score without PM2.5", lambda: (s := latest()) and s.coverage < 1.0 and s, timeout=60)
    env = next(d for d in stale.dimensions if d.dimension_id == "environment")
    assert (env.score, env.status.value, env.coverage) == (None, "insufficient_data", 0.0)
    assert stale.coverage == pytest.approx(2 / 3)
    assert stale.index == pytest.approx(3.4375)  # only governance remains
    assert svc.alive()


def test_poison_records_go_to_the_dlq_and_scoring_goes_on(
    kafka_bootstrap: str, start_scoring: Callable, tmp_path: Path
) -> None:
    svc, prefix, port = start_scoring()
    _wait_until_ready(port)
    t = datetime.now(UTC) - timedelta(days=1)
    good_before = _event("35.78", "IPM", 80.0, "index 0-100", t)
    good_after = _event("35.78", "P0", 7.0, "percent", t)
    unknown_ind = an_indicator_event(region_code="35.78", indicator_id="NOT_IN_FRAMEWORK", unit="percent")
    wrong_unit = _event("35.78", "P0", 7.0, "permille", t)
    poison: list[tuple[bytes | None, bytes]] = [
        (b"35.78", b"\x00\xff not json"),
        (b"35.78", json.dumps({"event_id": str(uuid.uuid4()), "region_code": "35.78"}).encode()),
        (b"35.78", unknown_ind.model_dump_json().encode()),
        (b"35.78", wrong_unit.model_dump_json().encode()),
        (b"35.78", good_before.model_copy(update={"region_code": "99.99"}).model_dump_json().encode()),
    ]
    # A windowed reading an hour older than the series' newest is later than the allowed 5 minutes.
    fresh_pm = _event("35.78", "ENV_PM25", 20.0, "ug/m3", datetime.now(UTC))
    late_pm = _event("35.78", "ENV_PM25", 90.0, "ug/m3", datetime.now(UTC) - timedelta(hours=1))
    poison.append((b"35.78", late_pm.model_dump_json().encode()))
    records = [*_records([good_before, fresh_pm]), *poison, *_records([good_after])]
    produce(kafka_bootstrap, prefix + "indicator-events", records)

    def six() -> list | None:
        r = read_all(kafka_bootstrap, prefix + "indicator-events.dlq")
        return r if len(r) >= 6 else None

    dlq = wait_for("six DLQ records", six, timeout=60)
    reasons = sorted(read_headers(r.headers)["pantau.dlq.reason"] for r in dlq)
    assert reasons == ["late", "schema_invalid", "undecodable", "unit_mismatch", "unknown_indicator", "unknown_region"]
    for rec in dlq:
        h = read_headers(rec.headers)
        assert h["pantau.dlq.source.topic"] == prefix + "indicator-events"
        assert int(h["pantau.dlq.source.offset"]) >= 1
        assert h["pantau.dlq.detail"]
        assert rec.value in {v for _, v in poison}  # the record as received
    wrong = next(r for r in dlq if read_headers(r.headers)["pantau.dlq.reason"] == "unit_mismatch")
    assert "unit: 'permille'" in read_headers(wrong.headers)["pantau.dlq.detail"]

    def both_scored() -> RegionScore | None:
        s = _latest_scores(kafka_bootstrap, prefix + "region-scores").get("35.78")
        return s if s is not None and s.events_applied == 3 else None

    score = wait_for("the good record after the poison to be scored", both_scored, timeout=60)
    assert {i.indicator_id for i in score.indicators if i.fresh} == {"IPM", "P0", "ENV_PM25"}
    assert next(i for i in score.indicators if i.indicator_id == "ENV_PM25").value == 20.0  # the late 90 is out
    assert svc.alive()
    text = http_get(f"http://127.0.0.1:{port}/metrics")[1].decode()
    assert metric(text, "pantau_scoring_events_total", outcome="invalid") == 5
    assert metric(text, "pantau_scoring_events_total", outcome="late") == 1
    assert metric(text, "pantau_scoring_messages_invalid_total", reason="undecodable") == 1


def test_sigkill_mid_stream_then_restart_equals_offline_recomputation(
    kafka_bootstrap: str, start_scoring: Callable
) -> None:
    fw = load_framework()
    rng = random.Random(7)
    regions = ["11.01", "32.73", "35.78", "51.71", "64.72", "73.71", "91.71", "96.71"]
    live = [i for i in fw.indicators if i.aggregation.method != "latest"]
    stats = [i for i in fw.indicators if i.aggregation.method == "latest"]
    now = datetime.now(UTC).replace(microsecond=0)
    events: list[IndicatorEvent] = []
    for n in range(6000):
        region = rng.choice(regions)
        ind = rng.choice(live if n % 4 else stats)
        lo, hi = ind.bounds.min, min(ind.bounds.max, ind.bounds.min + 1000)
        at = now - timedelta(seconds=rng.randint(0, 120)) if ind in live else now - timedelta(days=rng.randint(1, 300))
        events.append(_event(region, ind.id, round(rng.uniform(lo, hi), 3), ind.unit, at))
    events += rng.sample(events, 300)  # publisher duplicates: same event_id again

    svc, prefix, port = start_scoring(SCORING_PERSIST_INTERVAL="0.05", SCORING_BATCH_MAX="200")
    _wait_until_ready(port)
    produce(kafka_bootstrap, prefix + "indicator-events", _records(events))

    def some_but_not_all() -> bool:
        text = http_get(f"http://127.0.0.1:{port}/metrics")[1].decode()
        done = sum(metric(text, "pantau_scoring_events_total", outcome=o) or 0 for o in ("scored", "duplicate"))
        return done > 300

    wait_for("the worker to be mid-stream", some_but_not_all, timeout=60, every=0.05)
    svc.kill()

    svc2, _, port2 = start_scoring()
    _wait_until_ready(port2)

    # Offline recomputation: the same records, in the same (per-partition = per-region) order.
    lateness = to_micros(timedelta(minutes=5))
    offline: dict[str, RegionState] = {r: RegionState() for r in regions}
    for ev in events:
        apply_reading(offline[ev.region_code], reading_from_event(ev), fw.indicator(ev.indicator_id), lateness)
    expected_applied = {r: s.applied for r, s in offline.items()}

    def all_final() -> dict[str, RegionScore] | None:
        latest = _latest_scores(kafka_bootstrap, prefix + "region-scores")
        ok = all(r in latest and latest[r].events_applied == expected_applied[r] for r in regions)
        return latest if ok else None

    latest = wait_for("final scores of every region after the restart", all_final, timeout=120)
    for region in regions:
        got = latest[region]
        want = score_region(offline[region], fw, region, got.evaluated_at)
        assert got.model_dump() == want.model_dump(), region
    assert svc2.stop() == 0


def test_rescore_replays_history_under_another_framework(kafka_bootstrap: str, tmp_path: Path) -> None:
    from schemas.framework import parse_framework
    from services.scoring.rescore import rescore

    prefix = f"r{uuid.uuid4().hex[:8]}-"
    create_topics(kafka_bootstrap, prefix)
    t = datetime(2026, 11, 1, tzinfo=UTC)
    # IPM is not in the tiny framework: it is counted and ignored.
    events = [*_tiny_events(t), _event("32.73", "IPM", 80.0, "index 0-100", t)]
    produce(kafka_bootstrap, prefix + "indicator-events", _records(events))
    import yaml

    doc = yaml.safe_load(TINY_FRAMEWORK)
    doc["framework"]["version"] = "2"
    doc["framework"]["dimensions"][1]["weight"] = 3  # environment now weighs 3 instead of 1
    fw2 = parse_framework(doc)
    at = datetime(2026, 11, 20, tzinfo=UTC)
    report = rescore(fw2, kafka_bootstrap, source_topic=prefix + "indicator-events",
                     target_base=prefix + "region-scores", at=at)  # fmt: skip
    assert report.topic == prefix + "region-scores.tiny-2"
    assert report.outcomes == {"scored": 3, "unknown_indicator": 1}
    out = {r.key.decode(): RegionScore.model_validate_json(r.value) for r in read_all(kafka_bootstrap, report.topic)}
    # By hand: governance 3.4375 and environment 3.0 as before; index weights now 2 and 3:
    # (2*3.4375 + 3*3.0)/5 = 3.175.
    assert out["32.73"].index == pytest.approx(3.175)
    assert out["32.73"].framework == "tiny@2"
    assert read_all(kafka_bootstrap, prefix + "region-scores") == []  # the live scores are untouched


def test_a_second_worker_joining_under_load_loses_and_doubles_nothing(
    kafka_bootstrap: str, start_scoring: Callable, tmp_path: Path
) -> None:
    """Scale-out is Kafka's own: a second worker joins while events flow, the partitions are split
    (with faust's standby replicas), and every event is applied exactly once."""
    fw_file = tmp_path / "tiny.yaml"
    fw_file.write_text(TINY_FRAMEWORK)
    regions = ["11.01", "32.73", "35.78", "51.71", "64.72", "73.71", "91.71", "96.71"]
    start = datetime.now(UTC) - timedelta(hours=1)
    # 60 readings per region, each later in event time than the one before of its indicator: each
    # changes the state, so each region's final score must say events_applied == 60.
    readings = [(n, "GOV_UPTIME", 95.0 + n % 5, "percent") for n in range(30)]
    readings += [(n, "ENV_PM25", 10.0 + n, "ug/m3") for n in range(30)]
    events = [_event(region, ind, value, unit, start + timedelta(seconds=n))
              for n, ind, value, unit in readings for region in regions]  # fmt: skip
    _svc, prefix, port1 = start_scoring(SCORING_FRAMEWORK_FILE=str(fw_file), SCORING_DATA_DIR=str(tmp_path / "w1"))
    _wait_until_ready(port1)

    def feed() -> None:  # a steady trickle, before, during and after the second worker joins
        for n in range(0, len(events), 8):
            produce(kafka_bootstrap, prefix + "indicator-events", _records(events[n : n + 8]))
            time.sleep(0.1)

    feeder = threading.Thread(target=feed)
    feeder.start()
    time.sleep(1.0)
    _svc2, _, port2 = start_scoring(SCORING_FRAMEWORK_FILE=str(fw_file), SCORING_DATA_DIR=str(tmp_path / "w2"))
    ports = [port1, port2]

    def partitions(port: int) -> set[str]:
        text = http_get(f"http://127.0.0.1:{port}/metrics")[1].decode()
        return {line.split('partition="')[1].split('"')[0] for line in text.splitlines()
                if line.startswith("pantau_scoring_consumer_lag_messages{")}  # fmt: skip

    def split() -> bool:
        a, b = (partitions(p) for p in ports)
        return bool(a) and bool(b) and not a & b and len(a | b) == 12

    wait_for("the two workers sharing the 12 partitions", split, timeout=120)
    feeder.join()

    def all_applied() -> dict[str, RegionScore] | None:
        latest = _latest_scores(kafka_bootstrap, prefix + "region-scores")
        return latest if all(r in latest and latest[r].events_applied == 60 for r in regions) else None

    wait_for("every region's score built from its 60 events", all_applied, timeout=90)
    # Both did a share; nothing was counted twice (a region's events redelivered to its new owner
    # after the rebalance are recognised by their offsets, not applied again).
    scored = [metric(http_get(f"http://127.0.0.1:{p}/metrics")[1].decode(), "pantau_scoring_events_total",
                     outcome="scored") or 0 for p in ports]  # fmt: skip
    assert all(n > 0 for n in scored), scored
    latest = _latest_scores(kafka_bootstrap, prefix + "region-scores")
    assert {r: latest[r].events_applied for r in regions} == dict.fromkeys(regions, 60)
    # A region's score answers on either worker: the one without it asks its owner (faust's router).
    for port in ports:
        for region in regions:
            status, body = http_get(f"http://127.0.0.1:{port}/scores/{region}")
            assert status == 200 and json.loads(body)["events_applied"] == 60, (port, region, body[:300])


def _produce_like_librdkafka(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes]]) -> list[int]:
    """Produce as a Kafka-native publisher at its client's defaults: confluent-kafka (librdkafka),
    whose default partitioner is consistent_random (CRC32 of the key), not murmur2. The partitions
    the records landed on, in order."""
    from confluent_kafka import KafkaError, Message, Producer

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    landed: list[int | None] = [None] * len(records)
    errors: list[KafkaError] = []

    def delivered(n: int) -> Callable[[KafkaError | None, Message], None]:
        def report(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                errors.append(err)
            else:
                landed[n] = msg.partition()

        return report

    for n, (key, value) in enumerate(records):
        producer.produce(topic, value=value, key=key, on_delivery=delivered(n))
    assert producer.flush(30) == 0 and not errors, errors
    assert all(p is not None for p in landed)
    return [p for p in landed if p is not None]


def _metrics(port: int) -> str:
    return http_get(f"http://127.0.0.1:{port}/metrics")[1].decode()


def test_a_kafka_native_publisher_at_librdkafka_defaults_is_validated_and_rerouted_and_nothing_is_lost(
    kafka_bootstrap: str, start_scoring: Callable, unique: str
) -> None:
    """Issue 11, D1-D4, written straight into indicator-events by confluent-kafka at its defaults, then
    a SIGTERM restart and a SIGKILL restart: every bad record is dead-lettered with its reason, every
    record on the wrong partition is applied once on the partition that owns its key, and the
    region's events_applied equals the distinct accepted events counted here by hand."""
    region, key = "36.02", b"36.02"
    app_id = f"scoring-{unique}"
    now = datetime.now(UTC).replace(microsecond=0)
    t0 = now - timedelta(minutes=3)  # readings t0 .. t0+70 s: all within the 5-minute lateness of each other

    @functools.cache  # pm(5) is one event, however often it is sent
    def pm(n: int) -> IndicatorEvent:
        return _event(region, "ENV_PM25", 10.0 + n, "ug/m3", t0 + timedelta(seconds=n))

    @functools.cache
    def ipm(n: int) -> IndicatorEvent:
        return _event(region, "IPM", 70.0 + n / 10, "index 0-100", t0 + timedelta(seconds=n))

    def rec(ev: IndicatorEvent, k: bytes | None = key) -> tuple[bytes | None, bytes]:
        return k, ev.model_dump_json().encode()

    d1 = pm(100)
    d1_value = d1.model_dump_json().encode().replace(b'"value":110.0', b'"value":"110.0"')
    assert d1_value != d1.model_dump_json().encode()
    d2_pm = _event(region, "ENV_PM25", 12.0, "ug/m3", now + timedelta(days=400))
    d2_ipm = _event(region, "IPM", 99.0, "index 0-100", now + timedelta(days=400))
    d3_null, d3_empty = pm(101), pm(102)

    svc1, prefix, port1 = start_scoring(SCORING_APP_ID=app_id)
    topic = prefix + "indicator-events"
    _wait_until_ready(port1)
    # Batch A, first worker. The future readings come first: the valid ones after them must be scored.
    publisher = [(key, d1_value), rec(d2_pm), rec(d2_ipm), rec(d3_null, None), rec(d3_empty, b""), rec(ipm(0)),
                 *(rec(pm(n)) for n in range(20)), rec(pm(5))]  # fmt: skip  # pm(5) twice: a publisher duplicate
    landed = _produce_like_librdkafka(kafka_bootstrap, topic, publisher)
    assert {p for (k, _), p in zip(publisher, landed, strict=True) if k == key} == {3}  # CRC32; murmur2 says 4
    produce(kafka_bootstrap, topic, [rec(pm(n)) for n in range(20, 30)])  # the project's client: partition 4
    accepted = 1 + 20 + 10  # ipm(0), pm(0..19), pm(20..29)

    def applied(n: int) -> Callable[[], RegionScore | None]:
        def check() -> RegionScore | None:
            s = _latest_scores(kafka_bootstrap, prefix + "region-scores").get(region)
            return s if s is not None and s.events_applied == n else None

        return check

    wait_for(f"{region} scored from {accepted} events", applied(accepted), timeout=60)
    assert svc1.stop() == 0, svc1.tail()

    # Batch B, a second worker that persists and commits nothing before it is killed.
    svc2, _, port2 = start_scoring(SCORING_APP_ID=app_id, SCORING_PERSIST_INTERVAL="60",
                                   SCORING_COMMIT_INTERVAL="60")  # fmt: skip
    _wait_until_ready(port2)
    assert set(_produce_like_librdkafka(kafka_bootstrap, topic, [rec(pm(n)) for n in range(40, 60)])) == {3}
    produce(kafka_bootstrap, topic, [rec(ipm(n)) for n in range(1, 5)])
    accepted += 20 + 4

    def copies() -> list[Any]:
        return [r for r in read_all(kafka_bootstrap, topic)
                if "pantau.rerouted.from" in read_headers(r.headers)]  # fmt: skip

    wait_for("batch B's 20 re-routed copies in the topic", lambda: len(copies()) == 22 + 20, timeout=60)
    wait_for(f"{region} at {accepted} in memory", applied(accepted), timeout=60)
    svc2.kill()

    # Batch C, a third worker: batch B comes back (nothing was committed), is re-routed once more, and
    # each event counts once.
    svc3, _, port3 = start_scoring(SCORING_APP_ID=app_id)
    _wait_until_ready(port3)
    assert set(_produce_like_librdkafka(kafka_bootstrap, topic, [rec(pm(n)) for n in range(60, 70)] + [rec(ipm(2))])) \
        == {3}  # fmt: skip
    produce(kafka_bootstrap, topic, [rec(pm(45))])  # again, through the project's client
    accepted += 10
    assert accepted == 65
    wait_for(f"{region} scored from {accepted} events", applied(accepted), timeout=120)

    def drained() -> bool:
        text = _metrics(port3)
        lags = [float(ln.rsplit(" ", 1)[1]) for ln in text.splitlines()
                if ln.startswith("pantau_scoring_consumer_lag_messages{")]  # fmt: skip
        return len(lags) == 12 and sum(lags) == 0

    wait_for("the third worker to have handled everything", drained, timeout=60)
    time.sleep(1.0)  # any publication after the last record
    final = _latest_scores(kafka_bootstrap, prefix + "region-scores")[region]
    assert final.events_applied == 65
    ipm_score = next(i for i in final.indicators if i.indicator_id == "IPM")
    assert ipm_score.value == pytest.approx(70.4)  # ipm(4): the newest; the +400-day 99.0 never counted

    # Copies: 22 from batch A (ipm(0), pm(0..19), the duplicate pm(5)), batch B's 20 twice (before and
    # after the kill), 11 from batch C; all on partition 4, and nowhere else.
    all_copies = copies()
    assert len(all_copies) == 22 + 40 + 11 and {r.partition for r in all_copies} == {4}
    # The third worker re-routed batch B again and batch C; on partition 4 it went through batch B's 20
    # first copies, ipm(1..4), the 20 second copies, batch C's 11 copies and pm(45): 56 records, each
    # scored or a duplicate (by offset, when the second worker had persisted it, or by event id).
    text = _metrics(port3)
    assert metric(text, "pantau_scoring_events_total", outcome="rerouted") == 20 + 11
    scored, dup = (metric(text, "pantau_scoring_events_total", outcome=o) or 0 for o in ("scored", "duplicate"))
    assert scored + dup == 20 + 4 + 20 + 11 + 1 and dup >= 20 + 2

    # Dead letters: each bad record once, with its reason (by source offset, as written).
    dead = {}
    for r in read_all(kafka_bootstrap, prefix + "indicator-events.dlq"):
        h = read_headers(r.headers)
        dead[(h["pantau.dlq.source.partition"], h["pantau.dlq.source.offset"])] = r
    by_event = {}
    for r in dead.values():
        h = read_headers(r.headers)
        by_event[json.loads(r.value)["event_id"]] = (h["pantau.dlq.reason"], h["pantau.dlq.detail"])
    assert len(dead) == 5
    assert {e: reason for e, (reason, _) in by_event.items()} == {
        str(d1.event_id): "schema_invalid", str(d2_pm.event_id): "observed_in_future",
        str(d2_ipm.event_id): "observed_in_future", str(d3_null.event_id): "key_mismatch",
        str(d3_empty.event_id): "key_mismatch",
    }  # fmt: skip
    assert by_event[str(d1.event_id)][1] == "value: Input should be a valid number"
    assert by_event[str(d3_null.event_id)][1] == f"region_code: '{region}' the record has no key"
    assert "is more than 5 minutes ahead of" in by_event[str(d2_pm.event_id)][1]

    # The region's state was only ever written on the partition that owns it (D4: never on 3).
    changelog = [r for r in read_all(kafka_bootstrap, f"{app_id}-region-state-changelog") if r.key == key]
    assert changelog and {r.partition for r in changelog} == {4}
    assert svc3.stop() == 0, svc3.tail()


def test_a_killed_worker_restarted_in_its_place_takes_its_partitions_back_at_once(
    kafka_bootstrap: str, start_scoring: Callable
) -> None:
    """Static membership: a worker restarted with the same host, address and state directory replaces
    the killed one in the group at once. A dynamic member would wait for the killed one's session to
    time out (45 s here) before it got any partition."""
    svc, prefix, port = start_scoring(SCORING_SESSION_TIMEOUT="45")
    _wait_until_ready(port)
    t = datetime.now(UTC) - timedelta(minutes=1)
    events = [_event("35.78", "IPM", 80.0 + n, "index 0-100", t + timedelta(seconds=n)) for n in range(3)]
    produce(kafka_bootstrap, prefix + "indicator-events", _records(events[:2]))

    def applied(n: int) -> Callable[[], bool]:
        def check() -> bool:
            s = _latest_scores(kafka_bootstrap, prefix + "region-scores").get("35.78")
            return s is not None and s.events_applied == n

        return check

    wait_for("two events applied", applied(2), timeout=60)
    svc.kill()
    t0 = time.monotonic()
    start_scoring(port=port, SCORING_SESSION_TIMEOUT="45")
    _wait_until_ready(port)
    took = time.monotonic() - t0
    assert took < 20, f"the restarted worker held its partitions {took:.1f} s after the kill"
    produce(kafka_bootstrap, prefix + "indicator-events", _records(events[2:]))
    wait_for("the third event applied by the restarted worker", applied(3), timeout=30)


def test_the_lag_figure_never_says_caught_up_while_records_wait(kafka_bootstrap: str, start_scoring: Callable) -> None:
    """The consumer-lag gauge is true within a second: once a burst has been written, whenever the
    gauge sums to 0 a second or more later, the worker has handled every record of it. The burst is
    written by confluent-kafka set up as docs/scoring.md tells publishers (partitioner=murmur2_random)."""
    from confluent_kafka import Producer

    from pantau.feed import synthetic_events
    from schemas.regions import default_registry
    from services.runtime.faust_app import partition_of

    svc, prefix, port = start_scoring()
    _wait_until_ready(port)
    n = 100_000  # some seconds of work for the worker: the figure is watched while it works
    records = list(synthetic_events(load_framework(), sorted(default_registry().regions), n))
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "partitioner": "murmur2_random", "linger.ms": 20})
    misplaced: list[str] = []

    def check(err: object, msg: Any) -> None:
        if err is not None or msg.partition() != partition_of(msg.key().decode()):
            misplaced.append(f"{msg.key()!r}: {err or msg.partition()}")

    for key, value in records:
        producer.produce(prefix + "indicator-events", value=value, key=key, on_delivery=check)
        producer.poll(0)
    assert producer.flush(30) == 0
    assert misplaced == []  # murmur2_random puts every key where the project's clients do
    written = time.monotonic()

    def processed() -> float:
        return float(json.loads(http_get(f"http://127.0.0.1:{port}/healthz")[1])["processed"])

    samples = []
    while time.monotonic() - written < 60:
        lags = [float(ln.rsplit(" ", 1)[1]) for ln in _metrics(port).splitlines()
                if ln.startswith("pantau_scoring_consumer_lag_messages{")]  # fmt: skip
        at, done = time.monotonic() - written, processed()
        samples.append((round(at, 2), sum(lags), done))
        if at >= 1.0 and len(lags) == 12 and sum(lags) == 0:
            assert done == n, samples  # "caught up" is said only when it is true
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"the lag never came back to 0: {samples[-5:]}")
    assert svc.alive()
