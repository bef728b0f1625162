"""The view models of a region card's indicators and of alerts (services/web/details.py) and the small pure
helpers of the pages (services/web/app.py).

The inputs are written as the services send them: the scoring service's ``/scores/{region}`` body (a
RegionScore dumped to JSON), the history API's alert items and transitions, the alerts worker's state of an
open alert. Every expected text is worked out by hand beside its test, from the catalogues
(services/web/messages.py, schemas/language.py) and the shipped framework.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from starlette.requests import Request

from schemas.alerts import AlertEvent, Driver
from schemas.framework import Framework, load_framework
from schemas.regions import default_registry
from schemas.scores import DimensionScore, ElementScore, IndicatorScore, RegionScore
from services.history.api_models import AlertItem, RegionRef, TransitionBody
from services.web import details
from services.web.app import (
    PageError,
    _admitted,
    _date,
    chosen_language,
    chosen_measure,
    ranking_filter,
    region_ref,
    slug,
    switch_url,
)
from services.web.details import DriverRow
from services.web.messages import messages
from services.web.views import RankingFilter

ID, EN = messages("id"), messages("en")
FRAMEWORK: Framework = load_framework()
UTC = dt.UTC

BANDUNG = {"code": "32.73", "name": "Kota Bandung", "type": "kota", "province_code": "32",
           "province_name": "Jawa Barat"}  # fmt: skip
REGIONS = {
    "32.73": BANDUNG,
    "32.04": {"code": "32.04", "name": "Kabupaten Bandung", "type": "kabupaten", "province_code": "32",
              "province_name": "Jawa Barat"},
    "51.71": {"code": "51.71", "name": "Kota Denpasar", "type": "kota", "province_code": "51", "province_name": "Bali"},
    "73.71": {"code": "73.71", "name": "Kota Makassar", "type": "kota", "province_code": "73",
              "province_name": "Sulawesi Selatan"},
    "91.71": {"code": "91.71", "name": "Kota Jayapura", "type": "kota", "province_code": "91",
              "province_name": "Papua"},
    "11.01": {"code": "11.01", "name": "Kabupaten Aceh Selatan", "type": "kabupaten", "province_code": "11",
              "province_name": "Aceh"},
}  # fmt: skip


def request(query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None, path: str = "/x") -> Request:
    return Request({"type": "http", "path": path, "query_string": query, "headers": headers or []})


# -------------------------------------------------------------------------------- the scoring body


def indicator_score(indicator_id: str, value: float | None, score: float | None, observed: dt.datetime | None,
                    fresh: bool) -> IndicatorScore:  # fmt: skip
    ind = FRAMEWORK.indicator(indicator_id)
    return IndicatorScore(indicator_id=indicator_id, dimension=ind.dimension, element=ind.element, weight=ind.weight,
                          value=value, score=score, observed_at=observed, fresh=fresh)  # fmt: skip


def score_body(region: str = "32.73", observed: dt.datetime | None = None) -> dict[str, Any]:
    """Kota Bandung scored at 2026-11-30 17:30 UTC (1 December 00:30 WIB): governance with one element
    scored, two of its indicators read (one fresh, one stale), every other indicator without a reading."""
    uptime_at = observed or dt.datetime(2026, 11, 30, 18, 30, tzinfo=UTC)  # 1 Dec 01:30 WIB
    score = RegionScore(
        region_code=region, province_code=region[:2], framework=FRAMEWORK.key,
        evaluated_at=dt.datetime(2026, 11, 30, 17, 30, tzinfo=UTC), index=None, coverage=0.08,
        status="insufficient_data",
        dimensions=[DimensionScore(dimension_id="governance", score=3.42, coverage=0.6, status="ok", elements=[
            ElementScore(element_id="public_services", score=4.25, coverage=0.875, status="ok"),
        ])],
        indicators=[
            indicator_score("GOV_SERVICE_UPTIME", 97.5, 4.04, uptime_at, True),
            # 16:59 UTC is 23:59 WIB: still 30 November in Bandung.
            indicator_score("GOV_COMPLAINT_RESPONSE_HOURS", 12.0, 5.0,
                            dt.datetime(2026, 11, 30, 16, 59, tzinfo=UTC), False),
        ],
        events_applied=40,
    )  # fmt: skip
    return score.model_dump(mode="json")


def test_the_scoring_body_is_what_the_scoring_service_sends() -> None:
    body = score_body()
    assert body["evaluated_at"] == "2026-11-30T17:30:00Z"
    assert body["indicators"][0]["observed_at"] == "2026-11-30T18:30:00Z"


def _row(ind: details.Indicators, indicator_id: str) -> details.IndicatorRow:
    return next(i for d in ind.dimensions for e in d.elements for i in e.indicators if i.id == indicator_id)


def test_indicators_follow_the_framework_order_with_their_names_in_indonesian() -> None:
    ind = details.indicators(score_body(), FRAMEWORK, ID)
    assert [d.id for d in ind.dimensions] == ["governance", "economy", "branding", "living", "society", "environment"]
    gov = ind.dimensions[0]
    assert gov.name == "Tata Kelola Cerdas"
    assert [e.id for e in gov.elements] == ["public_services", "bureaucracy", "public_policy"]
    assert gov.elements[0].name == "Pelayanan Publik"
    assert [i.id for i in gov.elements[0].indicators] == ["GOV_SERVICE_UPTIME", "GOV_COMPLAINT_RESPONSE_HOURS",
                                                          "GOV_IPP_INDEX"]  # fmt: skip
    assert gov.elements[0].indicators[0].name == "Ketersediaan layanan publik daring"


def test_a_read_indicator_has_its_value_in_its_unit_its_score_and_its_local_day() -> None:
    ind = details.indicators(score_body(), FRAMEWORK, ID)
    uptime = _row(ind, "GOV_SERVICE_UPTIME")
    assert uptime.value_text == "97,50%"
    assert uptime.score_text == "4,04"
    # 2026-11-30 18:30 UTC + 7 hours = 1 December 01:30 WIB.
    assert uptime.observed_text == "bacaan terakhir 1 Desember 2026"
    assert (uptime.fresh, uptime.fresh_text, uptime.kind_text) == (True, "segar", "langsung")
    assert uptime.source == "HTTP uptime probes of the pemda e-service portals (SPBE)"

    hours = _row(ind, "GOV_COMPLAINT_RESPONSE_HOURS")
    assert hours.value_text == "12 jam"
    assert hours.score_text == "5,00"
    assert hours.observed_text == "bacaan terakhir 30 November 2026"
    assert (hours.fresh, hours.fresh_text) == (False, "kedaluwarsa")


def test_an_indicator_without_a_reading_says_so() -> None:
    ind = details.indicators(score_body(), FRAMEWORK, ID)
    ipp = _row(ind, "GOV_IPP_INDEX")
    assert ipp.value_text == "belum ada bacaan"
    assert ipp.score_text == "belum ada data"
    assert ipp.observed_text == ""
    assert (ipp.fresh, ipp.fresh_text, ipp.kind_text) == (False, "kedaluwarsa", "administratif")
    # An indicator of a dimension the body does not mention at all.
    p0 = _row(ind, "P0")
    assert (p0.value_text, p0.score_text, p0.observed_text) == ("belum ada bacaan", "belum ada data", "")


def test_dimension_and_element_scores_and_coverage_and_those_without_data() -> None:
    ind = details.indicators(score_body(), FRAMEWORK, ID)
    gov, eco = ind.dimensions[0], ind.dimensions[1]
    assert (gov.score_text, gov.coverage_text) == ("3,42", "60%")
    # 0.875 is 87.5%: rounded half up to 88%.
    assert (gov.elements[0].score_text, gov.elements[0].coverage_text) == ("4,25", "88%")
    assert (gov.elements[1].score_text, gov.elements[1].coverage_text) == ("belum ada data", "0%")
    assert (eco.name, eco.score_text, eco.coverage_text) == ("Ekonomi Cerdas", "belum ada data", "0%")


def test_fresh_count_total_and_the_day_of_the_evaluation_in_the_regions_zone() -> None:
    ind = details.indicators(score_body(), FRAMEWORK, ID)
    # Only the uptime reading is fresh; the shipped framework has 44 indicators (6 dimensions, 17 elements).
    assert (ind.fresh, ind.total) == (1, 44)
    # Evaluated 2026-11-30 17:30 UTC = 1 December 00:30 WIB.
    assert ind.evaluated_text == "per 1 Desember 2026"


def test_indicators_in_english() -> None:
    ind = details.indicators(score_body(), FRAMEWORK, EN)
    gov = ind.dimensions[0]
    assert (gov.name, gov.elements[0].name) == ("Smart Governance", "Public Services")
    uptime = _row(ind, "GOV_SERVICE_UPTIME")
    assert uptime.name == "Availability of online public services"
    assert (uptime.value_text, uptime.score_text) == ("97.50%", "4.04")
    assert uptime.observed_text == "last reading 1 December 2026"
    assert (uptime.fresh_text, uptime.kind_text) == ("fresh", "live")
    hours = _row(ind, "GOV_COMPLAINT_RESPONSE_HOURS")
    assert (hours.value_text, hours.fresh_text) == ("12 hours", "stale")
    ipp = _row(ind, "GOV_IPP_INDEX")
    assert (ipp.value_text, ipp.score_text, ipp.kind_text) == ("no reading yet", "no data yet", "administrative")
    assert ind.evaluated_text == "as of 1 December 2026"
    assert gov.elements[0].coverage_text == "88%"


@pytest.mark.parametrize(
    ("region", "day"),
    [
        ("32.73", "30 November 2026"),  # WIB: 23:30
        ("51.71", "1 Desember 2026"),  # WITA: 00:30
        ("91.71", "1 Desember 2026"),  # WIT: 01:30
    ],
)
def test_the_day_of_a_reading_is_the_regions_own(region: str, day: str) -> None:
    body = score_body(region, observed=dt.datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    assert _row(details.indicators(body, FRAMEWORK, ID), "GOV_SERVICE_UPTIME").observed_text == f"bacaan terakhir {day}"


def test_a_body_without_indicators_or_dimensions_lists_the_framework_without_readings() -> None:
    body = {**score_body(), "dimensions": [], "indicators": []}
    ind = details.indicators(body, FRAMEWORK, ID)
    assert (ind.fresh, ind.total) == (0, 44)
    rows = [i for d in ind.dimensions for e in d.elements for i in e.indicators]
    assert len(rows) == 44
    assert {r.value_text for r in rows} == {"belum ada bacaan"}


# ------------------------------------------------------------------------------ values and units


@pytest.mark.parametrize(
    ("value", "unit", "lang", "text"),
    [
        (97.5, "percent", "id", "97,50%"),
        (97.5, "percent", "en", "97.50%"),
        (12.0, "hours", "id", "12 jam"),
        (12.0, "hours", "en", "12 hours"),
        (-1.5, "percent", "id", "-1,50%"),  # GRDP can shrink
        (100.04, "percent", "id", "100,0%"),  # 100 and above: one decimal
        (12.5, "percent of city area", "id", "12,50 persen luas kota"),
        (12.5, "percent of city area", "en", "12.50 percent of city area"),
        (250.0, "datasets", "id", "250 dataset"),
        (1234.56, "count per 1000 residents", "id", "1.234,6 per 1.000 penduduk"),
        (1234.56, "count per 1000 residents", "en", "1,234.6 per 1,000 residents"),
        (3.425, "index 0-5", "id", "3,43 indeks 0-5"),  # half up as written
        (35.25, "ug/m3", "en", "35.25 µg/m³"),
        (42.5, "km/h", "id", "42,50 km/jam"),
        (4.5, "widgets", "id", "4,50 widgets"),  # a unit the catalogue does not know prints as it is
    ],
)
def test_value_text(value: float, unit: str, lang: str, text: str) -> None:
    assert details.value_text(value, unit, messages(lang)) == text


@pytest.mark.parametrize(
    ("unit", "lang", "text"),
    [
        ("hours", "id", "jam"),
        ("hours", "en", "hours"),
        ("hours per day", "id", "jam per hari"),
        ("IDR million per capita", "id", "juta rupiah per kapita"),
        ("IDR million per capita", "en", "IDR million per capita"),
        ("count per 100000 residents", "en", "per 100,000 residents"),
        ("percent", "id", "persen"),
    ],
)
def test_unit_text(unit: str, lang: str, text: str) -> None:
    assert details.unit_text(unit, messages(lang)) == text


@pytest.mark.parametrize(
    ("target", "lang", "text"),
    [
        ("index", "id", "indeks kematangan"),
        ("index", "en", "maturity index"),
        ("economy", "id", "ekonomi"),
        ("economy", "en", "Smart Economy"),  # no English word: the framework's dimension name
        ("governance", "en", "Smart Governance"),
        ("mobility", "id", "mobilitas"),
        ("mobility", "en", "mobility"),  # not a dimension of PP 59/2022
        ("new_dimension", "id", "new dimension"),
    ],
)
def test_target_text(target: str, lang: str, text: str) -> None:
    assert details.target_text(target, FRAMEWORK, messages(lang)) == text


# ------------------------------------------------------------------------------------------ alerts


def alert_item(**changes: Any) -> dict[str, Any]:
    """A behind_trajectory alert of Kota Bandung's economy as the history API lists it."""
    item: dict[str, Any] = {
        "alert_id": "al-3273-economy-behind", "region": BANDUNG, "kind": "behind_trajectory", "target": "economy",
        "state": "firing", "severity": "warning", "escalation": "region", "acknowledged": False,
        "fired_at": "2026-12-01T08:00:00Z", "at": "2026-12-02T03:15:00Z", "current": 2.58, "expected": 3.0,
        "gap": 0.42, "milestone_due": "2027-06-30",
        "summary": "economy: 2.58 is 0.42 below the path (3.00 expected today)",
        "drivers": [{"indicator_id": "P0", "score": 1.2, "weight": 1.0, "pull": 0.8}],
        "remedy": "Raise economy by 0.42 points to return to the masterplan path; largest levers: P0 (+0.80)",
    }  # fmt: skip
    item.update(changes)
    AlertItem.model_validate(item)  # the shape the history API documents
    return item


