"""View models of a region card's details: its indicators now (from the scoring service's body) and
alerts (from the history API's alert items), in the reader's language.

Pure, as services/web/views.py: bodies in, frozen values out, every word from :class:`Messages` or the
shared catalogue of schemas/language.py (alert kinds, states, severities, targets, units, remedies).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from schemas import language
from schemas.framework import Framework, Indicator
from schemas.timezones import zone_of
from services.web.messages import Messages

Json = Mapping[str, Any]
#: Severity order of a list of alerts: the worst first.
SEVERITY_ORDER: Final = {"critical": 0, "warning": 1, "info": 2}


def alert_href(alert_id: str) -> str:
    return f"/peringatan/{alert_id}"


def indicator_name(indicator: Indicator, msg: Messages) -> str:
    return (indicator.name_id or indicator.name) if msg.lang == "id" else indicator.name


def unit_text(unit: str, msg: Messages) -> str:
    """The framework's unit (English) as a reader of the language writes it."""
    return language.UNITS[msg.lang].get(unit, unit)


def value_text(value: float, unit: str, msg: Messages) -> str:
    """``97,50 persen``; whole values without decimals, large ones with one."""
    digits = 0 if float(value).is_integer() else 1 if abs(value) >= 100 else 2
    words = unit_text(unit, msg)
    return f"{msg.number(value, digits)}%" if words in ("persen", "percent") else f"{msg.number(value, digits)} {words}"


@dataclass(frozen=True)
class IndicatorRow:
    id: str
    name: str
    value_text: str
    score_text: str
    observed_text: str
    fresh: bool
    fresh_text: str
    source: str
    kind_text: str


@dataclass(frozen=True)
class ElementRow:
    id: str
    name: str
    score_text: str
    coverage_text: str
    indicators: tuple[IndicatorRow, ...]


@dataclass(frozen=True)
class DimensionDetail:
    id: str
    name: str
    score_text: str
    coverage_text: str
    elements: tuple[ElementRow, ...]


@dataclass(frozen=True)
class Indicators:
    """The region's indicators now, by dimension and element in framework order."""

    evaluated_text: str
    dimensions: tuple[DimensionDetail, ...]
    fresh: int
    total: int


def _score(value: float | None, msg: Messages) -> str:
    return msg("no_data") if value is None else msg.number(value)


def _local_day(at: str, province_code: str) -> dt.date:
    return dt.datetime.fromisoformat(at).astimezone(zone_of(province_code)).date()


def _observed(at: str, province_code: str, msg: Messages) -> str:
    return msg("observed", day=msg.day(_local_day(at, province_code)))


def indicators(body: Json, framework: Framework, msg: Messages) -> Indicators:
    """From a scoring service ``/scores/{region}`` body (a RegionScore): every indicator of the
    framework with its value in its unit, its score, the day of its newest reading (the region's own
    zone) and whether it is fresh; an indicator without a reading in its window says so."""
    province = body["province_code"]
    by_indicator = {i["indicator_id"]: i for i in body.get("indicators", [])}
    dims = {d["dimension_id"]: d for d in body.get("dimensions", [])}
    out, fresh = [], 0
    for d in framework.dimensions:
        dim = dims.get(d.id, {})
        elements = {e["element_id"]: e for e in dim.get("elements", [])}
        rows = []
        for e in d.elements:
            element = elements.get(e.id, {})
            items = []
            for ind in e.indicators:
                got = by_indicator.get(ind.id, {})
                value, observed = got.get("value"), got.get("observed_at")
                is_fresh = bool(got.get("fresh"))
                fresh += is_fresh
                items.append(IndicatorRow(
                    id=ind.id, name=indicator_name(ind, msg),
                    value_text=msg("no_reading") if value is None else value_text(value, ind.unit, msg),
                    score_text=_score(got.get("score"), msg),
                    observed_text="" if observed is None else _observed(observed, province, msg),
                    fresh=is_fresh, fresh_text=msg("fresh.yes" if is_fresh else "fresh.no"),
                    source=ind.source, kind_text=msg(f"indicator.kind.{ind.kind}"),
                ))  # fmt: skip
            rows.append(ElementRow(e.id, (e.name_id or e.name) if msg.lang == "id" else e.name,
                                   _score(element.get("score"), msg),
                                   msg.percent(float(element.get("coverage", 0.0)), 0), tuple(items)))  # fmt: skip
        out.append(DimensionDetail(d.id, (d.name_id or d.name) if msg.lang == "id" else d.name,
                                   _score(dim.get("score"), msg), msg.percent(float(dim.get("coverage", 0.0)), 0),
                                   tuple(rows)))  # fmt: skip
    evaluated = _local_day(body["evaluated_at"], province)
    total = sum(len(e.indicators) for d in framework.dimensions for e in d.elements)
    return Indicators(msg("as_of", day=msg.day(evaluated)), tuple(out), fresh, total)


