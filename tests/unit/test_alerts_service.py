"""The alerts service layer without faust: dicts for tables, lists for topics, a hand-set clock."""

from __future__ import annotations

import asyncio
import datetime as dt
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from typing import Any, cast

import orjson
import pytest
from pydantic import BaseModel

from schemas.alerts import AlertEvent, AlertState, EscalationLevel
from schemas.dlq import read_headers
from schemas.masterplan import Masterplan
from services.alerts.domain.delivery import AlertRecord, Outgoing, Pacing
from services.alerts.domain.engine import RegionAlerts
from services.alerts.domain.rules import AlertRules
from services.alerts.metrics import AlertsMetrics
from services.alerts.notify import AckTokens, ChannelOutcome, Notification, Notifier
from services.alerts.service.acknowledgements import Acked, Acknowledgements, Forwarded, NotOpen
from services.alerts.service.bad_records import BadRecords
from services.alerts.service.dispatch import Dispatcher
from services.alerts.service.evaluation import Evaluator
from services.alerts.service.open_alerts import OpenAlerts
from services.alerts.service.regions import Regions
from services.alerts.store import Tables, TypedTable, alert_record
from services.runtime.errors import ErrorPolicy, FailedRecord, ProcessingStopped
from services.runtime.faust_app import partition_of
from tests.notify_support import AT, an_alert_event
from tests.unit.test_alerts_domain import FW, T0, a_plan, a_score

REGION = "32.73"
PLAN = a_plan((dt.date(2025, 1, 1), {"index": 3.0}), (dt.date(2027, 1, 1), {"index": 3.0}))