def test_an_alert_row_in_indonesian() -> None:
    row = details.alert_row(alert_item(), FRAMEWORK, ID)
    assert (row.alert_id, row.href) == ("al-3273-economy-behind", "/peringatan/al-3273-economy-behind")
    assert (row.region_code, row.region_name, row.region_href) == ("32.73", "Kota Bandung", "/wilayah/32.73")
    assert row.headline == "Tertinggal dari jalur: ekonomi"
    assert (row.kind, row.severity, row.severity_text, row.state_text) == ("behind_trajectory", "warning",
                                                                           "waspada", "aktif")  # fmt: skip
    assert (row.acknowledged, row.open) == (False, True)
    # 08:00 UTC + 7 = 15:00 WIB; the time is the one it fired, not the newest transition's.
    assert row.fired_text == "1 Desember 2026 pukul 15.00 WIB"
    assert row.figures == (
        ("Skor ekonomi sekarang (0-5)", "2,58"),
        ("Jalur masterplan hari ini", "3,00"),
        ("Selisih terhadap jalur (poin)", "+0,42"),
        ("Tenggat tonggak", "30 Juni 2027"),
    )
    assert row.drivers == (DriverRow("Persentase Penduduk Miskin", "1,20", "+0,80"),)
    assert row.remedy == ("Naikkan skor ekonomi sebesar 0,42 poin untuk kembali ke jalur masterplan. Indikator dengan "
                          "daya ungkit terbesar: Persentase Penduduk Miskin (+0,80 poin bila mencapai 5).")  # fmt: skip