# ------------------------------------------------------------------------------------------ alerts


@dataclass(frozen=True)
class DriverRow:
    name: str
    score_text: str
    pull_text: str


@dataclass(frozen=True)
class AlertRow:
    alert_id: str
    href: str
    region_code: str
    region_name: str
    region_href: str
    headline: str  # "Tertinggal dari jalur: indeks kematangan"
    kind: str
    severity: str
    severity_text: str
    state_text: str
    acknowledged: bool
    fired_text: str
    figures: tuple[tuple[str, str], ...]  # (what it is, value): every figure says what it is
    drivers: tuple[DriverRow, ...]
    remedy: str
    open: bool


def target_text(target: str, framework: Framework, msg: Messages) -> str:
    words = language.TARGETS[msg.lang]
    if target in words:
        return words[target]
    for d in framework.dimensions:
        if d.id == target:
            return (d.name_id or d.name) if msg.lang == "id" else d.name
    return target.replace("_", " ")


def _moment(at: str, province_code: str, msg: Messages) -> str:
    local = dt.datetime.fromisoformat(at).astimezone(zone_of(province_code))
    return msg("moment", day=msg.day(local.date()), time=local.strftime("%H.%M" if msg.lang == "id" else "%H:%M"),
               zone=local.tzname() or "")  # fmt: skip


