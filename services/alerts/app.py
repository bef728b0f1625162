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
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import faust
import orjson
from faust.types import StreamT
from faust.web import Request, Response, View
from prometheus_client import generate_latest
from pydantic import BaseModel, ValidationError

from pantau import faust_app, faust_patches, logs
from pantau.topics_admin import ensure_changelogs
from schemas.alerts import AckRequest, AlertEvent, AlertState, EscalationLevel
from schemas.common import province_of
from schemas.framework import load_framework
from schemas.masterplan import NATIONAL_MASTERPLAN_TARGET, Masterplan, expected_on, next_milestone
from schemas.scores import RegionScore
from schemas.topics import DEFAULT_PARTITIONS
from services.alerts.config import AlertsSettings
from services.alerts.domain.engine import RegionAlerts, evaluate, reevaluate, targets
from services.alerts.domain.lifecycle import transition_id
from services.alerts.domain.rules import target_value
from services.alerts.metrics import AlertsMetrics
from services.alerts.notify import (
    AckTokenError,
    AckTokenExpired,
    AckTokens,
    DeliveryReport,
    Notification,
    Notifier,
    NotifyMetrics,
    NotifySettings,
)
from services.alerts.notify.render import Facts
from services.alerts.pages import SECURITY_HEADERS, STATIC, Language, OpenAlert, Pages, language