def test_an_alert_row_in_english() -> None:
    row = details.alert_row(alert_item(), FRAMEWORK, EN)
    assert row.headline == "Behind trajectory: Smart Economy"
    assert (row.severity_text, row.state_text) == ("warning", "firing")
    assert row.fired_text == "1 December 2026 at 15:00 WIB"
    assert row.figures == (
        ("Score of the Smart Economy now (0-5)", "2.58"),
        ("Masterplan path today", "3.00"),
        ("Gap to the path (points)", "+0.42"),
        ("Milestone due", "30 June 2027"),
    )
    assert row.drivers == (DriverRow("Poverty rate", "1.20", "+0.80"),)
    assert row.remedy == (
        "Raise the Smart Economy score by 0.42 points to return to the masterplan path. The indicators with the "
        "largest leverage: Poverty rate (+0.80 points if it reached 5)."
    )


def test_the_remedy_names_every_lever_and_the_index_target() -> None:
    item = alert_item(target="index", kind="milestone_missed", gap=1.05, drivers=[
        {"indicator_id": "P0", "score": 1.2, "weight": 1.0, "pull": 0.8},
        {"indicator_id": "ECO_UNEMPLOYMENT_RATE", "score": 2.5, "weight": 1.0, "pull": 0.35},
    ])  # fmt: skip
    row = details.alert_row(item, FRAMEWORK, ID)
    assert row.headline == "Tonggak capaian terlewat: indeks kematangan"
    assert row.figures[0] == ("Skor indeks kematangan sekarang (0-5)", "2,58")
    assert row.remedy == (
        "Naikkan skor indeks kematangan sebesar 1,05 poin untuk memenuhi target tonggak yang telah lewat. Indikator "
        "dengan daya ungkit terbesar: Persentase Penduduk Miskin (+0,80 poin bila mencapai 5); Tingkat Pengangguran "
        "Terbuka (TPT) (+0,35 poin bila mencapai 5)."
    )