def alert_row(item: Json, framework: Framework, msg: Messages) -> AlertRow:
    """An alert item of the history API (``/v1/alerts``, ``/v1/alerts/{id}``'s ``latest``) for a page."""
    region, kind, target = item["region"], item["kind"], item["target"]
    names = {i.id: i for d in framework.dimensions for e in d.elements for i in e.indicators}
    target_words = target_text(target, framework, msg)
    figures = []
    stale, drop = kind == "data_stale", kind == "score_drop"
    due = item.get("milestone_due")
    if item.get("current") is not None:  # a data_stale alert's current is the target's data coverage (0-1)
        figures.append((msg("alert.current_coverage" if stale else "alert.current", target=target_words),
                        msg.percent(item["current"], 0) if stale else msg.number(item["current"])))  # fmt: skip
    if item.get("expected") is not None:  # what it is depends on the kind, named as the notifications name it
        figure_names = language.FIGURES[msg.lang]
        name = figure_names.get(f"expected.{kind}" if kind != "score_drop" else "expected.score_drop.no_window",
                         msg("alert.expected"))  # fmt: skip
        name = name.format(due=msg.day(dt.date.fromisoformat(due)) if due else "")
        figures.append((name, msg.percent(item["expected"], 0) if stale else msg.number(item["expected"])))
    if item.get("gap") is not None and not stale:
        gap_name = "alert.gap.milestone" if kind in ("milestone_missed", "at_risk") else "alert.gap"
        figures.append(
            (msg("alert.drop"), msg.number(item["gap"])) if drop else (msg(gap_name), msg.signed(item["gap"]))
        )
    if item.get("milestone_due"):
        figures.append((msg("alert.milestone_due"), msg.day(dt.date.fromisoformat(item["milestone_due"]))))
    drivers = tuple(
        DriverRow(indicator_name(names[d["indicator_id"]], msg) if d["indicator_id"] in names else d["indicator_id"],
                  _score(d.get("score"), msg), msg.signed(d["pull"]))
        for d in item.get("drivers") or []
    )  # fmt: skip
    is_open = item["state"] in ("firing", "acknowledged")
    levers = [(d.name, float(raw["pull"])) for d, raw in zip(drivers, item.get("drivers") or [], strict=True)]
    remedy = (language.remedy_text(kind, target_words, item.get("gap"), item.get("expected"), levers,
                                   msg.number, msg.lang) if is_open else "")  # fmt: skip
    return AlertRow(
        alert_id=item["alert_id"], href=alert_href(item["alert_id"]), region_code=region["code"],
        region_name=region["name"], region_href=f"/wilayah/{region['code']}",
        headline=_capital(msg("alert.headline", kind=language.KINDS[msg.lang].get(kind, kind), target=target_words)),
        kind=kind, severity=item["severity"], severity_text=language.SEVERITIES[msg.lang].get(item["severity"], ""),
        state_text=str(language.STATES[msg.lang].get(item["state"], item["state"])),
        acknowledged=bool(item.get("acknowledged")) or item["state"] == "acknowledged",
        fired_text=_moment(item.get("fired_at") or item["at"], region["province_code"], msg),
        figures=tuple(figures), drivers=drivers, remedy=remedy, open=is_open,
    )  # fmt: skip


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def alert_rows(items: Iterable[Json], framework: Framework, msg: Messages) -> tuple[AlertRow, ...]:
    """The alerts, the worst severity first, then by region code."""
    rows = [alert_row(i, framework, msg) for i in items]
    return tuple(sorted(rows, key=lambda r: (SEVERITY_ORDER.get(r.severity, 9), r.region_code, r.alert_id)))


def open_alerts(items: Sequence[Json], framework: Framework, msg: Messages) -> tuple[AlertRow, ...]:
    return tuple(r for r in alert_rows(items, framework, msg) if r.open)


@dataclass(frozen=True)
class TransitionRow:
    at_text: str
    state_text: str
    severity_text: str
    escalation_text: str


def transition_row(t: Json, region_code: str, msg: Messages) -> TransitionRow:
    """One step of an alert's history (a TransitionBody), its time in the region's own zone."""
    return TransitionRow(
        at_text=_moment(t["at"], region_code[:2], msg),
        state_text=str(language.STATES[msg.lang].get(t["state"], t["state"])),
        severity_text=str(language.SEVERITIES[msg.lang].get(t["severity"], t["severity"])),
        escalation_text=msg(f"escalation.{t['escalation']}") if t.get("escalation") else "",
    )  # fmt: skip


def live_item(state: Json, region: Json) -> Json:
    """An alert item (as the history API's ``/v1/alerts`` gives it) from the alerts worker's state of an
    open alert (``alert``: the AlertEvent, ``acked``, ``fired_at``) and the region's reference."""
    alert = state["alert"]
    return {**alert, "region": region, "acknowledged": bool(state.get("acked")),
            "fired_at": state.get("fired_at") or alert["at"]}  # fmt: skip


def escalation_text(state: Json, province_code: str, msg: Messages) -> tuple[str, str]:
    """Who an open alert is addressed to now, and when it escalates next if nobody acknowledges it."""
    if state.get("acked"):
        return msg("alert.acknowledged.long"), ""
    now = msg(f"alert.escalation.{state.get('level', 'region')}")
    following = state.get("next_escalation")
    if not following:
        return now, ""
    return now, msg("alert.escalation.next", level=msg(f"escalation.{following['level']}"),
                    at=_moment(following["at"], province_code, msg))  # fmt: skip
