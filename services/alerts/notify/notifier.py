"""The dispatcher: one notification to every configured channel for the office of its level.

``deliver`` never raises for a delivery failure: each destination's outcome is in the report (and
in the metrics), and the caller decides what to do with failures (keep the notification and deliver
it again later; ``skip`` the destinations that already have it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

import httpx

from schemas.alerts import AlertEvent, AlertState
from schemas.framework import Framework
from schemas.regions import RegionRegistry, default_registry
from services.alerts.notify.alertmanager import AlertmanagerSender, am_alert, generator_url
from services.alerts.notify.catalogue import Catalogue
from services.alerts.notify.config import NotifySettings
from services.alerts.notify.contacts import ContactsDirectory, Office, load_contacts
from services.alerts.notify.mail import SmtpSender, build_message, chart_cid, mail_domain
from services.alerts.notify.metrics import NotifyMetrics
from services.alerts.notify.model import Channel, ChannelOutcome, DeliveryReport, Notification
from services.alerts.notify.render import EmailRenderer, Wording
from services.alerts.notify.retry import DeliveryError, RetryPolicy
from services.alerts.notify.webhook import WebhookSender, payload
from services.runtime import logs

log = logs.get("alerts.notify")
T = TypeVar("T")

#: States that Alertmanager hears about; a pending alert is not firing yet, an acknowledged one still is.
_AM_STATES = (AlertState.FIRING, AlertState.RESOLVED)


def catalogue_of(framework: Framework | Catalogue | None, indicator_names: Mapping[str, str] | None) -> Catalogue:
    """The indicator catalogue from the framework (or a catalogue already built, or bare names)."""
    if isinstance(framework, Framework):
        return Catalogue.from_framework(framework)
    if framework is not None:
        return framework
    return Catalogue.from_names(indicator_names or {})


class Notifier:
    """Delivers notifications by webhook, email and Alertmanager. One per process; close it at shutdown.

    ``framework`` names the drivers and remedy levers (by name and unit, in the reader's language);
    ``drop_window`` is the alerts service's score_drop window, which the alert does not carry.
    ``indicator_names`` (id -> one name) is the older way to name them, kept for callers that have it.
    """

    def __init__(
        self,
        settings: NotifySettings,
        contacts: ContactsDirectory,
        metrics: NotifyMetrics,
        *,
        registry: RegionRegistry | None = None,
        framework: Framework | Catalogue | None = None,
        drop_window: timedelta | None = None,
        indicator_names: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.contacts = contacts
        self.metrics = metrics
        self.registry = registry or default_registry()
        self.clock = clock
        self.http = httpx.AsyncClient(follow_redirects=False)
        self.wording = Wording(self.registry, catalogue_of(framework, indicator_names), drop_window)
        self.renderer = EmailRenderer(self.wording)
        self.webhooks = WebhookSender(self.http, settings.webhook_timeout, clock)
        self.smtp = SmtpSender(settings) if settings.smtp_host else None
        self.alertmanager = (
            AlertmanagerSender(self.http, settings.alertmanager_url, settings.alertmanager_timeout)
            if settings.alertmanager_url
            else None
        )

    @classmethod
    def from_settings(
        cls,
        settings: NotifySettings,
        metrics: NotifyMetrics,
        *,
        registry: RegionRegistry | None = None,
        framework: Framework | Catalogue | None = None,
        drop_window: timedelta | None = None,
        indicator_names: Mapping[str, str] | None = None,
    ) -> Notifier:
        """Reads the contacts file named in the settings (errors name file, key path and field).

        ``framework`` and ``drop_window``: as for the constructor.
        """
        registry = registry or default_registry()
        contacts = load_contacts(settings.contacts_file, registry) if settings.contacts_file else ContactsDirectory()
        if not len(contacts):
            log.warning("no contacts: only Alertmanager (if configured) hears about alerts",
                        contacts_file=str(settings.contacts_file))  # fmt: skip
        return cls(settings, contacts, metrics, registry=registry, framework=framework, drop_window=drop_window,
                   indicator_names=indicator_names)  # fmt: skip

    async def __aenter__(self) -> Notifier:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    def _policy(self, timeout: float, retries: int | None = None) -> RetryPolicy:
        s = self.settings
        return RetryPolicy(retries=s.retries if retries is None else retries, base=s.retry_base,
                           max_wait=s.retry_max_wait, attempt_timeout=timeout)  # fmt: skip

    # -- the entry point ---------------------------------------------------------------------------

    def _jobs(self, n: Notification) -> tuple[str | None, list[tuple[Channel, str, Callable[[], Awaitable[Any]]]]]:
        """The contacts entry that answers for ``n``'s level, and one job per destination of ``n``."""
        who = self.contacts.recipients(n.alert, n.level)
        office = who.office
        jobs: list[tuple[Channel, str, Callable[[], Awaitable[Any]]]] = []
        if office is not None:
            jobs += self._webhook_jobs(n, office)
            if office.emails and self.smtp is not None:
                jobs.append(("email", ", ".join(office.emails), self._email_job(n, office)))
        if self.alertmanager is not None and n.alert.state in _AM_STATES:
            jobs.append(("alertmanager", self.alertmanager.url, self._alertmanager_job([(n.alert, n.level)])))
        return who.entry, jobs

    def destinations(self, n: Notification) -> list[str]:
        """The :attr:`ChannelOutcome.key` of every destination ``n`` goes to (none: nobody to tell)."""
        _, jobs = self._jobs(n)
        if not jobs:
            log.warning("nobody to notify: no contacts entry and no channel for this level",
                        notification_id=n.id, alert_id=n.alert.alert_id, level=n.level)  # fmt: skip
        return [f"{ch}:{dest}" for ch, dest, _ in jobs]

    async def deliver_to(self, n: Notification, destination: str) -> ChannelOutcome:
        """One attempt of ``n`` to one destination (a key from :meth:`destinations`); never raises.

        No retries here: the caller keeps the notification and tries again later (its outbox).
        """
        _, jobs = self._jobs(n)
        for ch, dest, job in jobs:
            if f"{ch}:{dest}" == destination:
                outcome = await self._attempt(n, ch, dest, job, retries=0)
                log.info("notification delivered" if outcome.outcome == "sent" else "notification attempt failed",
                         notification_id=n.id, alert_id=n.alert.alert_id, level=n.level, destination=destination,
                         error=outcome.error)  # fmt: skip
                return outcome
        channel, _, dest = destination.partition(":")
        return ChannelOutcome(channel if channel in ("webhook", "email") else "alertmanager", dest, "skipped",  # type: ignore[arg-type]
                              error="no longer a destination of this notification (contacts changed)")  # fmt: skip

    async def deliver(self, n: Notification, *, skip: Collection[str] = ()) -> DeliveryReport:
        """Send ``n`` on every channel to the office of its level; the outcome of each destination.

        ``skip`` holds :attr:`ChannelOutcome.key` values already delivered (a re-delivery after a
        failure or a restart sends only what is missing; the ids stay the same).
        """
        entry, jobs = self._jobs(n)
        skipped: list[ChannelOutcome] = []
        if self.alertmanager is not None and n.alert.state not in _AM_STATES:
            skipped.append(ChannelOutcome("alertmanager", self.alertmanager.url, "skipped",
                                          error=f"state {n.alert.state} is not pushed"))  # fmt: skip
        outcomes = [ChannelOutcome(ch, dest, "skipped", error="already sent") for ch, dest, _ in jobs
                    if f"{ch}:{dest}" in skip]  # fmt: skip
        pending = [(ch, dest, job) for ch, dest, job in jobs if f"{ch}:{dest}" not in skip]
        done = await asyncio.gather(*(self._attempt(n, ch, dest, job) for ch, dest, job in pending))
        report = DeliveryReport(n.id, n.level, entry, (*done, *outcomes, *skipped))
        if not report.outcomes:
            log.warning("nobody to notify: no contacts entry and no channel for this level",
                        notification_id=n.id, alert_id=n.alert.alert_id, level=n.level)  # fmt: skip
            return report
        log.info(
            "notification delivered" if report.complete else "notification not fully delivered",
            notification_id=n.id, alert_id=n.alert.alert_id, level=n.level, entry=entry,
            sent=[o.key for o in report.sent], failed=[f"{o.key}: {o.error}" for o in report.failed],
        )  # fmt: skip
        return report

    async def refresh_alertmanager(self, alerts: Iterable[AlertEvent]) -> ChannelOutcome | None:
        """Push still-firing alerts again (call more often than ``alertmanager_resend_ttl``)."""
        if self.alertmanager is None:
            return None
        batch = [(a, str(a.escalation)) for a in alerts if a.state in _AM_STATES]
        if not batch:
            return None
        return await self._attempt(None, "alertmanager", self.alertmanager.url, self._alertmanager_job(batch))

    # -- the channels ------------------------------------------------------------------------------

    def _webhook_jobs(self, n: Notification, office: Office) -> list[tuple[Channel, str, Callable[[], Awaitable[Any]]]]:
        if not office.webhooks:
            return []
        lang = office.language or self.settings.language
        body = payload(n.alert.model_dump(mode="json"), **self.wording.webhook_fields(n, lang))
        jobs: list[tuple[Channel, str, Callable[[], Awaitable[Any]]]] = []
        for endpoint in office.webhooks:
            secret = endpoint.secret.get_secret_value()

            def send(url: str = endpoint.url, secret: str = secret) -> Awaitable[int]:
                return self.webhooks.send(url, secret, n.id, body)

            jobs.append(("webhook", endpoint.url, send))
        return jobs

    def _email_job(self, n: Notification, office: Office) -> Callable[[], Awaitable[Any]]:
        assert self.smtp is not None
        smtp = self.smtp
        lang = office.language or self.settings.language
        sender = self.settings.smtp_from
        cid = chart_cid(n.id, mail_domain(sender))
        message: list[Any] = []

        async def send() -> dict[str, str]:
            if not message:  # rendered once, on the first attempt; the chart is drawn off the event loop
                rendered = await asyncio.to_thread(self.renderer.render, n, lang=lang, office=office.name,
                                                   chart_cid=cid)  # fmt: skip
                message.append(build_message(
                    rendered, sender=sender, to=office.emails, notification_id=n.id, alert_id=n.alert.alert_id,
                    chart_cid=cid, headers={"X-Pantau-Alert-Id": n.alert.alert_id, "X-Pantau-Level": n.level},
                ))  # fmt: skip
            refused = await smtp.send(message[0])
            if refused:
                log.warning("some recipients refused the email", notification_id=n.id, refused=refused)
            return refused

        return send

    def _alertmanager_job(self, alerts: list[tuple[AlertEvent, str]]) -> Callable[[], Awaitable[int]]:
        assert self.alertmanager is not None
        am = self.alertmanager
        s = self.settings
        now = datetime.fromtimestamp(self.clock(), UTC)
        body = []
        lang = s.language
        for alert, level in alerts:
            facts = self.wording.facts(alert, lang)
            body.append(am_alert(
                alert,
                summary=facts.summary,
                description=self.wording.describe(facts, lang),
                runbook_url=s.runbook_url.format(public_url=s.public_url.rstrip("/"), kind=alert.kind),
                generator_url=generator_url(s.public_url, alert.alert_id),
                now=now,
                resend_ttl=s.alertmanager_resend_ttl,
                extra_annotations={"level": level, "region_name": facts.region},
            ))  # fmt: skip
        return lambda: am.push(body)

    # -- bookkeeping -------------------------------------------------------------------------------

    async def _attempt(
        self,
        n: Notification | None,
        channel: Channel,
        destination: str,
        job: Callable[[], Awaitable[T]],
        retries: int | None = None,
    ) -> ChannelOutcome:
        m = self.metrics
        timeout = {"webhook": self.settings.webhook_timeout, "email": self.settings.smtp_timeout,
                   "alertmanager": self.settings.alertmanager_timeout}[channel]  # fmt: skip

        def on_retry(exc: DeliveryError, wait: float) -> None:
            m.notifications.labels(channel, "retried").inc()
            log.info("delivery attempt failed, retrying", channel=channel, destination=destination,
                     notification_id=n.id if n else None, error=str(exc), wait_s=round(wait, 3))  # fmt: skip

        try:
            _, attempts = await self._policy(timeout, retries).run(
                job, on_attempt=m.attempts.labels(channel).inc, on_retry=on_retry
            )
        except DeliveryError as exc:
            m.notifications.labels(channel, "failed").inc()
            return ChannelOutcome(channel, destination, "failed", exc.attempts, str(exc), exc.retryable, exc.status)
        except Exception as exc:  # a bug or a library surprise: reported as a failure, never raised
            log.exception("delivery failed unexpectedly", channel=channel, destination=destination)
            m.notifications.labels(channel, "failed").inc()
            return ChannelOutcome(channel, destination, "failed", 1, f"{type(exc).__name__}: {exc}", False)
        m.notifications.labels(channel, "sent").inc()
        if n is not None:
            m.delivery_seconds.labels(channel).observe(max(0.0, self.clock() - n.alert.at.timestamp()))
        return ChannelOutcome(channel, destination, "sent", attempts)