@pytest.mark.parametrize(
    ("region", "fired"),
    [
        ("32.73", "1 Desember 2026 pukul 15.00 WIB"),
        ("51.71", "1 Desember 2026 pukul 16.00 WITA"),
        ("73.71", "1 Desember 2026 pukul 16.00 WITA"),
        ("91.71", "1 Desember 2026 pukul 17.00 WIT"),
    ],
)
def test_the_time_an_alert_fired_is_in_its_regions_zone(region: str, fired: str) -> None:
    assert details.alert_row(alert_item(region=REGIONS[region]), FRAMEWORK, ID).fired_text == fired


def test_an_alert_that_never_fired_takes_the_time_of_its_transition_and_is_not_open() -> None:
    row = details.alert_row(alert_item(state="pending", fired_at=None), FRAMEWORK, ID)
    # 2026-12-02 03:15 UTC = 10:15 WIB.
    assert row.fired_text == "2 Desember 2026 pukul 10.15 WIB"
    assert (row.state_text, row.open, row.remedy) == ("menunggu", False, "")


def test_acknowledged_alerts_stay_open_with_their_remedy() -> None:
    by_state = details.alert_row(alert_item(state="acknowledged"), FRAMEWORK, ID)
    assert (by_state.acknowledged, by_state.open, by_state.state_text) == (True, True, "diakui")
    assert by_state.remedy.startswith("Naikkan skor ekonomi sebesar 0,42 poin")
    by_flag = details.alert_row(alert_item(acknowledged=True), FRAMEWORK, EN)
    assert (by_flag.acknowledged, by_flag.open, by_flag.state_text) == (True, True, "firing")


