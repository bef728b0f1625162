"""The words of a notification: facts of an alert in one language, the email subject and bodies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from schemas.alerts import AlertEvent, AlertKind, AlertState
from schemas.regions import RegionRegistry
from services.alerts.notify import messages as m
from services.alerts.notify.chart import score_chart
from services.alerts.notify.model import Notification

Language = Literal["id", "en"]
TEMPLATES = Path(__file__).parent / "templates"


def number(x: float, lang: Language, digits: int = 2) -> str:
    """``3,20`` in Indonesian, ``3.20`` in English."""
    s = f"{x:.{digits}f}" if digits else f"{x:g}"
    return s.replace(".", ",") if lang == "id" else s


def day(d: date, lang: Language) -> str:
    return f"{d.day} {m.MONTHS[lang][d.month - 1]} {d.year}"


def moment(at: datetime, province_code: str, lang: Language) -> str:
    """The time in the region's own zone: ``27 November 2026 15.00 WIB``."""
    local = at.astimezone(m.zone_of(province_code))
    sep = "." if lang == "id" else ":"
    return f"{day(local.date(), lang)} {local.hour:02d}{sep}{local.minute:02d} {local.tzname()}"


@dataclass(frozen=True)
class Facts:
    """Everything a reader needs to know about one alert transition, in one language."""

    region: str
    province: str
    target: str
    kind: str
    state: str
    severity: str
    headline: str
    since: str
    current_label: str
    current: str
    expected_label: str
    expected: str
    expected_note: str
    gap: str
    due: str
    drivers: tuple[str, ...]
    remedy: str


def alert_facts(
    alert: AlertEvent, lang: Language, registry: RegionRegistry, indicator_names: Mapping[str, str] | None = None
) -> Facts:
    labels = m.LABELS[lang]
    na = labels["not_available"]
    names = indicator_names or {}
    region_name, province_name = alert.region_code, alert.province_code
    if alert.region_code in registry:
        r = registry.get(alert.region_code)
        region_name, province_name = r.name, r.province_name
    target = m.TARGETS[lang].get(alert.target, alert.target.replace("_", " "))
    kind = m.KINDS[lang].get(alert.kind, alert.kind)
    due = day(alert.milestone_due, lang) if alert.milestone_due else na
    state_key = alert.state if alert.state in (AlertState.RESOLVED, "acknowledged") else alert.kind
    headline = m.HEADLINES[lang].get(state_key, "{kind}: {target}").format(target=target, due=due, kind=kind)
    # data_stale compares data coverage (a share) with the minimum; every other kind compares scores.
    coverage = alert.kind == AlertKind.DATA_STALE
    prefix, scale = ("coverage_", 100.0) if coverage else ("", 1.0)

    def figure(x: float | None) -> str:
        if x is None:
            return na
        return f"{number(x * 100, lang, 0)}%" if coverage else number(x, lang)

    gap = na
    if alert.gap is not None:
        size = number(abs(alert.gap) * scale, lang, 0) if coverage else number(abs(alert.gap), lang)
        gap = f"{size} {labels[prefix + ('gap_unit' if alert.gap >= 0 else 'gap_ahead')]}"
    drivers = tuple(
        labels["driver_line"].format(
            name=f"{names[d.indicator_id]} ({d.indicator_id})" if d.indicator_id in names else d.indicator_id,
            score=number(d.score, lang) if d.score is not None else na,
            weight=number(d.weight, lang, 0),
            pull=number(d.pull, lang),
        )
        for d in alert.drivers
    )
    return Facts(
        region=region_name,
        province=province_name,
        target=target,
        kind=kind,
        state=m.STATES[lang].get(alert.state, alert.state),
        severity=m.SEVERITIES[lang].get(alert.severity, alert.severity),
        headline=headline,
        since=moment(alert.at, alert.province_code, lang),
        current_label=labels["coverage_current" if coverage else "current"],
        current=figure(alert.current),
        expected_label=labels["coverage_minimum" if coverage else "expected"],
        expected=figure(alert.expected),
        expected_note="" if coverage else labels["expected_note"],
        gap=gap,
        due=due,
        drivers=drivers,
        remedy=remedy_text(alert, lang, target, names),
    )


