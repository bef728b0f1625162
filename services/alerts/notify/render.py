"""The words of a notification: the facts of an alert in one language, the email, the webhook's fields.

Every figure is named by what it is for the alert's kind (services/alerts/domain/rules.py,
``observe()``): ``expected`` is today's value on the masterplan path for ``behind_trajectory``, the
passed milestone's target for ``milestone_missed``, the next milestone's target for ``at_risk``, the
framework's minimum coverage for ``data_stale`` and the highest score within the drop window for
``score_drop``; ``gap`` is the distance from it (a projected shortfall for ``at_risk``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel, ConfigDict

from schemas.alerts import AlertEvent, AlertKind, AlertState
from schemas.language import remedy_text
from schemas.regions import RegionRegistry
from services.alerts.notify import messages as m
from services.alerts.notify.catalogue import Catalogue
from services.alerts.notify.chart import Mark, Points, Reference, draw, png
from services.alerts.notify.model import Notification

Language = Literal["id", "en"]
TEMPLATES = Path(__file__).parent / "templates"
_ORDER = {"info": 0, "warning": 1, "critical": 2}
FigureKey = Literal["current", "expected", "projected", "gap", "next_milestone"]


def number(x: float, lang: Language, digits: int = 2) -> str:
    """``3,20`` in Indonesian, ``3.20`` in English."""
    s = f"{x:.{digits}f}" if digits else f"{x:g}"
    return s.replace(".", ",") if lang == "id" else s


def day(d: dt.date, lang: Language) -> str:
    return f"{d.day} {m.MONTHS[lang][d.month - 1]} {d.year}"


def moment(at: dt.datetime, province_code: str, lang: Language) -> str:
    """The time in the region's own zone: ``27 November 2026 15.00 WIB``."""
    local = at.astimezone(m.zone_of(province_code))
    sep = "." if lang == "id" else ":"
    return f"{day(local.date(), lang)} {local.hour:02d}{sep}{local.minute:02d} {local.tzname()}"