def test_a_resolved_alert_is_closed_and_says_nothing_of_what_it_takes() -> None:
    row = details.alert_row(alert_item(state="resolved"), FRAMEWORK, ID)
    assert (row.open, row.remedy, row.state_text) == (False, "", "selesai")
    assert row.drivers == (DriverRow("Persentase Penduduk Miskin", "1,20", "+0,80"),)


def test_an_alert_ahead_of_the_path_has_a_negative_gap_and_no_remedy() -> None:
    row = details.alert_row(alert_item(current=3.1, gap=-0.1), FRAMEWORK, ID)
    assert ("Selisih terhadap jalur (poin)", "-0,10") in row.figures
    assert row.remedy == ""


def test_missing_figures_are_left_out_and_unknown_drivers_keep_their_code() -> None:
    item = alert_item(current=None, expected=None, gap=None, milestone_due=None, drivers=[
        {"indicator_id": "OLD_INDICATOR", "score": None, "weight": 1.0, "pull": 0.5},
    ])  # fmt: skip
    row = details.alert_row(item, FRAMEWORK, ID)
    assert row.figures == ()
    assert row.drivers == (DriverRow("OLD_INDICATOR", "belum ada data", "+0,50"),)
    assert row.remedy == ""  # no gap: nothing to raise


def stale_item(**changes: Any) -> dict[str, Any]:
    """Kota Bandung's governance data fell to 30% of the weight; the framework asks for 50%."""
    return alert_item(**{
        "alert_id": "al-3273-governance-stale", "kind": "data_stale", "target": "governance", "severity": "warning",
        "current": 0.3, "expected": 0.5, "gap": 0.2, "milestone_due": None, "drivers": [],
        "summary": "governance: coverage 30% is below the minimum 50%", **changes,
    })  # fmt: skip


def test_a_data_stale_alert_gives_the_minimum_coverage_as_a_percent_and_no_gap() -> None:
    row = details.alert_row(stale_item(), FRAMEWORK, ID)
    assert row.headline == "Data kedaluwarsa: tata kelola"
    figures = dict(row.figures)
    assert figures["Cakupan data minimum"] == "50%"
    assert "Selisih terhadap jalur (poin)" not in figures
    assert "Jalur masterplan hari ini" not in figures
    assert "+0,20" not in figures.values()
    assert row.remedy == ("Pulihkan pengiriman data tata kelola: cakupan data harus kembali mencapai sedikitnya 50% "
                          "dari bobot indikator.")  # fmt: skip
    en = details.alert_row(stale_item(), FRAMEWORK, EN)
    assert dict(en.figures)["Minimum data coverage"] == "50%"
    assert en.remedy == ("Restore the Smart Governance data feeds: data coverage must reach at least 50% of the "
                         "indicator weight again.")  # fmt: skip


def test_a_data_stale_alerts_current_figure_is_its_coverage_in_percent() -> None:
    # The alerts service sends the target's coverage as ``current`` of a data_stale alert
    # (services/alerts/domain/rules.py, observe(): current=coverage); the notifications show it as
    # "Cakupan data saat ini: 30%". The page must not call 0.30 "the score (0-5)".
    row = details.alert_row(stale_item(), FRAMEWORK, ID)
    assert "30%" in dict(row.figures).values()
    assert all("(0-5)" not in label for label, _ in row.figures)


def test_alert_rows_put_the_worst_first_then_order_by_region_code() -> None:
    items = [
        alert_item(alert_id="a-info", severity="info", region=REGIONS["11.01"]),
        alert_item(alert_id="a-crit-papua", severity="critical", region=REGIONS["91.71"]),
        alert_item(alert_id="b-warn-bandung", severity="warning"),
        alert_item(alert_id="a-crit-kab-bandung", severity="critical", region=REGIONS["32.04"]),
        alert_item(alert_id="a-warn-bandung", severity="warning"),
        alert_item(alert_id="a-warn-denpasar", severity="warning", region=REGIONS["51.71"]),
    ]
    rows = details.alert_rows(items, FRAMEWORK, ID)
    assert [r.alert_id for r in rows] == ["a-crit-kab-bandung", "a-crit-papua", "a-warn-bandung", "b-warn-bandung",
                                          "a-warn-denpasar", "a-info"]  # fmt: skip
    assert [r.severity_text for r in rows] == ["kritis", "kritis", "waspada", "waspada", "waspada", "informasi"]


def test_open_alerts_drop_resolved_and_pending_ones() -> None:
    items = [
        alert_item(alert_id="resolved", state="resolved", severity="critical"),
        alert_item(alert_id="firing", state="firing", severity="info"),
        alert_item(alert_id="pending", state="pending", fired_at=None, severity="critical"),
        alert_item(alert_id="acked", state="acknowledged", severity="warning"),
    ]
    assert [r.alert_id for r in details.open_alerts(items, FRAMEWORK, ID)] == ["acked", "firing"]
    assert details.open_alerts([], FRAMEWORK, ID) == ()


