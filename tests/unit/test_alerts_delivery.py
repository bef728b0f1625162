"""Delivery as data: hand-worked timelines with a fake clock (seconds from 0)."""

from __future__ import annotations

import datetime as dt

from schemas.alerts import AlertEvent, AlertState, EscalationLevel, Severity
from services.alerts.domain.delivery import (
    AlertRecord,
    Outgoing,
    Pacing,
    after_attempt,
    escalation_due,
    on_transition,
    outgoing,
    pick,
)
from tests.notify_support import an_alert_event

T0 = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
REGION, PROVINCE, NATIONAL = EscalationLevel.REGION, EscalationLevel.PROVINCE, EscalationLevel.NATIONAL
FAST = Pacing(retries=2, retry_base=0.5, retry_max_wait=30.0, redeliver_after=60.0, give_up_after=600.0)


def firing(escalation: EscalationLevel = REGION, tid: str = "t-firing", **kw: object) -> AlertEvent:
    return an_alert_event(alert_id="a1", transition_id=tid, state="firing", escalation=escalation, at=T0, **kw)


def test_pacing_is_fast_retries_then_later_deliveries_doubling_to_an_hour() -> None:
    p = Pacing(retries=5, retry_base=0.5, retry_max_wait=30.0, redeliver_after=60.0)
    # Fast: 0.5 x 2^(n-1) for n = 1..5; then 60 x 2^(n-6), capped at 3600 (60 x 2^6 = 3840 > 3600).
    assert [p.wait(n) for n in range(1, 13)] == [0.5, 1, 2, 4, 8, 60, 120, 240, 480, 960, 1920, 3600]
    assert Pacing(retry_base=8.0, retry_max_wait=30.0).wait(4) == 30.0  # 8 x 2^3 = 64, capped


def test_an_entry_is_retried_on_its_pacing_and_given_up_after_its_time() -> None:
    (entry,) = outgoing(firing(), REGION, ["webhook:http://r"], now=0.0)
    assert (entry.notification_id, entry.next_at, entry.attempts) == ("t-firing-region", 0.0, 0)
    e1, r1 = after_attempt(entry, False, "503", 0.0, FAST)  # fast retry 1: +0.5
    assert r1 == "retry" and e1 is not None and (e1.attempts, e1.next_at, e1.last_error) == (1, 0.5, "503")
    e2, _ = after_attempt(e1, False, "503", 0.5, FAST)  # fast retry 2: +1
    assert e2 is not None and e2.next_at == 1.5
    e3, _ = after_attempt(e2, False, "503", 1.5, FAST)  # later delivery 1: +60
    assert e3 is not None and e3.next_at == 61.5
    e4, _ = after_attempt(e3, False, "503", 61.5, FAST)  # +120 -> 181.5
    assert e4 is not None
    e5, _ = after_attempt(e4, False, "503", 181.5, FAST)  # +240 -> 421.5
    assert e5 is not None and e5.next_at == 421.5
    gone, r6 = after_attempt(e5, False, "503", 421.5, FAST)  # +480 -> 901.5 > 600 after creation: given up
    assert (gone, r6) == (None, "abandoned")
    sent, r = after_attempt(e5, True, None, 421.5, FAST)
    assert (sent, r) == (None, "sent")


def test_redelivery_after_an_escalation_sends_each_notification_as_it_was() -> None:
    # The region's alert fires; its webhook is down. 1800 s later nobody has acknowledged: the province.
    t1 = firing()
    record, levels = on_transition(None, t1, 0.0)
    assert record is not None and levels == [REGION]
    (webhook,) = outgoing(t1, REGION, ["webhook:http://region"], 0.0)
    failing: Outgoing | None = webhook
    now = 0.0
    for _ in range(4):  # 0, 0.5, 1.5, 61.5: every attempt fails
        assert failing is not None
        failing, _ = after_attempt(failing, False, "503", now, Pacing(give_up_after=86_400.0))
        now = failing.next_at if failing else now
    base = T0.timestamp()  # the record counts from the firing transition's time
    assert escalation_due(record, base + 1799.0, 1800.0) is None
    assert escalation_due(record, base + 1800.0, 1800.0) is PROVINCE
    t2 = firing(PROVINCE, tid="t-province")
    record2, levels2 = on_transition(record, t2, 1800.0)
    assert record2 is not None and levels2 == [PROVINCE] and record2.level is PROVINCE
    assert record2.fired_at == T0.timestamp()  # escalation keeps counting from the firing
    (province,) = outgoing(t2, PROVINCE, ["webhook:http://province"], 1800.0)
    # The region's entry is still the region's notification of the firing: same id, same level.
    assert failing is not None
    assert (failing.notification_id, failing.level, failing.alert.escalation) == ("t-firing-region", REGION, REGION)
    assert province.notification_id == "t-province-province"
    # The next step is national at 2 x 1800 s after the firing.
    assert escalation_due(record2, base + 3599.0, 1800.0) is None
    assert escalation_due(record2, base + 3600.0, 1800.0) is NATIONAL


def test_one_destination_with_an_attempt_under_way_holds_only_its_own_entries() -> None:
    a = outgoing(firing(), REGION, ["webhook:http://slow", "webhook:http://up"], 0.0)
    b = outgoing(firing(tid="t2"), REGION, ["webhook:http://slow", "webhook:http://up"], 1.0)
    later = outgoing(firing(tid="t3"), REGION, ["email:x@y"], 5.0)
    chosen = pick([*a, *b, *later], now=2.0, in_flight=["webhook:http://slow"], limit=10)
    # slow is busy: none of its entries; up gets its oldest only (one at a time); t3's is not due yet.
    assert [(e.notification_id, e.destination) for e in chosen] == [("t-firing-region", "webhook:http://up")]
    assert len(pick([*a, *b], now=2.0, in_flight=[], limit=1)) == 1


def test_transitions_read_back_update_the_record_once() -> None:
    t1 = firing()
    record, _ = on_transition(None, t1, 0.0)
    assert on_transition(record, t1, 5.0) == (record, [])  # a replay after a restart
    # Escalated to the province, then a change of severity band: both levels that heard of it hear.
    record, _ = on_transition(record, firing(PROVINCE, tid="t-province"), 1800.0)
    band = firing(tid="t-band", severity="critical", previous_severity=Severity.WARNING)
    record, levels = on_transition(record, band, 1900.0)
    assert record is not None and levels == [REGION, PROVINCE]
    assert record.alert.transition_id == "t-band" and record.alert.escalation is PROVINCE
    assert on_transition(record, band, 1901.0)[1] == []  # its replay
    acked, none = on_transition(record, band.model_copy(update={"state": AlertState.ACKNOWLEDGED,
                                                                 "transition_id": "t-ack"}), 2000.0)  # fmt: skip
    assert acked is not None and acked.acked and none == []
    assert escalation_due(acked, 99_999.0, 1800.0) is None
    resolved = band.model_copy(update={"state": AlertState.RESOLVED, "transition_id": "t-res"})
    closed, told = on_transition(acked, resolved, 2100.0)
    assert closed is not None and closed.closed_at == 2100.0 and told == [REGION, PROVINCE]
    # A firing of the same alert that was on its way when it resolved changes nothing.
    assert on_transition(closed, firing(NATIONAL, tid="t-national"), 2101.0) == (closed, [])


def test_a_transition_for_an_alert_never_seen_firing_tells_nobody() -> None:
    resolved = firing().model_copy(update={"state": AlertState.RESOLVED})
    assert on_transition(None, resolved, 0.0) == (None, [])
    assert isinstance(on_transition(None, firing(), 0.0)[0], AlertRecord)
