"""The alerts worker's web pages (faust's web server): each turns a request into a service call, and
its answer into a response.

/metrics, /healthz, /alerts (the open alerts held here, JSON), /ack/{id} (GET: the alert with its
button, changing nothing, since mail scanners open links; POST: acknowledge), /alerts/{id} (the
page without the button: Alertmanager's generatorURL), /runbooks, /runbooks/{section} and the
stylesheet. What a visit or a click does: services/alerts/service/acknowledgements.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from faust.web import Request, Response, View
from prometheus_client import generate_latest

from services.alerts.bootstrap import AlertsService
from services.alerts.notify import AckTokenError
from services.alerts.pages import SECURITY_HEADERS, STATIC, Language, OpenAlert, language, next_escalation
from services.alerts.service.acknowledgements import Acked, NotOpen, token_problem
from services.alerts.store import STATE_TABLE
from services.runtime import logs

log = logs.get("pantau.alerts")
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4"
STYLESHEET = (STATIC / "pantau.css").read_bytes()


def register(svc: AlertsService) -> None:
    """The pages of ``svc.app``."""
    app, pages = svc.app, AlertsPages(svc)

    @app.page("/metrics")
    async def metrics_page(view: View, request: Request) -> Response:
        return view.bytes(generate_latest(svc.metrics.registry), content_type=METRICS_CONTENT_TYPE)

    @app.page("/ack/{alert_id}")
    class AckView(View):
        """GET shows the alert with its button and changes nothing (mail scanners open links); POST acknowledges."""

        async def get(self, request: Request, alert_id: str) -> Response:
            return await pages.alert(self, request, alert_id, request.query.get("token", ""))

        async def post(self, request: Request, alert_id: str) -> Response:
            return await pages.acknowledge(self, request, alert_id)

    @app.page("/alerts/{alert_id}")
    async def alert_view(view: View, request: Request, alert_id: str) -> Response:
        """The alert page without the button (Alertmanager's generatorURL points here)."""
        return await pages.alert(view, request, alert_id, None)

    @app.page("/runbooks")
    async def runbooks(view: View, request: Request) -> Response:
        return pages.html(view, svc.pages.runbook(pages.language(request.query.get("lang"))))

    @app.page("/runbooks/{section}")
    async def runbook_section(view: View, request: Request, section: str) -> Response:
        """``runbook_url`` of the maturity alerts (``/runbooks/{kind}``): the runbook at that section."""
        return pages.runbook_section(view, request, section)

    @app.page("/static/pantau.css")
    async def stylesheet(view: View, request: Request) -> Response:
        return view.bytes(STYLESHEET, content_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @app.page("/alerts")
    async def active_alerts(view: View, request: Request) -> Response:
        return view.json({"open": svc.alerts.listing()})

    @app.page("/healthz")
    async def healthz(view: View, request: Request) -> Response:
        return view.json({"status": "ok", "scores": svc.metrics.scores._value.get(),
                          "partitions": sorted(svc.held_partitions())})  # fmt: skip

    _ = (metrics_page, AckView, alert_view, runbooks, runbook_section, stylesheet, active_alerts, healthz)


class AlertsPages:
    """The HTML (and JSON) answers of the alert page and the acknowledge link."""

    def __init__(self, svc: AlertsService) -> None:
        self.svc = svc
        self.acks = svc.acknowledgements
        self.render = svc.pages
        self.default_language: Language = svc.notify_settings.language

    def language(self, value: str | None) -> Language:
        return language(value, self.default_language)

    def html(self, view: View, html: str, status: int = 200) -> Response:
        return view.html(html, status=status, headers=SECURITY_HEADERS)

    async def alert(self, view: View, request: Request, alert_id: str, token: str | None) -> Response:
        lang = self.language(request.query.get("lang"))
        shown = self.acks.page(alert_id, token)
        as_json = _wants_json(request)
        if shown.problem is not None:
            if as_json:
                return view.json({"error": "the acknowledge link is not valid", "problem": shown.problem}, status=403)
            return self.html(view, self.render.outcome(lang, shown.problem), 403)
        if shown.elsewhere and shown.region is not None:
            try:  # the worker holding the region renders it (faust's router: the alert-state table's owner)
                return await self.svc.app.router.route_req(STATE_TABLE, shown.region.encode(), view.web, request)
            except Exception as exc:  # that worker is unreachable, or the assignment is moving
                log.info("alerts.page_not_routed", alert_id=alert_id, region=shown.region, error=str(exc)[:200])
        if shown.missing is not None:
            if as_json:
                return view.json({"error": f"alert {alert_id} is not open here", "missing": shown.missing}, status=404)
            return self.html(view, self.render.outcome(lang, shown.missing), 404)
        if as_json:
            return view.json(alert_state(shown.held, shown.region))
        facts = self.acks.facts(shown.held.alert, lang) if shown.held else None
        html = self.render.alert(lang, alert_id, shown.region or "", facts, shown.held, token=token,
                                 action=f"/ack/{alert_id}", switch=_switch_url(request, lang))  # fmt: skip
        return self.html(view, html)

    async def acknowledge(self, view: View, request: Request, alert_id: str) -> Response:
        form = await request.post()
        token = str(form.get("token") or request.query.get("token", ""))
        lang = self.language(str(form.get("lang") or request.query.get("lang", "")))
        as_json = _wants_json(request)
        back = f"/ack/{alert_id}?token={token}&lang={lang}"
        try:
            region = self.acks.claim(token, alert_id)
        except AckTokenError as exc:
            if as_json:
                return view.json({"error": str(exc), "alert_id": alert_id}, status=403)
            return self.html(view, self.render.outcome(lang, token_problem(exc)), 403)
        done = await self.acks.click(alert_id, region)
        if isinstance(done, Acked):
            alert = done.alert
            if as_json:
                return view.json({"acknowledged": alert_id, "region": alert.region_code, "kind": alert.kind.value,
                                  "already": done.already})  # fmt: skip
            f = self.acks.facts(alert, lang)
            key = "again" if done.already else "ok"
            return self.html(view, self.render.outcome(lang, key, back=back, region=f.region, kind=f.kind,
                                                       target=f.target))  # fmt: skip
        if isinstance(done, NotOpen):
            if as_json:
                return view.json({"error": f"alert {alert_id} is not open: it was resolved"}, status=404)
            return self.html(view, self.render.outcome(lang, "resolved"), 404)
        if as_json:
            return view.json({"forwarded": alert_id, "region": done.region,
                              "detail": f"the worker holding region {done.region} records the acknowledgement"},
                             status=202)  # fmt: skip
        return self.html(view, self.render.outcome(lang, "forwarded", back=back, region=done.region), 202)

    def runbook_section(self, view: View, request: Request, section: str) -> Response:
        if section.lower() not in self.render.runbook_sections():
            return self.html(view, self.render.outcome(self.language(request.query.get("lang")), "notfound"), 404)
        return view.html("", status=303, headers={**SECURITY_HEADERS, "Location": f"/runbooks#{section.lower()}"})


def alert_state(held: OpenAlert | None, region: str | None) -> dict[str, Any]:
    """An open alert as the worker holding it knows it (``Accept: application/json`` on its pages): the
    alert, who it is addressed to, whether it is acknowledged, and when it escalates next if nobody does."""
    if held is None:  # the worker holding the region did not answer: only the link's region is known
        return {"alert": None, "region": region}
    fired = dt.datetime.fromtimestamp(held.fired_at, dt.UTC)
    step = next_escalation(held)
    following = None if step is None else {"level": step[0].value, "at": step[1].isoformat()}
    return {"alert": held.alert.model_dump(mode="json"), "region": held.alert.region_code, "level": held.level.value,
            "acked": held.acked, "fired_at": fired.isoformat(), "next_escalation": following}  # fmt: skip


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _switch_url(request: Request, lang: Language) -> str:
    return str(request.rel_url.update_query(lang="en" if lang == "id" else "id"))