# ------------------------------------------------------------------------------------- transitions


def transition(**changes: Any) -> dict[str, Any]:
    t: dict[str, Any] = {
        "transition_id": "tr-1", "alert_id": "al-3273-economy-behind", "kind": "behind_trajectory",
        "target": "economy", "state": "firing", "severity": "critical", "escalation": "province",
        "at": "2026-12-01T08:00:00Z", "current": 2.1, "expected": 3.0, "gap": 0.9, "milestone_due": "2027-06-30",
        "summary": "economy: 2.10 is 0.90 below the path (3.00 expected today)", "drivers": [], "remedy": "",
    }  # fmt: skip
    t.update(changes)
    TransitionBody.model_validate(t)
    return t


def test_a_transition_row_in_both_languages() -> None:
    assert details.transition_row(transition(), "32.73", ID) == details.TransitionRow(
        "1 Desember 2026 pukul 15.00 WIB", "aktif", "kritis", "pemerintah provinsi"
    )
    assert details.transition_row(transition(state="resolved", severity="info", escalation="national"), "32.73",
                                  EN) == details.TransitionRow("1 December 2026 at 15:00 WIB", "resolved", "info",
                                                               "national operations")  # fmt: skip


def test_a_transition_is_timed_in_the_zone_of_the_region_and_may_have_no_addressee() -> None:
    row = details.transition_row(transition(escalation="", at="2026-12-31T16:30:00Z"), "91.71", ID)
    # 16:30 UTC + 9 = 01:30 WIT on New Year's Day.
    assert row.at_text == "1 Januari 2027 pukul 01.30 WIT"
    assert row.escalation_text == ""
    assert details.transition_row(transition(), "73.71", ID).at_text == "1 Desember 2026 pukul 16.00 WITA"


# ---------------------------------------------------------------------------- the worker's live state


def live_state(acked: bool = False, level: str = "region", following: dict[str, str] | None = None,
               fired_at: str | None = "2026-12-01T08:00:00+00:00") -> dict[str, Any]:  # fmt: skip
    event = AlertEvent(
        alert_id="al-3273-economy-behind", transition_id="tr-2", region_code="32.73", province_code="32",
        kind="behind_trajectory", target="economy", state="firing", severity="warning",
        at=dt.datetime(2026, 12, 2, 3, 15, tzinfo=UTC), current=2.58, expected=3.0, gap=0.42,
        milestone_due=dt.date(2027, 6, 30), escalation=level,
        drivers=[Driver(indicator_id="P0", score=1.2, weight=1.0, pull=0.8)],
        remedy="Raise economy by 0.42 points to return to the masterplan path",
        summary="economy: 2.58 is 0.42 below the path (3.00 expected today)",
    )  # fmt: skip
    return {"alert": event.model_dump(mode="json"), "region": "32.73", "level": level, "acked": acked,
            "fired_at": fired_at, "next_escalation": following}  # fmt: skip


def test_a_live_state_reads_as_an_alert_item_of_the_history() -> None:
    item = details.live_item(live_state(), BANDUNG)
    AlertItem.model_validate(item)
    assert item["region"] == BANDUNG
    assert (item["acknowledged"], item["fired_at"]) == (False, "2026-12-01T08:00:00+00:00")
    row = details.alert_row(item, FRAMEWORK, ID)
    assert row.fired_text == "1 Desember 2026 pukul 15.00 WIB"
    assert (row.region_name, row.acknowledged, row.open) == ("Kota Bandung", False, True)
    assert row.figures[2] == ("Selisih terhadap jalur (poin)", "+0,42")
    assert row.drivers == (DriverRow("Persentase Penduduk Miskin", "1,20", "+0,80"),)


def test_a_live_state_acknowledged_and_without_its_firing_time() -> None:
    item = details.live_item(live_state(acked=True, fired_at=None), BANDUNG)
    assert item["acknowledged"] is True
    assert item["fired_at"] == "2026-12-02T03:15:00Z"  # the event's own time
    row = details.alert_row(item, FRAMEWORK, ID)
    assert row.acknowledged is True
    assert row.fired_text == "2 Desember 2026 pukul 10.15 WIB"


def test_escalation_text_now_and_next() -> None:
    # 2026-12-01 20:00 UTC + 7 = 2 December 03:00 WIB.
    state = live_state(following={"level": "province", "at": "2026-12-01T20:00:00+00:00"})
    assert details.escalation_text(state, "32", ID) == (
        "Ditujukan ke kantor daerah; belum dieskalasikan.",
        "Bila tidak diakui, peringatan ini dieskalasikan ke pemerintah provinsi pada 2 Desember 2026 pukul 03.00 WIB.",
    )
    assert details.escalation_text(state, "32", EN) == (
        "Addressed to the regional office; not escalated.",
        "If nobody acknowledges it, this alert escalates to the province at 2 December 2026 at 03:00 WIB.",
    )
    # The same moment in Papua: 05:00 WIT.
    assert details.escalation_text(state, "91", ID)[1].endswith("pada 2 Desember 2026 pukul 05.00 WIT.")