def span(d: dt.timedelta, lang: Language) -> str:
    """A length of time in its largest whole unit: ``7 hari``, ``5 minutes``, ``90 menit``."""
    seconds = int(d.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds % size == 0 or unit == "second":
            count = seconds // size
            one, many = m.SPANS[lang][unit]
            return f"{count} {one if count == 1 else many}"
    raise AssertionError("unreachable")


def milestone_ahead(alert: AlertEvent) -> bool:
    """The alert's milestone is still to come on the day of the transition (in the region's zone)."""
    if alert.milestone_due is None:
        return False
    return alert.milestone_due > alert.at.astimezone(m.zone_of(alert.province_code)).date()


def _on(path: Points, due: dt.date) -> float | None:
    """The target of the path's milestone due on ``due`` (path points are milestone dates)."""
    return next((v for t, v in path if t.astimezone(dt.UTC).date() == due), None)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


class Figure(BaseModel):
    """One labelled figure. ``text`` is what a reader sees after the label (``0,40 poin di bawah jalur``);
    ``value`` (in ``unit``) is for machines: a score, a percentage, or an ISO date for a milestone.
    A gap's value is signed as the alert's ``gap``: positive means behind."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: FigureKey
    label: str
    value: float | str | None
    unit: str | None
    text: str


@dataclass(frozen=True)
class Facts:
    """Everything a reader needs to know about one alert transition, in one language."""

    region: str
    province: str
    target: str
    kind: str
    state: str
    #: The severity word, and its change when a firing alert moved band: "kritis (naik dari waspada)".
    severity: str
    #: The title of the message: state, severity (and its change), region, kind and target.
    title: str
    headline: str
    #: "sejak" (since), or "per" (as of) for a change of severity; then the time of the transition.
    since_word: str
    since: str
    figures: tuple[Figure, ...]
    drivers: tuple[str, ...]
    remedy: str
    #: One line for Alertmanager and webhook receivers: region, kind, target, state and the two main figures.
    summary: str


class Wording:
    """Turns alert events into :class:`Facts`, with the names of regions and of the framework's indicators.

    ``drop_window`` is the window of ``score_drop`` (the alerts service's setting): without it the
    peak is called "the highest within the drop window", never a number of days it may not be.
    """

    def __init__(
        self,
        registry: RegionRegistry,
        catalogue: Catalogue | None = None,
        drop_window: dt.timedelta | None = None,
    ) -> None:
        self.registry = registry
        self.catalogue = catalogue or Catalogue()
        self.drop_window = drop_window

    def names(self, alert: AlertEvent) -> tuple[str, str]:
        """The region's and the province's names (the codes when the registry does not know them)."""
        if alert.region_code in self.registry:
            r = self.registry.get(alert.region_code)
            return r.name, r.province_name
        return alert.region_code, alert.province_code

    def facts(self, alert: AlertEvent, lang: Language, path: Points = ()) -> Facts:
        """The facts of ``alert`` in ``lang``; ``path`` (milestone points) names the next milestone's target."""
        labels = m.LABELS[lang]
        region, province = self.names(alert)
        target = m.TARGETS[lang].get(alert.target, alert.target.replace("_", " "))
        kind = m.KINDS[lang].get(alert.kind, alert.kind)
        state = m.STATES[lang].get(alert.state, alert.state)
        change, change_short = self._severity_change(alert, lang)
        word = m.SEVERITIES[lang].get(alert.severity, alert.severity)
        severity = f"{word} ({change_short})" if change_short else word
        headline = self._headline(alert, lang, target, kind)
        resolved = alert.state == AlertState.RESOLVED
        title = state.upper() if resolved else f"{state.upper()} {severity}"
        figures = self.figures(alert, lang, path)
        main = "; ".join(f"{f.label}: {f.text}" for f in figures if f.key in ("current", "expected"))
        status = word if alert.state == AlertState.FIRING else state
        return Facts(
            region=region,
            province=province,
            target=target,
            kind=kind,
            state=state,
            severity=severity,
            title=f"{title}: {region} - {kind} ({target})",
            headline=f"{change} {headline}" if change else headline,
            since_word=labels["as_of" if change else "since"],
            since=moment(alert.at, alert.province_code, lang),
            figures=figures,
            drivers=tuple(
                labels["driver_line"].format(
                    name=self.catalogue.label(d.indicator_id, lang),
                    score=labels["score_of"].format(score=number(d.score, lang))
                    if d.score is not None
                    else labels["not_available"],
                    weight=number(d.weight, lang, 0),
                    pull=number(d.pull, lang),
                    target=target,
                )
                for d in ([] if resolved else alert.drivers)
            ),
            remedy=self.remedy(alert, lang, target),
            summary=f"{region} - {kind} ({target}), {status}. {main}.",
        )

    @staticmethod
    def _severity_change(alert: AlertEvent, lang: Language) -> tuple[str | None, str | None]:
        old = alert.previous_severity
        if alert.state != AlertState.FIRING or old is None or old == alert.severity:
            return None, None
        words = m.SEVERITY_CHANGES[lang]
        way = "raised" if _ORDER[alert.severity] > _ORDER[old] else "lowered"
        names = {"old": m.SEVERITIES[lang][old], "new": m.SEVERITIES[lang][alert.severity]}
        return words[way].format(**names), words[way + ".short"].format(**names)

    def _headline(self, alert: AlertEvent, lang: Language, target: str, kind: str) -> str:
        words = m.HEADLINES[lang]
        if alert.state in (AlertState.RESOLVED, AlertState.ACKNOWLEDGED):
            return words[alert.state].format(kind=kind, target=target)
        due = day(alert.milestone_due, lang) if alert.milestone_due else m.LABELS[lang]["not_available"]
        window = self._window(lang)
        key = f"{alert.kind}.no_window" if alert.kind == AlertKind.SCORE_DROP and window is None else str(alert.kind)
        return words[key].format(target=target, due=due, window=window)

    def _window(self, lang: Language) -> str | None:
        """The score_drop window in words (``7 hari``), or None when the notifier was not told it."""
        return span(self.drop_window, lang) if self.drop_window else None

    def figures(self, alert: AlertEvent, lang: Language, path: Points = ()) -> tuple[Figure, ...]:
        """The alert's figures, each labelled with what it is for the alert's kind."""
        words = m.FIGURES[lang]
        units = m.FIGURE_UNITS[lang]
        na = m.LABELS[lang]["not_available"]
        kind = alert.kind
        due = day(alert.milestone_due, lang) if alert.milestone_due else na
        share = kind == AlertKind.DATA_STALE  # coverage: a share of indicator weight, shown in percent

        def figure(key: FigureKey, label: str, x: float | None) -> Figure:
            if x is None:
                return Figure(key=key, label=label, value=None, unit=None, text=na)
            if share:
                return Figure(key=key, label=label, value=round(x * 100, 4), unit=units["share"],
                              text=f"{number(x * 100, lang, 0)}%")  # fmt: skip
            return Figure(key=key, label=label, value=round(x, 4), unit=units["score"], text=number(x, lang))

        window = self._window(lang)
        if kind == AlertKind.SCORE_DROP:
            expected = words["expected.score_drop.no_window"] if window is None else words[
                "expected.score_drop"].format(window=window)  # fmt: skip
        else:
            expected = words[f"expected.{kind}"].format(due=due)
        out = [figure("current", words[f"current.{kind}"] if share else words["current"], alert.current),
               figure("expected", expected, alert.expected)]  # fmt: skip
        if kind == AlertKind.AT_RISK and alert.expected is not None and alert.gap is not None:
            out.append(figure("projected", words["projected.at_risk"].format(due=due), alert.expected - alert.gap))
        behind, ahead = m.GAPS[lang][kind]
        if alert.gap is None:
            out.append(Figure(key="gap", label=behind[0], value=None, unit=None, text=na))
        else:
            label, text = behind if alert.gap >= 0 else ahead
            scale, digits = (100.0, 0) if share else (1.0, 2)
            out.append(Figure(key="gap", label=label, value=round(alert.gap * scale, 4),
                              unit=units["share_gap" if share else "score"],
                              text=text.format(gap=number(abs(alert.gap) * scale, lang, digits))))  # fmt: skip
        if kind == AlertKind.BEHIND_TRAJECTORY and alert.milestone_due is not None and milestone_ahead(alert):
            goal = _on(path, alert.milestone_due)
            text = due if goal is None else words["next_milestone.target"].format(due=due, target=number(goal, lang))
            out.append(Figure(key="next_milestone", label=words["next_milestone"],
                              value=alert.milestone_due.isoformat(), unit=None, text=text))  # fmt: skip
        return tuple(out)

    def remedy(self, alert: AlertEvent, lang: Language, target: str) -> str:
        """What it would take, in ``lang``, from the alert's figures and its drivers by name.

        Empty once the alert is resolved (or still pending), or when nothing is behind (gap <= 0).
        """
        if alert.state in (AlertState.RESOLVED, AlertState.PENDING):
            return ""
        levers = [(self.catalogue.label(d.indicator_id, lang), d.pull) for d in alert.drivers]
        return remedy_text(alert.kind, target, alert.gap, alert.expected, levers,
                           lambda x, digits: number(x, lang, digits), lang)  # fmt: skip

    def describe(self, facts: Facts, lang: Language) -> str:
        """One paragraph for operators (Alertmanager's description)."""
        labels = m.LABELS[lang]
        parts = [
            f"{facts.region} ({facts.province}), {facts.target}: {facts.headline}",
            "; ".join(f"{f.label}: {f.text}" for f in facts.figures) + ".",
        ]
        if facts.drivers:
            parts.append(f"{labels['drivers']}: " + "; ".join(facts.drivers) + ".")
        if facts.remedy:
            parts.append(f"{labels['remedy']}: {facts.remedy}")
        return " ".join(parts)

    def webhook_fields(self, n: Notification, lang: Language) -> dict[str, Any]:
        """What a webhook body adds to the alert event's fields (docs/notifications.md, "Webhooks")."""
        facts = self.facts(n.alert, lang, n.path)
        english = facts if lang == "en" else self.facts(n.alert, "en", n.path)
        drivers = [{**d.model_dump(mode="json"), "name": self.catalogue.name(d.indicator_id, lang),
                    "unit": self.catalogue.unit(d.indicator_id, lang)} for d in n.alert.drivers]  # fmt: skip
        return {
            "level": n.level,
            "ack_url": n.ack_url,
            "card_url": n.card_url,
            "region_name": facts.region,
            "province_name": facts.province,
            "language": lang,
            "title": facts.title,
            "headline": facts.headline,
            "summary": facts.summary,
            "figures": [f.model_dump() for f in facts.figures],
            "drivers": drivers,
            "remedy": facts.remedy,
            "summary_en": english.summary,
            "remedy_en": english.remedy,
        }

    def chart(self, n: Notification, lang: Language) -> bytes | None:
        """The email's chart: recent scores (and the alert's own), the path, and what the alert compares with."""
        alert = n.alert
        history = list(n.history)
        if alert.kind != AlertKind.DATA_STALE and alert.current is not None and all(t < alert.at for t, _ in history):
            history.append((alert.at, alert.current))
        milestone = reference = None
        due = alert.milestone_due
        labels = m.LABELS[lang]
        goal = alert.expected if alert.kind == AlertKind.AT_RISK else None
        if alert.kind == AlertKind.BEHIND_TRAJECTORY and due is not None and milestone_ahead(alert):
            goal = _on(n.path, due)
        if due is not None and goal is not None:
            label = labels["chart.milestone"].format(due=day(due, lang), target=number(goal, lang))
            milestone = Mark(dt.datetime.combine(due, dt.time(), dt.UTC), goal, label)
        if alert.expected is not None and alert.kind in (AlertKind.MILESTONE_MISSED, AlertKind.SCORE_DROP):
            (expected,) = (f for f in self.figures(alert, lang) if f.key == "expected")
            reference = Reference(alert.expected, f"{expected.label}: {expected.text}")
        return png(draw(history, n.path, milestone=milestone, reference=reference, lang=lang,
                        tz=m.zone_of(alert.province_code), history_label=labels["chart.history"],
                        path_label=labels["chart.path"]))  # fmt: skip


def alert_facts(
    alert: AlertEvent, lang: Language, registry: RegionRegistry, names: Catalogue | Mapping[str, str] | None = None
) -> Facts:
    """The facts of ``alert`` without a :class:`Wording` at hand (``Notifier.wording.facts`` knows the drop window)."""
    catalogue = names if isinstance(names, Catalogue) else Catalogue.from_names(names or {})
    return Wording(registry, catalogue).facts(alert, lang)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    chart_png: bytes | None


class EmailRenderer:
    """Renders one notification for one office: subject, plain text, HTML (autoescaped) and the chart."""

    def __init__(self, wording: Wording, templates: Path = TEMPLATES) -> None:
        self.wording = wording
        self.env = Environment(
            loader=FileSystemLoader(templates),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    @property
    def indicator_names(self) -> Catalogue:
        """The catalogue the wording names indicators with (for :func:`alert_facts`)."""
        return self.wording.catalogue

    @staticmethod
    def subject(n: Notification, facts: Facts, lang: Language) -> str:
        prefix = "[Pantau]"
        if n.level != "region":
            prefix += f"[{m.LABELS[lang]['escalation.' + n.level]}]"
        return f"{prefix} {facts.title}"

    def render(
        self, n: Notification, *, lang: Language, office: str | None = None, chart_cid: str = "chart"
    ) -> RenderedEmail:
        """Pure apart from drawing the chart (CPU only): callers on an event loop use a thread."""
        facts = self.wording.facts(n.alert, lang, n.path)
        labels = m.LABELS[lang]
        chart = self.wording.chart(n, lang)
        escalation = None
        if n.level != "region":
            note = "escalation_note" if n.alert.state == AlertState.FIRING else "escalated_note"
            escalation = labels[note].format(level=m.LEVELS[lang][n.level])
        context = {
            "t": labels,
            "f": facts,
            "alert": n.alert,
            "greeting": labels["greeting"].format(office=office) if office else None,
            "escalation": escalation,
            "chart_title": _capital(labels["chart"].format(target=facts.target)),
            "chart_cid": chart_cid if chart else None,
            "ack_url": n.ack_url,
            "card_url": n.card_url,
            "footer": labels["footer"].format(alert_id=n.alert.alert_id, notification_id=n.id),
            "lang": lang,
        }
        return RenderedEmail(
            subject=self.subject(n, facts, lang),
            text=self.env.get_template("email.txt.j2").render(context),
            html=self.env.get_template("email.html.j2").render(context),
            chart_png=chart,
        )