log = logs.get("pantau.alerts")
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4"
M = TypeVar("M", bound=BaseModel)
LEVELS = [EscalationLevel.REGION, EscalationLevel.PROVINCE, EscalationLevel.NATIONAL]
STATE_REFRESH = 30.0
PACING = ("since", "attempts", "next_at")  # fields of a delivery record that pace its later deliveries
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
        settings.app_id, bootstrap=settings.bootstrap_servers, store=settings.store, data_dir=settings.data_dir,
        web_host=settings.web_host, web_port=settings.web_port, commit_interval=settings.commit_interval,
        session_timeout=settings.session_timeout,
    )  # fmt: skip
    faust_patches.set_fetch_max_wait(0.05)
    ensure_changelogs(settings.bootstrap_servers, settings.app_id, ["plans", "alert-state", "deliveries"],
                      DEFAULT_PARTITIONS)  # fmt: skip
    raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
    plans_topic = app.topic(settings.topic("masterplan-milestones"), **raw)
    scores_topic = app.topic(settings.topic("region-scores"), **raw)
    alerts_topic = app.topic(settings.topic("maturity-alerts"), **raw)
    acks_topic = app.topic(settings.topic("alert-acks"), **raw)
    table_args: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "partitions": DEFAULT_PARTITIONS}
    plans = app.Table("plans", **table_args)
    states = app.Table("alert-state", **table_args)
    deliveries = app.Table("deliveries", **table_args)  # alert id -> the open alert's delivery state
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
        # score_batch() a partition's fetch at a time (pantau.faust_patches.route_topic_batches).
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
        faust_patches.ack_offsets(app.consumer, tp, records[0].offset, records[-1].offset)

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

    faust_patches.route_topic_batches(scores_topic.get_topic_name(), score_batch)

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
        async for event in stream.events():
            alert = read(AlertEvent, event.value, _where(event.message), "alert_invalid")
            if alert is None:
                continue
            key = alert.alert_id.encode()
            open_alert = deliveries.get(key)
            record = orjson.loads(open_alert) if open_alert is not None else None
            if record is not None and record.get("closed"):
                continue  # resolved; only its undelivered notifications are kept, for redeliver()
            if alert.state is AlertState.FIRING and alert.previous_severity is not None and record is not None:
                if record["alert"]["transition_id"] == alert.transition_id:
                    continue  # a redelivered change of band: already handled
                # A change of severity band: every level that heard of the alert hears of it, and the
                # record (what escalations and Alertmanager refreshes copy) takes the new figures.
                changed = alert.model_copy(update={"escalation": LEVELS[record["level"]]})
                record["alert"] = orjson.loads(changed.model_dump_json())
                for reached in LEVELS[: record["level"] + 1]:
                    keep_undelivered(record, reached, await deliver(alert, reached))
                deliveries[key] = orjson.dumps(record)
            elif alert.state is AlertState.FIRING:
                level = LEVELS.index(alert.escalation)
                if record is not None and record["level"] >= level:
                    continue  # a redelivered firing: already handled (the id makes re-sends harmless anyway)
                report = await deliver(alert, alert.escalation)
                fired_at = record["fired_at"] if record is not None else alert.at.timestamp()
                undelivered = dict(record.get("undelivered", {})) if record is not None else {}
                deliveries[key] = orjson.dumps(keep_undelivered({
                    "region": alert.region_code, "fired_at": fired_at, "level": level, "acked": False,
                    "alert": orjson.loads(event.value), "undelivered": undelivered,
                }, alert.escalation, report))  # fmt: skip
                escalating.discard(alert.alert_id)
            elif alert.state is AlertState.ACKNOWLEDGED and record is not None:
                record["acked"] = True
                deliveries[key] = orjson.dumps(record)
                acking.discard(alert.alert_id)
            elif alert.state is AlertState.RESOLVED and record is not None:
                # The resolve goes to every level that heard of the alert; what it replaces in the
                # record (the firing notifications still undelivered) is moot now.
                closed: dict[str, Any] = {"region": alert.region_code, "closed": True,
                                          "alert": orjson.loads(event.value), "undelivered": {}}  # fmt: skip
                for reached in LEVELS[: record["level"] + 1]:
                    keep_undelivered(closed, reached, await deliver(alert, reached))
                if closed["undelivered"]:
                    deliveries[key] = orjson.dumps(closed)
                else:
                    deliveries.pop(key, None)
                escalating.discard(alert.alert_id)

    def ack_link(alert: AlertEvent) -> str:
        # Signed as of the transition's time, not now: a re-send after a crash is byte-identical, and
        # the link's lifetime counts from the alert.
        return tokens.url(alert.alert_id, alert.region_code, issued_at=alert.at.timestamp())

    def open_alert(alert_id: str) -> OpenAlert | None:
        """An open alert held here, with its escalation state; None when it is not open here."""
        raw_record = deliveries.get(alert_id.encode())
        record = orjson.loads(raw_record) if raw_record is not None else None
        if record is None or record.get("closed"):
            return None
        acked = record["acked"] or alert_id in acking
        return OpenAlert(AlertEvent.model_validate(record["alert"]), LEVELS[record["level"]], acked,
                         record["fired_at"], settings.escalate_after)  # fmt: skip

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

    def open_records() -> Iterator[tuple[bytes, dict[str, Any]]]:
        """The records of open alerts (not those of resolved ones kept only for a later delivery)."""
        for key, raw_record in list(deliveries.items()):
            record = orjson.loads(raw_record)
            if not record.get("closed"):
                yield key, record

    @app.agent(acks_topic, name="forwarded-acks")
    async def forwarded_acks(stream: StreamT[Any]) -> None:
        async for event in stream.events():
            req = read(AckRequest, event.value, _where(event.message), "ack_invalid")
            if req is not None and await acknowledge(req.alert_id) is None:
                log.info("alerts.ack_not_open", alert_id=req.alert_id, region=req.region_code)

    def keep_undelivered(record: dict[str, Any], level: EscalationLevel, report: DeliveryReport) -> dict[str, Any]:
        """Note in an alert's record which destinations of this level's notification have it.

        ``undelivered`` maps a level whose notification some destination lacks to the destinations
        already sent (a later delivery skips those). ``since``, ``attempts`` and ``next_at`` pace the
        later deliveries (redeliver()).
        """
        undelivered = record.setdefault("undelivered", {})
        if report.complete:
            undelivered.pop(level.value, None)
        else:
            undelivered[level.value] = sorted(set(undelivered.get(level.value, [])) | {o.key for o in report.sent})
        now = time.time()
        if not undelivered:
            for k in PACING:
                record.pop(k, None)
        elif "next_at" not in record:
            record.update(since=now, attempts=0, next_at=now + settings.redeliver_after.total_seconds())
        return record

    def milestone_path(alert: AlertEvent) -> list[tuple[dt.datetime, float]]:
        """The milestones of the alert's target in the region's plan, as (due, target) points."""
        plan = plan_of(alert.region_code)
        if plan is None:
            return []
        return [(dt.datetime.combine(m.due, dt.time(), dt.UTC), m.targets[alert.target])
                for m in plan.milestones if alert.target in m.targets]  # fmt: skip

    async def deliver(alert: AlertEvent, level: EscalationLevel, skip: Collection[str] = ()) -> DeliveryReport:
        history = state_of(alert.region_code).history.get(alert.target, [])
        path = milestone_path(alert)
        note = Notification(
            id=f"{alert.transition_id}-{level.value}",
            alert=alert,
            level=level.value,
            ack_url=ack_link(alert) if alert.state is AlertState.FIRING else None,
            history=[(dt.datetime.fromtimestamp(t, dt.UTC), v) for t, v in history[-60:]],
            path=path,
        )
        report = await notifier.deliver(note, skip=skip)
        log.info("alerts.notified", alert_id=alert.alert_id, state=alert.state.value, level=level.value,
                 sent=len(report.sent), failed=len(report.failed))  # fmt: skip
        return report

    @app.timer(interval=10.0)
    async def redeliver() -> None:
        """Deliver again what some destination did not get after all retries (a gateway down for
        an hour must not mean a regional head never hears of the alert). Same ids: a destination
        that got it after all sees a duplicate it can recognise."""
        now = time.time()
        waiting = 0
        for key, raw_record in list(deliveries.items()):
            record = orjson.loads(raw_record)
            undelivered: dict[str, list[str]] = record.get("undelivered") or {}
            waiting += len(undelivered)
            if not undelivered or record.get("next_at", 0) > now:
                continue
            alert = AlertEvent.model_validate(record["alert"])
            results = []
            for level_name, sent in list(undelivered.items()):
                report = await deliver(alert, EscalationLevel(level_name), skip=sent)
                metrics.redeliveries.labels("delivered" if report.complete else "failed").inc()
                results.append((EscalationLevel(level_name), report))
            # The notify agent may have moved the alert on meanwhile (acknowledged, escalated,
            # resolved): apply the outcome to the record as it is now, if it is still this step.
            raw_now = deliveries.get(key)
            record = orjson.loads(raw_now) if raw_now is not None else {}
            if record.get("alert", {}).get("transition_id") != alert.transition_id:
                continue
            for level, report in results:
                keep_undelivered(record, level, report)
            if record.get("undelivered"):
                attempts = record["attempts"] = record.get("attempts", 0) + 1
                record["next_at"] = now + min(3600.0, settings.redeliver_after.total_seconds() * 2**attempts)
                if now - record["since"] > settings.redeliver_for.total_seconds():
                    metrics.redeliveries.labels("abandoned").inc(len(record["undelivered"]))
                    log.error("alerts.delivery_abandoned", alert_id=alert.alert_id, region=alert.region_code,
                              undelivered=record["undelivered"], attempts=attempts)  # fmt: skip
                    for k in ("undelivered", *PACING):
                        record.pop(k, None)
            with faust_app.on_partition(
                app, alerts_topic.get_topic_name(), faust_app.partition_of(alert.region_code), key
            ):
                if record.get("closed") and not record.get("undelivered"):
                    deliveries.pop(key, None)
                else:
                    deliveries[key] = orjson.dumps(record)
        metrics.undelivered.set(waiting)

    @app.timer(interval=5.0)
    async def escalate() -> None:
        now = time.time()
        step = settings.escalate_after.total_seconds()
        for key, record in open_records():
            alert_id = key.decode()
            level = record["level"]
            if record["acked"] or alert_id in acking or level >= len(LEVELS) - 1 or alert_id in escalating:
                continue
            if now - record["fired_at"] < step * (level + 1):
                continue
            alert = AlertEvent.model_validate(record["alert"])
            nxt = LEVELS[level + 1]
            escalated = alert.model_copy(update={
                "escalation": nxt, "transition_id": transition_id(alert_id, AlertState.FIRING, nxt.value),
                "at": dt.datetime.now(dt.UTC),
                "summary": f"{alert.summary} (not acknowledged: escalated to {nxt.value})",
            })  # fmt: skip
            escalating.add(alert_id)
            await alerts_topic.send(key=alert.region_code.encode(), value=escalated.model_dump_json().encode())
            log.warning("alerts.escalated", alert_id=alert_id, level=nxt.value, region=alert.region_code)

    @app.timer(interval=300.0)
    async def refresh_alertmanager() -> None:
        # Alertmanager forgets a firing alert after its endsAt: push the open ones again.
        firing = [AlertEvent.model_validate(record["alert"]) for _, record in open_records()]
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

    @app.timer(interval=5.0)
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
        for _, record in open_records():
            acked = record["acked"] or record["alert"]["alert_id"] in acking
            out.append({**record["alert"], "acked": acked, "level": LEVELS[record["level"]].value})
        return web.json({"open": sorted(out, key=lambda a: (a["region_code"], a["kind"], a["target"]))})

    @app.page("/healthz")
    async def healthz(web: Any, request: Request) -> Response:
        return web.json(
            {"status": "ok", "scores": metrics.scores._value.get(), "partitions": sorted(held_partitions())}
        )

    _ = (on_revoked, follow_plans, evaluate_scores, find_pending, fire_pending, notify, forwarded_acks, redeliver,
         escalate, refresh_alertmanager, on_shutdown, gauges, lag, metrics_page, AckView, alert_view, runbooks,
         runbook_section, stylesheet, active_alerts, healthz)  # fmt: skip
    return svc


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
    day = score.evaluated_at.astimezone(dt.UTC).date()
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