class World:
    """The collaborators of the service layer: what was sent, dead-lettered and where tables were written."""

    def __init__(self, policy: ErrorPolicy = "dlq", now: float = T0.timestamp()) -> None:
        self.now = now
        self.sent: list[tuple[str, BaseModel]] = []
        self.acks_sent: list[tuple[str, BaseModel]] = []
        self.dead: list[tuple[bytes | None, bytes | None, dict[str, str]]] = []
        self.placed: list[tuple[int, str]] = []
        self.held: set[int] = set(range(12))
        self.metrics = AlertsMetrics()
        self.bad = BadRecords(policy, self.metrics, self.dead_letter)
        self.plans: dict[str, Masterplan] = {REGION: PLAN}
        self.states: dict[str, RegionAlerts] = {}
        self.regions = Regions(self.plans, self.states)

    def clock(self) -> float:
        return self.now

    async def send(self, key: str, record: BaseModel) -> None:
        self.sent.append((key, record))

    async def send_ack(self, key: str, record: BaseModel) -> None:
        self.acks_sent.append((key, record))

    async def dead_letter(self, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> None:
        self.dead.append((key, value, read_headers(headers)))

    def place(self, partition: int, key: str) -> AbstractContextManager[None]:
        self.placed.append((partition, key))
        return nullcontext()

    def evaluator(self) -> Evaluator:
        rules = AlertRules(pending_for=timedelta(minutes=5))
        return Evaluator(self.regions, FW, rules, self.metrics, self.bad, self.send, self.place, clock=self.clock)

    def sample(self, name: str, **labels: str) -> float | None:
        return self.metrics.registry.get_sample_value(name, labels)


def a_record(value: bytes | None, key: bytes | None = REGION.encode(), offset: int = 41) -> FailedRecord:
    return FailedRecord(topic="region-scores", partition=7, offset=offset, key=key, value=value)


def score_record(offset: int = 41, at: dt.datetime = T0) -> FailedRecord:
    return a_record(a_score(at, 2.0, 2.0).model_dump_json().encode(), offset=offset)


# -- scores and plans ------------------------------------------------------------------------------


def test_a_score_is_judged_its_transitions_sent_and_its_state_written_on_its_partition() -> None:
    w = World()
    asyncio.run(w.evaluator().judge(score_record()))
    assert w.sent and {key for key, _ in w.sent} == {REGION}
    assert [a.state for _, a in w.sent if isinstance(a, AlertEvent)] == [AlertState.PENDING] * len(w.sent)
    assert w.placed == [(7, REGION)] and w.states[REGION].partition == 7
    assert w.sample("pantau_alerts_scores_total") == 1 and w.dead == []


def test_a_score_that_breaks_its_contract_is_a_dead_letter_and_the_next_one_is_judged() -> None:
    w = World()
    bad = a_record(b'{"region_code": "32.73"}', key=b"poison", offset=40)
    done = asyncio.run(w.evaluator().judge_batch([bad, score_record()], lambda: True))
    assert done
    [(key, value, headers)] = w.dead
    assert (key, value) == (b"poison", b'{"region_code": "32.73"}')
    assert headers["pantau.dlq.reason"] == "schema_invalid" and "Field required" in headers["pantau.dlq.detail"]
    where = [headers[f"pantau.dlq.{k}"] for k in ("source.topic", "source.partition", "source.offset", "service")]
    assert where == ["region-scores", "7", "40", "alerts"]
    assert w.sample("pantau_alerts_dead_letters_total", reason="schema_invalid") == 1
    assert w.sample("pantau_alerts_messages_invalid_total", reason="score_invalid") == 1
    assert w.sent  # the good score still alerts


def test_a_tombstone_on_region_scores_is_an_empty_value_dead_letter() -> None:
    w = World()
    asyncio.run(w.evaluator().judge(a_record(None)))
    [(key, value, headers)] = w.dead
    assert (key, value, headers["pantau.dlq.reason"]) == (REGION.encode(), None, "empty_value")


def test_a_plan_tombstone_is_a_delete_not_a_dead_letter_but_a_bad_plan_is_one() -> None:
    w = World()
    evaluator = w.evaluator()
    asyncio.run(evaluator.on_plan(FailedRecord("masterplan-milestones", 7, 1, REGION.encode(), None)))
    assert w.dead == [] and w.sample("pantau_alerts_messages_invalid_total", reason="masterplan_invalid") == 1
    asyncio.run(evaluator.on_plan(FailedRecord("masterplan-milestones", 7, 2, REGION.encode(), b"[]")))
    [(_, value, headers)] = w.dead
    assert (value, headers["pantau.dlq.reason"]) == (b"[]", "schema_invalid")
    assert w.plans[REGION] == PLAN  # neither changed the plan


def test_a_new_plan_judges_the_last_score_against_it_at_once() -> None:
    w = World(now=(T0 + timedelta(minutes=10)).timestamp())
    evaluator = w.evaluator()
    asyncio.run(evaluator.judge(score_record()))
    w.sent.clear()
    stricter = a_plan((dt.date(2025, 1, 1), {"index": 4.5}), (dt.date(2027, 1, 1), {"index": 4.5}))
    asyncio.run(evaluator.on_plan(FailedRecord("masterplan-milestones", 7, 3, REGION.encode(),
                                               stricter.model_dump_json().encode())))  # fmt: skip
    assert w.plans[REGION] == stricter and w.regions.plan_of(REGION) == stricter
    assert any(isinstance(a, AlertEvent) and a.state is AlertState.FIRING for _, a in w.sent)


class Exploding(dict[str, Masterplan]):
    def get(self, key: str, default: Any = None) -> Any:
        raise RuntimeError("boom")


@pytest.mark.parametrize("policy", ["dlq", "skip"])
def test_a_handler_that_raises_follows_the_policy_and_the_worker_goes_on(policy: ErrorPolicy) -> None:
    w = World(policy)
    w.regions = Regions(Exploding(), w.states)
    asyncio.run(w.evaluator().judge(score_record()))
    assert w.sample("pantau_alerts_processing_errors_total", policy=policy) == 1
    if policy == "dlq":
        [(_, value, headers)] = w.dead
        assert value == score_record().value
        assert (headers["pantau.dlq.reason"], headers["pantau.dlq.detail"]) == (
            "internal_error",
            "RuntimeError('boom')",
        )
    else:
        assert w.dead == []


def test_a_handler_that_raises_stops_the_worker_under_the_crash_policy() -> None:
    w = World("crash")
    w.regions = Regions(Exploding(), w.states)
    with pytest.raises(ProcessingStopped, match=r"region-scores\[7\]@41"):
        asyncio.run(w.evaluator().judge(score_record()))
    assert w.dead == []


def test_only_the_latest_score_of_a_region_in_a_batch_is_judged_and_a_rebalance_stops_the_batch() -> None:
    w = World()
    evaluator = w.evaluator()
    older, newer = score_record(40, T0), score_record(41, T0 + timedelta(seconds=1))
    assert asyncio.run(evaluator.judge_batch([older, newer], lambda: True))
    assert w.sample("pantau_alerts_scores_total") == 1
    assert w.states[REGION].last_evaluated == (T0 + timedelta(seconds=1)).timestamp()
    assert not asyncio.run(evaluator.judge_batch([score_record(42, T0 + timedelta(seconds=2))], lambda: False))
    assert w.sample("pantau_alerts_scores_total") == 1


def test_a_pending_alert_fires_on_time_without_a_new_score_also_after_a_restart() -> None:
    w = World()
    evaluator = w.evaluator()
    asyncio.run(evaluator.judge(score_record()))
    assert evaluator.pending == {REGION: 7}
    evaluator.pending.clear()
    w.regions.forget()  # as after a restart: what the table holds
    evaluator.find_pending()
    assert evaluator.pending == {REGION: 7}
    w.sent.clear()
    w.now = (T0 + timedelta(minutes=6)).timestamp()
    asyncio.run(evaluator.fire_pending())
    assert any(isinstance(a, AlertEvent) and a.state is AlertState.FIRING for _, a in w.sent)


# -- the tables ------------------------------------------------------------------------------------


def test_a_typed_table_writes_the_json_it_always_wrote_and_reads_it_back() -> None:
    raw: dict[bytes, bytes] = {}
    tables = Tables.over({}, raw, {}, {})
    state = RegionAlerts(partition=3)
    tables.states[REGION] = state
    assert raw == {REGION.encode(): state.model_dump_json().encode()}
    assert tables.states[REGION] == state and tables.states.get("35.78") is None
    assert REGION in tables.states and "35.78" not in tables.states
    assert list(tables.states.items()) == [(REGION, state)] and list(tables.states.values()) == [state]
    del tables.states[REGION]
    assert raw == {} and len(tables.states) == 0


def test_an_alert_record_of_the_earlier_dict_layout_is_read() -> None:
    alert = an_alert_event()
    old = orjson.dumps({"region": REGION, "alert": alert.model_dump(mode="json"), "level": 1, "acked": True,
                        "closed": True})  # fmt: skip
    record = alert_record(old)
    assert record == AlertRecord(region=REGION, alert=alert, level=EscalationLevel.PROVINCE, acked=True,
                                 fired_at=alert.at.timestamp(), closed_at=alert.at.timestamp())  # fmt: skip
    assert alert_record(record.model_dump_json().encode()) == record
    assert TypedTable({b"a": old}, alert_record)["a"] == record


# -- notifications, acknowledgement, escalation ------------------------------------------------------


class FakeNotifier:
    def __init__(self) -> None:
        self.delivered: list[tuple[Notification, str]] = []
        self.refreshed: list[list[AlertEvent]] = []
        self.wording = None

    def destinations(self, n: Notification) -> list[str]:
        return [f"webhook:https://{n.level}.example/hook"]

    async def deliver_to(self, n: Notification, destination: str) -> ChannelOutcome:
        self.delivered.append((n, destination))
        return ChannelOutcome("webhook", destination.partition(":")[2], "sent", attempts=1)

    async def refresh_alertmanager(self, alerts: list[AlertEvent]) -> None:
        self.refreshed.append(alerts)


class Desk:
    """Open alerts, the dispatcher and the acknowledge link over one World."""

    def __init__(self, w: World) -> None:
        self.w = w
        self.notifier = FakeNotifier()
        notifier = cast(Notifier, self.notifier)
        self.deliveries: dict[str, AlertRecord] = {}
        self.outbox: dict[str, Outgoing] = {}
        self.tokens = AckTokens("ack secret", "http://127.0.0.1:6067", timedelta(days=7), clock=w.clock)
        self.alerts = OpenAlerts(self.deliveries, notifier, w.send, w.place, escalate_after=timedelta(minutes=30),
                                 clock=w.clock)  # fmt: skip
        self.dispatcher = Dispatcher(self.outbox, self.alerts, w.regions, notifier, self.tokens, w.metrics, w.bad,
                                     pacing=Pacing(), concurrency=4, place=w.place, held_partitions=lambda: w.held,
                                     clock=w.clock)  # fmt: skip
        self.acks = Acknowledgements(self.alerts, w.regions, self.tokens, notifier.wording, w.bad,
                                     send_ack=w.send_ack, held_partitions=lambda: w.held, clock=w.clock)  # fmt: skip

    async def settle(self) -> None:
        while self.dispatcher.running:
            await asyncio.gather(*self.dispatcher.running)


FIRING = an_alert_event()


def test_a_firing_transition_is_delivered_from_the_outbox_with_its_ack_link() -> None:
    desk = Desk(World(now=AT.timestamp()))

    async def scenario() -> None:
        desk.dispatcher.on_transition(FIRING)
        assert list(desk.outbox) == [f"{FIRING.transition_id}-region|webhook:https://region.example/hook"]
        await desk.settle()

    asyncio.run(scenario())
    [(n, destination)] = desk.notifier.delivered
    assert (n.id, n.level, destination) == (f"{FIRING.transition_id}-region", "region",
                                            "webhook:https://region.example/hook")  # fmt: skip
    assert n.ack_url is not None and desk.acks.claim(n.ack_url.split("token=")[1], FIRING.alert_id) == REGION
    assert desk.outbox == {} and desk.dispatcher.queued == {}  # sent: gone from the outbox
    assert desk.deliveries[FIRING.alert_id].open and desk.deliveries[FIRING.alert_id].level is EscalationLevel.REGION
    desk.dispatcher.on_transition(FIRING)  # a replay notifies nobody
    assert desk.outbox == {}


def test_acknowledging_writes_one_transition_and_stops_the_escalation() -> None:
    w = World(now=AT.timestamp())
    desk = Desk(w)

    async def scenario() -> None:
        desk.dispatcher.on_transition(FIRING)
        first = await desk.acks.click(FIRING.alert_id, REGION)
        assert isinstance(first, Acked) and not first.already
        again = await desk.acks.click(FIRING.alert_id, REGION)
        assert isinstance(again, Acked) and again.already  # a second click is a replay: nothing written
        [(key, ack)] = w.sent
        assert key == REGION and isinstance(ack, AlertEvent) and ack.state is AlertState.ACKNOWLEDGED
        desk.dispatcher.on_transition(ack)  # read back from the topic
        assert desk.deliveries[FIRING.alert_id].acked and desk.alerts.acking == set()
        w.now += 3600
        await desk.alerts.escalate()
        assert len(w.sent) == 1
        await desk.settle()

    asyncio.run(scenario())


def test_an_unacknowledged_alert_escalates_once_and_a_closed_record_goes_after_a_day() -> None:
    w = World(now=AT.timestamp())
    desk = Desk(w)

    async def scenario() -> None:
        desk.dispatcher.on_transition(FIRING)
        w.now += 31 * 60
        await desk.alerts.escalate()
        await desk.alerts.escalate()  # not written twice before it is read back
        [(_, up)] = w.sent
        assert isinstance(up, AlertEvent) and up.escalation is EscalationLevel.PROVINCE
        assert up.summary.endswith("(not acknowledged: escalated to province)")
        desk.dispatcher.on_transition(up)  # read back: the province hears of it
        await desk.settle()
        assert [n.level for n, _ in desk.notifier.delivered] == ["region", "province"]
        resolved = FIRING.model_copy(update={"state": AlertState.RESOLVED, "transition_id": "t-resolved"})
        desk.dispatcher.on_transition(resolved)
        assert not desk.deliveries[FIRING.alert_id].open
        await desk.settle()
        w.now += 86_401
        w.placed.clear()
        await desk.alerts.escalate()
        assert desk.deliveries == {} and w.placed == [(partition_of(REGION), FIRING.alert_id)]

    asyncio.run(scenario())


def test_the_alert_page_and_the_button_on_whichever_worker() -> None:
    w = World(now=AT.timestamp())
    desk = Desk(w)
    token = desk.tokens.token(FIRING.alert_id, REGION, issued_at=AT.timestamp())

    async def scenario() -> None:
        assert desk.acks.page(FIRING.alert_id, "forged").problem == "bad.invalid"
        assert desk.acks.page(FIRING.alert_id, None).missing == "notfound"
        assert desk.acks.page(FIRING.alert_id, token).missing == "resolved"  # held here, and not open
        w.held = set()  # another worker holds the region
        shown = desk.acks.page(FIRING.alert_id, token)
        assert (shown.elsewhere, shown.missing, shown.region) == (True, None, REGION)
        assert desk.acks.page(FIRING.alert_id, None).missing == "notfound"
        assert await desk.acks.click(FIRING.alert_id, REGION) == Forwarded(REGION)
        assert [k for k, _ in w.acks_sent] == [REGION]
        w.held = set(range(12))
        assert await desk.acks.click(FIRING.alert_id, REGION) == NotOpen()
        desk.dispatcher.on_transition(FIRING)
        shown = desk.acks.page(FIRING.alert_id, token)
        assert shown.held is not None and shown.held.alert == FIRING and shown.missing is None
        assert desk.alerts.listing()[0]["alert_id"] == FIRING.alert_id
        await desk.alerts.refresh_alertmanager()
        assert desk.notifier.refreshed == [[FIRING]]
        await desk.settle()

    asyncio.run(scenario())


def test_records_that_are_not_alerts_or_acks_are_counted_and_skipped() -> None:
    w = World()
    desk = Desk(w)
    desk.dispatcher.on_record(FailedRecord("maturity-alerts", 1, 2, b"k", b"{}"))
    asyncio.run(desk.acks.on_record(FailedRecord("alert-acks", 1, 3, b"k", b"nope")))
    assert w.sample("pantau_alerts_messages_invalid_total", reason="alert_invalid") == 1
    assert w.sample("pantau_alerts_messages_invalid_total", reason="ack_invalid") == 1
    assert w.dead == [] and desk.outbox == {}