def test_escalation_text_at_the_last_level_and_once_acknowledged() -> None:
    national = live_state(level="national")
    assert details.escalation_text(national, "32", ID) == ("Belum diakui: telah dieskalasikan ke operasi nasional.",
                                                           "")  # fmt: skip
    province = live_state(level="province", following={"level": "national", "at": "2026-12-02T08:00:00+00:00"})
    now, following = details.escalation_text(province, "32", EN)
    assert now == "Not acknowledged: escalated to the province."
    assert following == (
        "If nobody acknowledges it, this alert escalates to national operations at 2 December 2026 at 15:00 WIB."
    )
    acked = live_state(acked=True, following={"level": "province", "at": "2026-12-01T20:00:00+00:00"})
    assert details.escalation_text(acked, "32", ID) == (
        "Peringatan ini telah diakui; eskalasi dihentikan. Peringatan tetap aktif sampai kondisinya pulih.",
        "",
    )


# ------------------------------------------------------------------------------- app.py's helpers


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Kota Bandung", "kota-bandung"),
        ("Kabupaten Bandung Barat", "kabupaten-bandung-barat"),
        ("Kabupaten Toli-Toli", "kabupaten-toli-toli"),
        ("Kabupaten Kep. Siau Tagulandang Biaro", "kabupaten-kep-siau-tagulandang-biaro"),
        ("  KOTA   Bañjar ", "kota-banjar"),
        ("kota-bandung", "kota-bandung"),  # a slug is its own slug: /wilayah/kota-bandung finds it
    ],
)
def test_slug(name: str, expected: str) -> None:
    assert slug(name) == expected


def test_every_region_of_the_registry_has_its_own_slug() -> None:
    registry = default_registry()
    slugs = {slug(r.name) for r in registry.regions.values()}
    assert len(slugs) == len(registry) == 514


def test_region_ref_is_the_history_apis_region() -> None:
    ref = region_ref(default_registry(), "32.73")
    assert ref == BANDUNG
    RegionRef.model_validate(ref)
    assert region_ref(default_registry(), "91.71")["province_name"] == "Papua"
    with pytest.raises(KeyError):
        region_ref(default_registry(), "99.99")


def test_switch_url_keeps_the_pages_query_and_flips_the_language() -> None:
    r = request(b"q=a&lang=id")
    assert switch_url(r, "id") == "/x?q=a&lang=en"
    assert switch_url(r, "en") == "/x?q=a&lang=id"
    assert switch_url(request(), "id") == "/x?lang=en"
    assert switch_url(request(b"lang=en&q=a"), "en") == "/x?q=a&lang=id"  # the language goes last
    assert switch_url(request(b"x=evil&q=a&_=1"), "id") == "/x?q=a&lang=en"  # what the pages do not read is dropped
    assert switch_url(request(b"token=abc.def"), "id") == "/x?token=abc.def&lang=en"  # an ack link keeps its token
    assert switch_url(request(b"q=kota+bandung&province=32", path="/provinsi/32"), "en") == (
        "/provinsi/32?q=kota+bandung&province=32&lang=id"
    )


@pytest.mark.parametrize(
    ("query", "cookie", "expected"),
    [
        (b"lang=en", None, "en"),
        (b"", b"lang=en", "en"),
        (b"lang=id", b"lang=en", "id"),  # the link beats the cookie
        (b"lang=fr", b"lang=en", "en"),  # an unknown language falls back to the cookie
        (b"lang=fr", b"lang=de", "id"),  # ... and then to the default
        (b"", None, "id"),
    ],
)
def test_chosen_language(query: bytes, cookie: bytes | None, expected: str) -> None:
    headers = [(b"cookie", cookie)] if cookie else []
    assert chosen_language(request(query, headers), "id") == expected


def test_chosen_language_default_is_the_sites() -> None:
    assert chosen_language(request(), "en") == "en"


def test_ranking_filter_reads_the_query() -> None:
    assert ranking_filter(request(b"province=32&type=kota&level=4&q=bandung")) == RankingFilter("32", "kota", 4,
                                                                                                "bandung")  # fmt: skip
    assert ranking_filter(request(b"province=&type=&level=&q=")) == RankingFilter(None, None, None, "")
    assert ranking_filter(request()) == RankingFilter()
    assert ranking_filter(request(b"q=" + b"a" * 150)).query == "a" * 100


