"""Faust wiring of the alerts service: thin. The domain (domain/) decides; notify/ delivers.

Three agents on co-partitioned topics keyed by region (faust assigns the same partitions of each
to one worker):
- ``masterplan-milestones`` -> the ``plans`` table (region -> Masterplan);
- ``region-scores`` -> evaluate the region's alerts (state in the ``alert-state`` table) and
  write every transition to ``maturity-alerts``;
- ``maturity-alerts`` -> notifications. Delivery follows the log: a record is acknowledged only
  after its notifications were attempted, so after a crash it is delivered again with the same id.
  Open alerts are kept in the ``deliveries`` table; a timer escalates those nobody acknowledged by
  writing an escalation transition to the same topic, and the acknowledge link writes an
  ``acknowledged`` transition, so escalation state survives restarts as well.
- ``alert-acks`` -> acknowledgements. An acknowledge link may reach any worker (behind a load
  balancer); one that does not hold the alert's region forwards the click there, keyed by region.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import faust
import orjson
from faust.types import StreamT
from faust.web import Request, Response, View
from prometheus_client import generate_latest
from pydantic import BaseModel, ValidationError

from schemas.alerts import AckRequest, AlertEvent, AlertState, EscalationLevel
from schemas.common import province_of
from schemas.framework import load_framework
from schemas.masterplan import NATIONAL_MASTERPLAN_TARGET, Masterplan, expected_on, next_milestone
from schemas.scores import RegionScore
from schemas.timezones import local_day, local_midnight
from schemas.topics import DEFAULT_PARTITIONS
from services.alerts.config import AlertsSettings
from services.alerts.domain.delivery import (
    LEVELS,
    AlertRecord,
    Outgoing,
    Pacing,
    after_attempt,
    escalation_due,
    notification_id,
    on_transition,
    outgoing,
    pick,
)
from services.alerts.domain.engine import RegionAlerts, evaluate, reevaluate, targets
from services.alerts.domain.lifecycle import transition_id
from services.alerts.domain.rules import target_value
from services.alerts.metrics import AlertsMetrics
from services.alerts.notify import (
    AckTokenError,
    AckTokenExpired,
    AckTokens,
    Notification,
    Notifier,
    NotifyMetrics,
    NotifySettings,
)
from services.alerts.notify.render import Facts
from services.alerts.pages import SECURITY_HEADERS, STATIC, Language, OpenAlert, Pages, language
from services.runtime import faust_app, faust_seam, logs
from services.runtime.topics import ensure_changelogs

log = logs.get("pantau.alerts")
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4"
M = TypeVar("M", bound=BaseModel)
STATE_REFRESH = 30.0
STYLESHEET = (STATIC / "pantau.css").read_bytes()


@dataclass
class AlertsService:
    settings: AlertsSettings
    app: faust.App
    metrics: AlertsMetrics
    notifier: Notifier


def build(settings: AlertsSettings, notify_settings: NotifySettings) -> AlertsService:
    framework = load_framework(settings.framework_file)
    rules = settings.rules()
    metrics = AlertsMetrics()
    metrics.masterplans_target.set(NATIONAL_MASTERPLAN_TARGET)
    notifier = Notifier.from_settings(notify_settings, NotifyMetrics(metrics.registry),
                                      framework=framework, drop_window=settings.drop_window)  # fmt: skip
    tokens = AckTokens.from_settings(notify_settings)  # the one signer: it writes every link and verifies clicks
    pages = Pages(notify_settings.ack_ttl)
    app = faust_app.make_app(
        settings.app_id, kafka=settings.kafka, store=settings.store, data_dir=settings.data_dir,
        web_host=settings.web_host, web_port=settings.web_port, commit_interval=settings.commit_interval,
        session_timeout=settings.session_timeout,
    )  # fmt: skip
    faust_seam.set_fetch_max_wait(0.05)
    ensure_changelogs(settings.kafka, settings.app_id, ["plans", "alert-state", "deliveries", "outbox"],
                      DEFAULT_PARTITIONS)  # fmt: skip
    raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
    plans_topic = app.topic(settings.topic("masterplan-milestones"), **raw)
    scores_topic = app.topic(settings.topic("region-scores"), **raw)
    alerts_topic = app.topic(settings.topic("maturity-alerts"), **raw)
    acks_topic = app.topic(settings.topic("alert-acks"), **raw)
    table_args: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "partitions": DEFAULT_PARTITIONS}
    plans = app.Table("plans", **table_args)
    states = app.Table("alert-state", **table_args)
    deliveries = app.Table("deliveries", **table_args)  # alert id -> AlertRecord (open, or closed a while)
    outbox = app.Table("outbox", **table_args)  # Outgoing.key -> a notification to one destination, until sent
    pacing = Pacing(retries=notify_settings.retries, retry_base=notify_settings.retry_base,
                    retry_max_wait=notify_settings.retry_max_wait,
                    redeliver_after=settings.redeliver_after.total_seconds(),
                    give_up_after=settings.redeliver_for.total_seconds())  # fmt: skip
    in_flight: set[str] = set()  # destinations with an attempt under way (one at a time each)
    queued: dict[bytes, Outgoing] = {}  # the outbox entries held here, decoded (the table holds the truth)
    ticks = [0]
    attempts_running: set[asyncio.Task[None]] = set()
    concurrency = asyncio.Semaphore(settings.delivery_concurrency)
    svc = AlertsService(settings, app, metrics, notifier)
    escalating: set[str] = set()  # escalations written but not yet seen back on the topic
    acking: set[str] = set()  # acknowledgements written but not yet seen back (a second click is a replay)
    pending_regions: dict[str, int] = {}  # region -> its partition, while it has a pending alert

    # Decoded plans and states of the partitions this worker holds (the tables hold the truth).
    plan_cache: dict[str, Masterplan | None] = {}
    held: dict[str, RegionAlerts] = {}
    written_at: dict[str, float] = {}  # region -> when its state was last written to the table

    def plan_of(region: str) -> Masterplan | None:
        if region not in plan_cache:
            raw_plan = plans.get(region.encode())
            plan_cache[region] = Masterplan.model_validate_json(raw_plan) if raw_plan is not None else None
        return plan_cache[region]

    def state_of(region: str) -> RegionAlerts:
        st = held.get(region)
        if st is None:
            raw_state = states.get(region.encode())
            st = held[region] = RegionAlerts.model_validate_json(raw_state) if raw_state is not None else RegionAlerts()
        return st

    def shape(st: RegionAlerts) -> tuple[object, ...]:
        """What must reach the table at once: the alerts and the kept history (not the last score's time)."""
        return (tuple((k, t.state) for k, t in st.tracks.items()), tuple(len(h) for h in st.history.values()))

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def on_revoked(sender: Any, revoked: set[Any], **_: Any) -> None:
        plan_cache.clear()
        held.clear()
        queued.clear()  # read again from the table: its entries of the partitions still held

    def read(model: type[M], value: bytes | None, where: str, reason: str) -> M | None:
        """The record as ``model``; None (counted, logged with where it is) when it is not one."""
        try:
            return model.model_validate_json(value or b"")
        except ValidationError as exc:
            metrics.invalid.labels(reason).inc()
            log.error("alerts.record_invalid", reason=reason, where=where, error=str(exc)[:500])
            return None

    @app.agent(plans_topic, name="follow-plans")
    async def follow_plans(stream: StreamT[Any]) -> None:
        async for event in stream.events():
            plan = read(Masterplan, event.value, _where(event.message), "masterplan_invalid")
            if plan is None:
                continue
            region = plan.region_code
            plans[region.encode()] = event.value
            plan_cache[region] = plan
            log.debug("alerts.plan", region=region, plan=plan.plan_id, basis=plan.basis)
            # A new plan moves the path: judge the region's last score against it at once.
            state = state_of(region)
            if state.last_score is not None:
                transitions = reevaluate(state, dt.datetime.now(dt.UTC), plan, framework, rules)
                states[region.encode()] = state.model_dump_json().encode()
                await publish(region, transitions)

    @app.agent(scores_topic, name="evaluate-scores")
    async def evaluate_scores(stream: StreamT[Any]) -> None:
        # Subscribes the worker to region-scores (partitions, table recovery); the records go to
        # score_batch() a partition's fetch at a time (services.runtime.faust_seam.route_topic_batches).
        async for _ in stream:  # pragma: no cover - nothing is delivered here
            pass

    async def score_batch(tp: Any, records: list[Any]) -> None:
        """A partition's fetched scores: the latest of each region is judged (older ones add nothing)."""
        generation = app.consumer_generation_id
        await app.flow_control.acquire()
        latest: dict[bytes, Any] = {}
        for record in records:
            latest[record.key or b""] = record
        for n, record in enumerate(latest.values(), 1):
            if app.consumer_generation_id != generation:
                return  # a rebalance: the partition's new owner reads these again
            await judge(record)
            if n % 64 == 0:
                await asyncio.sleep(0)
        faust_seam.ack_offsets(app.consumer, tp, records[0].offset, records[-1].offset)

    async def judge(record: Any) -> None:
        score = read(RegionScore, record.value, f"{record.topic}[{record.partition}]@{record.offset}", "score_invalid")
        if score is None:
            return
        if score.framework != framework.key:
            return  # scores of another framework version (a re-scoring run)
        metrics.scores.inc()
        region = score.region_code
        plan = plan_of(region)
        state = state_of(region)
        state.partition = record.partition
        before = shape(state)
        transitions = evaluate(state, score, plan, framework, rules)
        # Written when alerts or history change, else at most every STATE_REFRESH seconds: after a
        # crash a few older scores are judged again, which gives the same transitions (same ids).
        now_s = time.monotonic()
        if transitions or shape(state) != before or now_s - written_at.get(region, 0.0) >= STATE_REFRESH:
            write_state(region, record.partition, state)
            written_at[region] = now_s
        _track_pending(region, record.partition, state)
        await publish(region, transitions)
        _milestone_gauges(metrics, score, plan, framework_targets)

    def write_state(region: str, partition: int, state: RegionAlerts) -> None:
        """Outside an agent's stream: the write goes to the region's partition of region-scores."""
        with faust_app.on_partition(app, scores_topic.get_topic_name(), partition, region.encode()):
            states[region.encode()] = state.model_dump_json().encode()

    faust_seam.route_topic_batches(scores_topic.get_topic_name(), score_batch)

    def _track_pending(region: str, partition: int, state: RegionAlerts) -> None:
        if any(t.state is AlertState.PENDING for t in state.tracks.values()):
            pending_regions[region] = partition
        else:
            pending_regions.pop(region, None)

    async def publish(region: str, transitions: list[AlertEvent]) -> None:
        for alert in transitions:
            metrics.transitions.labels(alert.kind.value, alert.state.value).inc()
            await alerts_topic.send(key=region.encode(), value=alert.model_dump_json().encode())
            log.info("alerts.transition", region=region, kind=alert.kind.value, target=alert.target,
                     state=alert.state.value, severity=alert.severity.value, alert_id=alert.alert_id)  # fmt: skip

    @app.timer(interval=30.0)
    async def find_pending() -> None:
        """After a restart (or a rebalance), pick up the regions whose state holds a pending alert."""
        for region_key, raw_state in list(states.items()):
            st = held.get(region_key.decode()) or RegionAlerts.model_validate_json(raw_state)
            if st.partition is not None:
                _track_pending(region_key.decode(), st.partition, st)

    @app.timer(interval=max(0.2, min(5.0, settings.pending_for.total_seconds() / 4)))
    async def fire_pending() -> None:
        """Pending alerts fire after Rules.pending_for even when no new score arrives."""
        now = dt.datetime.now(dt.UTC)
        for region, partition in list(pending_regions.items()):
            state = state_of(region)
            if not state.pending_due(now, rules.pending_for):
                continue
            transitions = reevaluate(state, now, plan_of(region), framework, rules)
            write_state(region, partition, state)
            _track_pending(region, partition, state)
            await publish(region, transitions)

    framework_targets = targets(framework)

    @app.agent(alerts_topic, name="notify")
    async def notify(stream: StreamT[Any]) -> None:
        """Each transition updates its alert's record and puts its notifications in the outbox.

        The outbox is a table: written before the record is acknowledged, it survives a crash, and
        the dispatcher delivers from it without holding up the next transition.
        """
        async for event in stream.events():
            alert = read(AlertEvent, event.value, _where(event.message), "alert_invalid")
            if alert is None:
                continue
            key = alert.alert_id.encode()
            now = time.time()
            before = record_of(alert.alert_id)
            record, levels = on_transition(before, alert, now)
            if record is not None and record is not before:
                deliveries[key] = record.model_dump_json().encode()
            for level in levels:
                for entry in outgoing(alert, level, notifier.destinations(notification(alert, level)), now):
                    outbox[entry.key.encode()] = entry.model_dump_json().encode()
                    queued[entry.key.encode()] = entry
            if alert.state is AlertState.ACKNOWLEDGED:
                acking.discard(alert.alert_id)
            else:
                escalating.discard(alert.alert_id)
            if levels:
                dispatch()

    def record_of(alert_id: str) -> AlertRecord | None:
        raw_record = deliveries.get(alert_id.encode())
        return _record(raw_record) if raw_record is not None else None

    def notification(alert: AlertEvent, level: EscalationLevel) -> Notification:
        history = state_of(alert.region_code).history.get(alert.target, [])
        return Notification(
            id=notification_id(alert, level),
            alert=alert,
            level=level.value,
            ack_url=ack_link(alert) if alert.state is AlertState.FIRING else None,
            history=[(dt.datetime.fromtimestamp(t, dt.UTC), v) for t, v in history[-60:]],
            path=milestone_path(alert),
        )

    def dispatch() -> None:
        """Start an attempt for every due outbox entry whose destination has none under way."""
        entries = list(queued.values())
        metrics.undelivered.set(sum(1 for e in entries if e.attempts > 0))
        for entry in pick(entries, time.time(), in_flight, settings.delivery_concurrency * 4):
            in_flight.add(entry.destination)
            task = asyncio.ensure_future(attempt(entry))
            attempts_running.add(task)
            task.add_done_callback(attempts_running.discard)

    async def attempt(entry: Outgoing) -> None:
        try:
            async with concurrency:
                outcome = await notifier.deliver_to(notification(entry.alert, entry.level), entry.destination)
            nxt, result = after_attempt(entry, outcome.outcome != "failed", outcome.error, time.time(), pacing)
            if entry.attempts >= pacing.retries:  # a later delivery, after the fast retries
                metrics.redeliveries.labels(
                    "delivered" if result == "sent" else result.replace("retry", "failed")
                ).inc()
            if result == "abandoned":
                log.error("alerts.delivery_abandoned", alert_id=entry.alert.alert_id, region=entry.alert.region_code,
                          notification_id=entry.notification_id, destination=entry.destination,
                          attempts=entry.attempts + 1, error=outcome.error)  # fmt: skip
            region = entry.alert.region_code
            partition = faust_app.partition_of(region)
            if partition not in held_partitions():
                return  # the region moved to another worker meanwhile: its outbox goes on there
            with faust_app.on_partition(app, alerts_topic.get_topic_name(), partition, entry.key.encode()):
                if nxt is None:
                    outbox.pop(entry.key.encode(), None)
                    queued.pop(entry.key.encode(), None)
                else:
                    outbox[entry.key.encode()] = nxt.model_dump_json().encode()
                    queued[entry.key.encode()] = nxt
        except Exception:  # a bug must not stop the dispatcher: the entry stays and is tried again
            log.exception("alerts.delivery_attempt_error", notification_id=entry.notification_id,
                          destination=entry.destination)  # fmt: skip
        finally:
            in_flight.discard(entry.destination)

    @app.timer(interval=0.5)
    async def dispatcher() -> None:
        ticks[0] += 1
        if not queued or ticks[0] % 20 == 0:  # after a start or a rebalance, and every 10 s: what the table holds
            queued.clear()
            queued.update((key, Outgoing.model_validate_json(raw)) for key, raw in list(outbox.items()))
        dispatch()

    def ack_link(alert: AlertEvent) -> str:
        # Signed as of the transition's time, not now: a re-send after a crash is byte-identical, and
        # the link's lifetime counts from the alert.
        return tokens.url(alert.alert_id, alert.region_code, issued_at=alert.at.timestamp())

    def open_alert(alert_id: str) -> OpenAlert | None:
        """An open alert held here, with its escalation state; None when it is not open here."""
        record = record_of(alert_id)
        if record is None or not record.open:
            return None
        return OpenAlert(record.alert, record.level, record.acked or alert_id in acking, record.fired_at,
                         settings.escalate_after)  # fmt: skip

    async def acknowledge(alert_id: str) -> AlertEvent | None:
        """Write the ``acknowledged`` transition of an open alert held here; None when it is not open here.

        Idempotent: an alert already acknowledged is returned as it is, and nothing is written again.
        """
        held_alert = open_alert(alert_id)
        if held_alert is None:
            return None
        alert = held_alert.alert
        if held_alert.acked:
            return alert
        ack = alert.model_copy(update={
            "state": AlertState.ACKNOWLEDGED, "transition_id": transition_id(alert_id, AlertState.ACKNOWLEDGED),
            "at": dt.datetime.now(dt.UTC), "summary": f"{alert.summary} (acknowledged)",
        })  # fmt: skip
        acking.add(alert_id)
        await alerts_topic.send(key=alert.region_code.encode(), value=ack.model_dump_json().encode())
        log.info("alerts.acknowledged", alert_id=alert_id, region=alert.region_code)
        return alert

    def held_partitions() -> set[int]:
        """The partitions of ``maturity-alerts`` (and so of every region-keyed topic) this worker holds."""
        name = alerts_topic.get_topic_name()
        return {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == name}

    def records() -> Iterator[tuple[bytes, AlertRecord]]:
        """The alerts' records held here (closed ones too, until they are dropped)."""
        for key, raw_record in list(deliveries.items()):
            yield key, _record(raw_record)

    def open_records() -> Iterator[tuple[bytes, AlertRecord]]:
        return ((key, record) for key, record in records() if record.open)

    @app.agent(acks_topic, name="forwarded-acks")
    async def forwarded_acks(stream: StreamT[Any]) -> None:
        async for event in stream.events():
            req = read(AckRequest, event.value, _where(event.message), "ack_invalid")
            if req is not None and await acknowledge(req.alert_id) is None:
                log.info("alerts.ack_not_open", alert_id=req.alert_id, region=req.region_code)

    def milestone_path(alert: AlertEvent) -> list[tuple[dt.datetime, float]]:
        """The milestones of the alert's target in the region's plan, as (due, target) points."""
        plan = plan_of(alert.region_code)
        if plan is None:
            return []
        return [(local_midnight(m.due, alert.region_code), m.targets[alert.target])
                for m in plan.milestones if alert.target in m.targets]  # fmt: skip

    @app.timer(interval=5.0)
    async def escalate() -> None:
        """Unacknowledged alerts go up a level after ``escalate_after`` per level; closed records go a day on."""
        now = time.time()
        for key, record in records():
            alert_id = key.decode()
            if not record.open:
                if now - (record.closed_at or now) > CLOSED_KEPT:
                    with faust_app.on_partition(app, alerts_topic.get_topic_name(),
                                                faust_app.partition_of(record.region), key):  # fmt: skip
                        deliveries.pop(key, None)
                continue
            nxt = escalation_due(record, now, settings.escalate_after.total_seconds())
            if nxt is None or alert_id in escalating or alert_id in acking:
                continue
            escalated = record.alert.model_copy(update={
                "escalation": nxt, "transition_id": transition_id(alert_id, AlertState.FIRING, nxt.value),
                "at": dt.datetime.now(dt.UTC), "previous_severity": None,
                "summary": f"{record.alert.summary} (not acknowledged: escalated to {nxt.value})",
            })  # fmt: skip
            escalating.add(alert_id)
            await alerts_topic.send(key=record.region.encode(), value=escalated.model_dump_json().encode())
            log.warning("alerts.escalated", alert_id=alert_id, level=nxt.value, region=record.region)

    @app.timer(interval=300.0)
    async def refresh_alertmanager() -> None:
        # Alertmanager forgets a firing alert after its endsAt: push the open ones again.
        firing = [record.alert for _, record in open_records()]
        if firing:
            await notifier.refresh_alertmanager(firing)

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def on_shutdown(sender: Any, **_: Any) -> None:
        await notifier.aclose()

    @app.timer(interval=5.0)
    async def gauges() -> None:
        firing: dict[tuple[str, str, str], int] = {}
        per_region: list[tuple[str, str, str, str, str]] = []
        for region_key, raw_state in list(states.items()):
            region = region_key.decode()
            st = held.get(region) or RegionAlerts.model_validate_json(raw_state)
            for track_key, track in st.tracks.items():
                if track.state is AlertState.FIRING:
                    target, kind = track_key.split("/", 1)
                    k = (kind, track.severity.value, province_of(region))
                    firing[k] = firing.get(k, 0) + 1
                    per_region.append((region, province_of(region), kind, target, track.severity.value))
        metrics.firing.clear()
        for (kind, severity, province), n in firing.items():
            metrics.firing.labels(kind, severity, province).set(n)
        metrics.region_firing.clear()
        for labels in per_region:
            metrics.region_firing.labels(*labels).set(1)
        # The programme: published totals, and each region's status (drives the boards' per-region table).
        metrics.set_programme([orjson.loads(raw_plan) for raw_plan in list(plans.values())])

    @app.timer(interval=1.0)  # the consumer-lag gauge is true within a second
    async def lag() -> None:
        await faust_app.export_lag(app, {scores_topic.get_topic_name(), alerts_topic.get_topic_name()},
                                   metrics.consumer_lag)  # fmt: skip

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Request) -> Response:
        return web.bytes(generate_latest(metrics.registry), content_type=METRICS_CONTENT_TYPE)

    def facts_of(alert: AlertEvent, lang: Language) -> Facts:
        return notifier.wording.facts(alert, lang, milestone_path(alert))

    def page(web: Any, html: str, status: int = 200) -> Response:
        return web.html(html, status=status, headers=SECURITY_HEADERS)

    def wants_json(request: Request) -> bool:
        accept = request.headers.get("Accept", "")
        return "application/json" in accept and "text/html" not in accept

    def switch_url(request: Request, lang: Language) -> str:
        return str(request.rel_url.update_query(lang="en" if lang == "id" else "id"))

    async def alert_page(web: Any, request: Request, alert_id: str, token: str | None) -> Response:
        lang = language(request.query.get("lang"), notify_settings.language)
        held_alert = open_alert(alert_id)
        region = held_alert.alert.region_code if held_alert else None
        if token is not None:
            try:
                _, region = tokens.claim(token, alert_id)
            except AckTokenError as exc:
                return page(web, pages.outcome(lang, _token_problem(exc)), 403)
        if held_alert is None and region is not None and faust_app.partition_of(region) not in held_partitions():
            try:  # the worker holding the region renders it (faust's router: the alert-state table's owner)
                return await app.router.route_req(states.name, region.encode(), web, request)
            except Exception as exc:  # that worker is unreachable, or the assignment is moving
                log.info("alerts.page_not_routed", alert_id=alert_id, region=region, error=str(exc)[:200])
        if held_alert is None and (token is None or region is None or
                                   faust_app.partition_of(region) in held_partitions()):  # fmt: skip
            return page(web, pages.outcome(lang, "resolved" if token else "notfound"), 404)
        facts = facts_of(held_alert.alert, lang) if held_alert else None
        html = pages.alert(lang, alert_id, region or "", facts, held_alert, token=token,
                           action=f"/ack/{alert_id}", switch=switch_url(request, lang))  # fmt: skip
        return page(web, html)

    @app.page("/ack/{alert_id}")
    class AckView(View):
        """GET shows the alert with its button and changes nothing (mail scanners open links); POST acknowledges."""

        async def get(self, request: Request, alert_id: str) -> Response:
            return await alert_page(self, request, alert_id, request.query.get("token", ""))

        async def post(self, request: Request, alert_id: str) -> Response:
            form = await request.post()
            token = str(form.get("token") or request.query.get("token", ""))
            lang = language(str(form.get("lang") or request.query.get("lang", "")), notify_settings.language)
            as_json = wants_json(request)
            back = f"/ack/{alert_id}?token={token}&lang={lang}"
            try:
                _, region = tokens.claim(token, alert_id)
            except AckTokenError as exc:
                if as_json:
                    return self.json({"error": str(exc), "alert_id": alert_id}, status=403)
                return page(self, pages.outcome(lang, _token_problem(exc)), 403)
            before = open_alert(alert_id)
            alert = await acknowledge(alert_id)
            if alert is not None:
                already = before is not None and before.acked
                if as_json:
                    return self.json({"acknowledged": alert_id, "region": alert.region_code, "kind": alert.kind.value,
                                      "already": already})  # fmt: skip
                f = facts_of(alert, lang)
                key = "again" if already else "ok"
                html = pages.outcome(lang, key, back=back, region=f.region, kind=f.kind, target=f.target)
                return page(self, html)
            if region is None or faust_app.partition_of(region) in held_partitions():
                if as_json:
                    return self.json({"error": f"alert {alert_id} is not open: it was resolved"}, status=404)
                return page(self, pages.outcome(lang, "resolved"), 404)
            # Another worker holds the region: forward the click there (it is in the log, so it is not lost).
            req = AckRequest(alert_id=alert_id, region_code=region, requested_at=dt.datetime.now(dt.UTC))
            await acks_topic.send(key=region.encode(), value=req.model_dump_json().encode())
            log.info("alerts.ack_forwarded", alert_id=alert_id, region=region)
            if as_json:
                return self.json({"forwarded": alert_id, "region": region,
                                  "detail": f"the worker holding region {region} records the acknowledgement"},
                                 status=202)  # fmt: skip
            return page(self, pages.outcome(lang, "forwarded", back=back, region=region), 202)

    @app.page("/alerts/{alert_id}")
    async def alert_view(web: Any, request: Request, alert_id: str) -> Response:
        """The alert page without the button (Alertmanager's generatorURL points here)."""
        return await alert_page(web, request, alert_id, None)

    @app.page("/runbooks")
    async def runbooks(web: Any, request: Request) -> Response:
        return page(web, pages.runbook(language(request.query.get("lang"), notify_settings.language)))

    @app.page("/runbooks/{section}")
    async def runbook_section(web: Any, request: Request, section: str) -> Response:
        """``runbook_url`` of the maturity alerts (``/runbooks/{kind}``): the runbook at that section."""
        if section.lower() not in pages.runbook_sections():
            lang = language(request.query.get("lang"), notify_settings.language)
            return page(web, pages.outcome(lang, "notfound"), 404)
        return web.html("", status=303, headers={**SECURITY_HEADERS, "Location": f"/runbooks#{section.lower()}"})

    @app.page("/static/pantau.css")
    async def stylesheet(web: Any, request: Request) -> Response:
        return web.bytes(STYLESHEET, content_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @app.page("/alerts")
    async def active_alerts(web: Any, request: Request) -> Response:
        out = []
        for key, record in open_records():
            acked = record.acked or key.decode() in acking
            out.append({**record.alert.model_dump(mode="json"), "acked": acked, "level": record.level.value})
        return web.json({"open": sorted(out, key=lambda a: (a["region_code"], a["kind"], a["target"]))})

    @app.page("/healthz")
    async def healthz(web: Any, request: Request) -> Response:
        return web.json(
            {"status": "ok", "scores": metrics.scores._value.get(), "partitions": sorted(held_partitions())}
        )

    _ = (on_revoked, follow_plans, evaluate_scores, find_pending, fire_pending, notify, forwarded_acks, dispatcher,
         escalate, refresh_alertmanager, on_shutdown, gauges, lag, metrics_page, AckView, alert_view, runbooks,
         runbook_section, stylesheet, active_alerts, healthz)  # fmt: skip
    return svc


CLOSED_KEPT = 86_400.0  # a resolved alert's record is kept a day, so that a late firing of it is ignored


def _record(raw: bytes) -> AlertRecord:
    """An alert's record; a record of the earlier dict layout (before AlertRecord) is read too."""
    try:
        return AlertRecord.model_validate_json(raw)
    except ValidationError:
        old = orjson.loads(raw)
        level = LEVELS[old.get("level", 0)] if isinstance(old.get("level", 0), int) else EscalationLevel.REGION
        alert = AlertEvent.model_validate(old["alert"])
        closed_at = alert.at.timestamp() if old.get("closed") else None
        return AlertRecord(region=old["region"], alert=alert, level=level, acked=old.get("acked", False),
                           fired_at=old.get("fired_at", alert.at.timestamp()), closed_at=closed_at)  # fmt: skip


def _token_problem(exc: AckTokenError) -> str:
    """The words of an outcome page for a link that does not acknowledge its alert."""
    if isinstance(exc, AckTokenExpired):
        return "bad.expired"
    return "bad.other" if "another alert" in str(exc) else "bad.invalid"


def _where(message: Any) -> str:
    return f"{message.topic}[{message.partition}]@{message.offset}"


def _milestone_gauges(
    metrics: AlertsMetrics, score: RegionScore, plan: Masterplan | None, all_targets: list[str]
) -> None:
    if plan is None:
        return
    day = local_day(score.evaluated_at, score.region_code)
    reg, prov = score.region_code, score.province_code
    for target in all_targets:
        nxt = next_milestone(plan, target, day)
        if nxt is not None:
            metrics.milestone_target.labels(reg, prov, target).set(nxt.targets[target])
        expected = expected_on(plan, target, day)
        if expected is None:
            continue
        metrics.milestone_expected.labels(reg, prov, target).set(expected)
        current, _cov, ok = target_value(score, target)
        if current is not None and ok:
            metrics.milestone_gap.labels(reg, prov, target).set(expected - current)


def run_worker(settings: AlertsSettings, notify_settings: NotifySettings, log_format: str = "auto") -> None:
    """Run one alerts worker until SIGTERM/SIGINT (faust stops the app gracefully)."""
    svc = build(settings, notify_settings)
    faust_app.run(svc.app, settings.log_level, log_format)