def remedy_text(alert: AlertEvent, lang: Language, target: str, names: Mapping[str, str]) -> str:
    """What it would take to get back on the path, in ``lang``, from the alert's figures.

    Empty once the alert is resolved or when nothing is behind (a negative gap).
    """
    words = m.REMEDIES[lang]
    if alert.state in (AlertState.RESOLVED, AlertState.PENDING):
        return ""
    if alert.kind == AlertKind.DATA_STALE:
        minimum = f"{number((alert.expected or 0.0) * 100, lang, 0)}%"
        return words["data_stale"].format(target=target, minimum=minimum)
    if alert.gap is None or alert.gap <= 0 or alert.kind not in words:
        return ""
    text = words["raise"].format(target=target, gap=number(alert.gap, lang), why=words[alert.kind])
    levers = [words["lever"].format(name=names.get(d.indicator_id, d.indicator_id), pull=number(d.pull, lang))
              for d in alert.drivers]  # fmt: skip
    return f"{text} {words['levers'].format(levers='; '.join(levers))}" if levers else text


def describe(facts: Facts, lang: Language) -> str:
    """One paragraph for operators (Alertmanager's description)."""
    labels = m.LABELS[lang]
    parts = [
        f"{facts.region} ({facts.province}), {facts.target}: {facts.headline}",
        f"{facts.current_label} {facts.current}; {facts.expected_label} {facts.expected}; {labels['gap']} {facts.gap}.",
        f"{labels['due']}: {facts.due}.",
    ]
    if facts.drivers:
        parts.append(f"{labels['drivers']}: " + "; ".join(facts.drivers) + ".")
    if facts.remedy:
        parts.append(f"{labels['remedy']}: {facts.remedy}")
    return " ".join(parts)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    chart_png: bytes | None


class EmailRenderer:
    """Renders one notification for one office: subject, plain text, HTML (autoescaped) and the chart."""

    def __init__(
        self,
        registry: RegionRegistry,
        indicator_names: Mapping[str, str] | None = None,
        templates: Path = TEMPLATES,
    ) -> None:
        self.registry = registry
        self.indicator_names = dict(indicator_names or {})
        self.env = Environment(
            loader=FileSystemLoader(templates),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def subject(self, n: Notification, facts: Facts, lang: Language) -> str:
        prefix = "[Pantau]"
        if n.level != "region":
            prefix += f"[{m.LABELS[lang]['escalation.' + n.level]}]"
        return f"{prefix} {facts.state.upper()} {facts.severity}: {facts.region} - {facts.kind} ({facts.target})"

    def render(
        self, n: Notification, *, lang: Language, office: str | None = None, chart_cid: str = "chart"
    ) -> RenderedEmail:
        """Pure apart from drawing the chart (CPU only): callers on an event loop use a thread."""
        facts = alert_facts(n.alert, lang, self.registry, self.indicator_names)
        labels = m.LABELS[lang]
        chart = score_chart(
            n.history,
            n.path,
            due=n.alert.milestone_due,
            history_label=labels["chart.history"],
            path_label=labels["chart.path"],
        )
        context = {
            "t": labels,
            "f": facts,
            "alert": n.alert,
            "greeting": labels["greeting"].format(office=office) if office else None,
            "escalation": (
                labels["escalation_note"].format(level=m.LEVELS[lang][n.level]) if n.level != "region" else None
            ),
            "chart_title": labels["chart"].format(target=facts.target),
            "chart_cid": chart_cid if chart else None,
            "ack_url": n.ack_url,
            "footer": labels["footer"].format(alert_id=n.alert.alert_id, notification_id=n.id),
            "lang": lang,
        }
        return RenderedEmail(
            subject=self.subject(n, facts, lang),
            text=self.env.get_template("email.txt.j2").render(context),
            html=self.env.get_template("email.html.j2").render(context),
            chart_png=chart,
        )