@pytest.mark.parametrize(
    ("field", "value"),
    [("province", "3"), ("province", "32.73"), ("type", "desa"), ("level", "6"), ("level", "0"), ("level", "x")],
)
def test_ranking_filter_refuses_a_value_it_does_not_know(field: str, value: str) -> None:
    with pytest.raises(PageError) as caught:
        ranking_filter(request(f"{field}={value}".encode()))
    err = caught.value
    assert (err.status, err.key, err.values) == (400, "error.bad_value", {"field": field, "value": value})
    assert ID(err.key, **err.values) == f"Nilai '{value}' pada '{field}' tidak dikenal."


def test_a_long_bad_value_is_cut_to_forty_characters() -> None:
    with pytest.raises(PageError) as caught:
        ranking_filter(request(b"type=" + b"x" * 100))
    assert caught.value.values["value"] == "x" * 40


def test_chosen_measure() -> None:
    assert chosen_measure(request()) == "index"
    assert chosen_measure(request(b"measure=")) == "index"
    assert [chosen_measure(request(f"measure={m}".encode())) for m in ("level", "gap", "coverage")] == [
        "level", "gap", "coverage"]  # fmt: skip
    with pytest.raises(PageError) as caught:
        chosen_measure(request(b"measure=colour"))
    err = caught.value
    assert (err.status, err.key, err.values) == (400, "error.bad_value", {"field": "measure", "value": "colour"})


VIEWERS = {"bappeda": "rahasia:123", "dinkes": "sehat"}


def basic(credentials: bytes, scheme: bytes = b"Basic") -> Request:
    return request(headers=[(b"authorization", scheme + b" " + base64.b64encode(credentials))])


def test_admitted_with_a_known_name_and_its_password() -> None:
    assert _admitted(basic(b"bappeda:rahasia:123"), VIEWERS)  # a password may hold a colon
    assert _admitted(basic(b"dinkes:sehat", b"basic"), VIEWERS)  # the scheme is case-insensitive
    assert _admitted(basic(b"dinkes:sehat", b"BASIC"), VIEWERS)


@pytest.mark.parametrize(
    "header",
    [
        b"Basic " + base64.b64encode(b"bappeda:rahasia"),  # wrong password
        b"Basic " + base64.b64encode(b"dinkes:rahasia:123"),  # another viewer's password
        b"Basic " + base64.b64encode(b"tamu:sehat"),  # unknown name
        b"Basic " + base64.b64encode(b"dinkes"),  # no password at all
        b"Bearer " + base64.b64encode(b"dinkes:sehat"),
        b"Basic !!not-base64!!",
        b"Basic " + base64.b64encode(b"dinkes:\xff\xfe"),  # not UTF-8
        b"",
    ],
)
def test_not_admitted(header: bytes) -> None:
    headers = [(b"authorization", header)] if header else []
    assert not _admitted(request(headers=headers), VIEWERS)


def test_nobody_is_admitted_without_viewers() -> None:
    assert not _admitted(basic(b":"), {})


def test_date() -> None:
    assert _date(None, "on") is None
    assert _date("", "on") is None
    assert _date("2026-01-31", "on") == dt.date(2026, 1, 31)
    with pytest.raises(PageError) as caught:
        _date("2026-02-30", "from")
    err = caught.value
    assert (err.status, err.key, err.values) == (400, "error.bad_date", {"field": "from", "value": "2026-02-30"})
    assert EN(err.key, **err.values) == (
        "The date '2026-02-30' in 'from' is not valid: write it as YYYY-MM-DD, e.g. 2026-01-31."
    )
    with pytest.raises(PageError) as long:
        _date("31/01/2026" + "9" * 60, "to")
    assert long.value.values["value"] == ("31/01/2026" + "9" * 60)[:40]


def test_a_missed_milestones_target_is_named_as_the_milestones_not_as_the_path() -> None:
    """make run showed "Nilai jalur rencana induk" beside a passed milestone's target; the email says what it is."""
    item = {
        "alert_id": "m1", "region": {"code": "52.06", "name": "Kabupaten Bima", "type": "kabupaten",
                                     "province_code": "52", "province_name": "Nusa Tenggara Barat"},
        "kind": "milestone_missed", "target": "economy", "state": "firing", "severity": "critical",
        "escalation": "region", "acknowledged": False, "fired_at": "2026-12-02T07:25:00+00:00",
        "at": "2026-12-02T07:25:00+00:00", "current": 1.59, "expected": 2.3, "gap": 0.71,
        "milestone_due": "2025-12-31", "summary": "", "drivers": [], "remedy": "",
    }  # fmt: skip
    row = details.alert_row(item, FRAMEWORK, ID)
    assert row.figures[1] == ("Target tonggak 31 Desember 2025 (telah lewat)", "2,30")
    assert row.figures[2] == ("Selisih terhadap target tonggak (poin)", "+0,71")
    row = details.alert_row({**item, "kind": "score_drop", "milestone_due": None}, FRAMEWORK, EN)
    assert row.figures[1] == ("Highest score within the drop window", "2.30")
    assert row.figures[2] == ("Fall (points)", "0.71")
