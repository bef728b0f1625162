"""What a regional head's office reads, kind by kind, in both languages: every line written out by hand.

The alert figures mean something else for each kind (services/alerts/domain/rules.py ``observe()``):
today's path value (behind_trajectory), the passed milestone's target (milestone_missed), the next
milestone's target (at_risk), the minimum coverage (data_stale), the highest score of the drop window
(score_drop). Kota Bandung is in WIB: 08:00 UTC is 15.00 there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from schemas.alerts import Driver
from schemas.framework import load_framework
from schemas.regions import default_registry
from services.alerts.notify import messages as m
from services.alerts.notify.alertmanager import alertname
from services.alerts.notify.catalogue import Catalogue
from services.alerts.notify.notifier import catalogue_of
from services.alerts.notify.render import EmailRenderer, Wording, moment, number, span
from tests.notify_support import AT, NATIONAL_PATH, a_notification, an_alert_event, framework_drivers

OFFICE = "Kantor Wali Kota Bandung"
CATALOGUE = Catalogue.from_framework(load_framework(None))
WORDING = Wording(default_registry(), CATALOGUE, drop_window=timedelta(days=7))
RENDERER = EmailRenderer(WORDING)


def email_lines(lang: str, renderer: EmailRenderer = RENDERER, **alert: Any) -> tuple[str, list[str]]:
    """(subject, plain-text lines) of the economy alert of Kota Bandung with ``alert``'s overrides."""
    fields: dict[str, Any] = {"target": "economy", "drivers": framework_drivers(), **alert}
    n = a_notification(alert=an_alert_event(**fields), path=NATIONAL_PATH)
    email = renderer.render(n, lang=lang, office=OFFICE)  # type: ignore[arg-type]
    return email.subject, email.text.splitlines()


def figure_lines(lines: list[str]) -> list[str]:
    """The block of figures: the lines between the severity line and the next blank line."""
    start = next(i for i, line in enumerate(lines) if line.startswith(("Tingkat keparahan:", "Severity:"))) + 2
    end = lines.index("", start)
    return lines[start:end]


# -- each kind, firing -----------------------------------------------------------------------------

BEHIND = {"kind": "behind_trajectory", "severity": "info", "current": 2.17, "expected": 2.57, "gap": 0.40,
          "milestone_due": date(2026, 12, 31)}  # fmt: skip
MISSED = {"kind": "milestone_missed", "severity": "warning", "current": 2.10, "expected": 2.30, "gap": 0.20,
          "milestone_due": date(2025, 12, 31)}  # fmt: skip
AT_RISK = {"kind": "at_risk", "severity": "info", "current": 2.40, "expected": 2.60, "gap": 0.30,
           "milestone_due": date(2026, 12, 31)}  # fmt: skip
STALE = {"kind": "data_stale", "severity": "warning", "current": 0.35, "expected": 0.5, "gap": 0.15,
         "milestone_due": None, "drivers": []}  # fmt: skip
DROP = {"kind": "score_drop", "severity": "critical", "current": 2.92, "expected": 3.95, "gap": 1.03,
        "milestone_due": None}  # fmt: skip

FIRING = [
    # behind_trajectory: the national path on 27 November 2026 is 2.3 + 0.3 x 331/365 = 2.57; the next
    # milestone (31 December 2026) asks 2.60.
    (BEHIND, "id", "[Pantau] AKTIF informasi: Kota Bandung - tertinggal dari jalur (ekonomi)",
     "Skor ekonomi berada di bawah jalur masterplan.",
     ["Skor saat ini: 2,17", "Jalur masterplan hari ini: 2,57", "Selisih: 0,40 poin di bawah jalur",
      "Tonggak berikutnya: 31 Desember 2026 (target 2,60)"]),
    (BEHIND, "en", "[Pantau] FIRING info: Kota Bandung - behind trajectory (economy)",
     "The economy score is below the masterplan path.",
     ["Current score: 2.17", "Masterplan path today: 2.57", "Gap: 0.40 points below the path",
      "Next milestone: 31 December 2026 (target 2.60)"]),
    # milestone_missed: the milestone is the one that passed (31 December 2025, target 2.30); no "next".
    (MISSED, "id", "[Pantau] AKTIF waspada: Kota Bandung - tonggak capaian terlewat (ekonomi)",
     "Tonggak capaian 31 Desember 2025 telah lewat dan target ekonomi belum tercapai.",
     ["Skor saat ini: 2,10", "Target tonggak 31 Desember 2025 (telah lewat): 2,30",
      "Selisih: 0,20 poin di bawah target tonggak"]),
    (MISSED, "en", "[Pantau] FIRING warning: Kota Bandung - milestone missed (economy)",
     "The milestone due 31 December 2025 has passed without economy meeting its target.",
     ["Current score: 2.10", "Target of the 31 December 2025 milestone (passed): 2.30",
      "Gap: 0.20 points below the milestone target"]),
    # at_risk: expected is the next milestone's target, gap the projected shortfall: 2.60 - 0.30 = 2.30.
    (AT_RISK, "id", "[Pantau] AKTIF informasi: Kota Bandung - berisiko meleset dari tonggak (ekonomi)",
     "Tren skor ekonomi memproyeksikan target tonggak 31 Desember 2026 tidak tercapai.",
     ["Skor saat ini: 2,40", "Target tonggak 31 Desember 2026: 2,60", "Proyeksi tren pada 31 Desember 2026: 2,30",
      "Selisih proyeksi: 0,30 poin di bawah target tonggak"]),
    (AT_RISK, "en", "[Pantau] FIRING info: Kota Bandung - at risk of missing a milestone (economy)",
     "The economy trend projects a miss of the milestone due 31 December 2026.",
     ["Current score: 2.40", "Target of the 31 December 2026 milestone: 2.60",
      "Trend projection for 31 December 2026: 2.30", "Projected gap: 0.30 points below the milestone target"]),
    # data_stale: coverage (a share of indicator weight) against the framework's minimum, in percent.
    (STALE, "id", "[Pantau] AKTIF waspada: Kota Bandung - data kedaluwarsa (ekonomi)",
     "Cakupan data ekonomi di bawah batas minimum: skornya tidak dapat diandalkan.",
     ["Cakupan data saat ini: 35%", "Cakupan data minimum: 50%",
      "Selisih: 15 poin persentase di bawah batas minimum"]),
    (STALE, "en", "[Pantau] FIRING warning: Kota Bandung - data stale (economy)",
     "Data coverage of economy is below the minimum: its score cannot be relied on.",
     ["Current data coverage: 35%", "Minimum data coverage: 50%", "Gap: 15 percentage points below the minimum"]),
    # score_drop: expected is the highest score of the last 7 days, gap the fall from it; no path, no milestone.
    (DROP, "id", "[Pantau] AKTIF kritis: Kota Bandung - skor turun tajam (ekonomi)",
     "Skor ekonomi turun tajam dalam 7 hari terakhir.",
     ["Skor saat ini: 2,92", "Skor tertinggi 7 hari terakhir: 3,95", "Penurunan: 1,03 poin dari skor tertinggi"]),
    (DROP, "en", "[Pantau] FIRING critical: Kota Bandung - score drop (economy)",
     "The economy score dropped sharply within the last 7 days.",
     ["Current score: 2.92", "Highest score in the last 7 days: 3.95", "Drop: 1.03 points from the highest score"]),
]  # fmt: skip


@pytest.mark.parametrize(("alert", "lang", "subject", "headline", "figures"), FIRING)
def test_a_firing_alert_names_each_figure_for_its_kind(
    alert: dict[str, Any], lang: str, subject: str, headline: str, figures: list[str]
) -> None:
    got_subject, lines = email_lines(lang, **alert)
    assert got_subject == subject
    assert headline in lines
    assert figure_lines(lines) == figures


# -- each kind, resolved ---------------------------------------------------------------------------

RESOLVED = [
    ({**BEHIND, "current": 2.52, "gap": 0.05}, "id", "tertinggal dari jalur",
     ["Skor saat ini: 2,52", "Jalur masterplan hari ini: 2,57", "Selisih: 0,05 poin di bawah jalur",
      "Tonggak berikutnya: 31 Desember 2026 (target 2,60)"]),
    ({**BEHIND, "current": 2.62, "gap": -0.05}, "en", "behind trajectory",
     ["Current score: 2.62", "Masterplan path today: 2.57", "Gap: 0.05 points above the path",
      "Next milestone: 31 December 2026 (target 2.60)"]),
    ({**MISSED, "current": 2.31, "gap": -0.01}, "id", "tonggak capaian terlewat",
     ["Skor saat ini: 2,31", "Target tonggak 31 Desember 2025 (telah lewat): 2,30",
      "Selisih: 0,01 poin di atas target tonggak"]),
    ({**MISSED, "current": 2.31, "gap": -0.01}, "en", "milestone missed",
     ["Current score: 2.31", "Target of the 31 December 2025 milestone (passed): 2.30",
      "Gap: 0.01 points above the milestone target"]),
    ({**AT_RISK, "current": 2.50, "gap": 0.08}, "id", "berisiko meleset dari tonggak",
     ["Skor saat ini: 2,50", "Target tonggak 31 Desember 2026: 2,60", "Proyeksi tren pada 31 Desember 2026: 2,52",
      "Selisih proyeksi: 0,08 poin di bawah target tonggak"]),
    ({**AT_RISK, "current": 2.50, "gap": 0.08}, "en", "at risk of missing a milestone",
     ["Current score: 2.50", "Target of the 31 December 2026 milestone: 2.60",
      "Trend projection for 31 December 2026: 2.52", "Projected gap: 0.08 points below the milestone target"]),
    ({**STALE, "current": 0.58, "gap": -0.08}, "id", "data kedaluwarsa",
     ["Cakupan data saat ini: 58%", "Cakupan data minimum: 50%", "Selisih: 8 poin persentase di atas batas minimum"]),
    ({**STALE, "current": 0.58, "gap": -0.08}, "en", "data stale",
     ["Current data coverage: 58%", "Minimum data coverage: 50%", "Gap: 8 percentage points above the minimum"]),
    ({**DROP, "current": 3.80, "gap": 0.15}, "id", "skor turun tajam",
     ["Skor saat ini: 3,80", "Skor tertinggi 7 hari terakhir: 3,95", "Penurunan: 0,15 poin dari skor tertinggi"]),
    ({**DROP, "current": 3.98, "gap": -0.03}, "en", "score drop",
     ["Current score: 3.98", "Highest score in the last 7 days: 3.95", "Gap: 0.03 points above the highest score"]),
]  # fmt: skip


@pytest.mark.parametrize(("alert", "lang", "kind", "figures"), RESOLVED)
def test_a_resolved_alert_says_so_with_the_figures_it_resolved_at(
    alert: dict[str, Any], lang: str, kind: str, figures: list[str]
) -> None:
    subject, lines = email_lines(lang, state="resolved", remedy="", **alert)
    if lang == "id":
        assert subject == f"[Pantau] SELESAI: Kota Bandung - {kind} (ekonomi)"
        assert f"Selesai: kondisi yang memicu peringatan ini ({kind}, ekonomi) tidak berlaku lagi." in lines
        assert "Status: selesai sejak 27 November 2026 15.00 WIB" in lines
    else:
        assert subject == f"[Pantau] RESOLVED: Kota Bandung - {kind} (economy)"
        assert f"Resolved: the condition that raised this alert ({kind}, economy) no longer holds." in lines
        assert "State: resolved since 27 November 2026 15:00 WIB" in lines
    assert figure_lines(lines) == figures
    # Nothing left to do: no drivers, no remedy.
    assert not [line for line in lines if line.startswith(("  - ", "Indikator", "Indicators", "Yang perlu", "What it"))]


# -- acknowledged, severity changes ---------------------------------------------------------------


def test_an_acknowledged_alert() -> None:
    subject, lines = email_lines("id", state="acknowledged", **BEHIND)
    assert subject == "[Pantau] DIAKUI informasi: Kota Bandung - tertinggal dari jalur (ekonomi)"
    assert "Peringatan ini (tertinggal dari jalur, ekonomi) telah diakui; eskalasi dihentikan." in lines
    assert "Status: diakui sejak 27 November 2026 15.00 WIB" in lines
    subject, lines = email_lines("en", state="acknowledged", **BEHIND)
    assert subject == "[Pantau] ACKNOWLEDGED info: Kota Bandung - behind trajectory (economy)"
    assert "This alert (behind trajectory, economy) has been acknowledged; escalation has stopped." in lines


def test_a_severity_raised_while_firing_is_said_in_subject_and_headline() -> None:
    raised = {**BEHIND, "severity": "critical", "previous_severity": "warning", "current": 1.47, "gap": 1.10}
    subject, lines = email_lines("id", **raised)
    assert subject == "[Pantau] AKTIF kritis (naik dari waspada): Kota Bandung - tertinggal dari jalur (ekonomi)"
    assert "Tingkat keparahan naik dari waspada ke kritis. Skor ekonomi berada di bawah jalur masterplan." in lines
    assert "Tingkat keparahan: kritis (naik dari waspada)" in lines
    assert "Status: aktif per 27 November 2026 15.00 WIB" in lines  # as of the change, not since
    assert "Selisih: 1,10 poin di bawah jalur" in lines
    subject, lines = email_lines("en", **raised)
    assert subject == "[Pantau] FIRING critical (raised from warning): Kota Bandung - behind trajectory (economy)"
    assert "Severity raised from warning to critical. The economy score is below the masterplan path." in lines
    assert "State: firing as of 27 November 2026 15:00 WIB" in lines


def test_a_severity_lowered_while_firing() -> None:
    lowered = {**DROP, "severity": "info", "previous_severity": "critical", "current": 3.55, "gap": 0.40}
    subject, lines = email_lines("id", **lowered)
    assert subject == "[Pantau] AKTIF informasi (turun dari kritis): Kota Bandung - skor turun tajam (ekonomi)"
    assert "Tingkat keparahan turun dari kritis ke informasi. Skor ekonomi turun tajam dalam 7 hari terakhir." in lines
    subject, lines = email_lines("en", **lowered)
    assert subject == "[Pantau] FIRING info (lowered from critical): Kota Bandung - score drop (economy)"
    assert "Severity lowered from critical to info. The economy score dropped sharply within the last 7 days." in lines


def test_previous_severity_on_a_resolve_is_no_change() -> None:
    subject, lines = email_lines("en", state="resolved", previous_severity="warning", **DROP)
    assert subject == "[Pantau] RESOLVED: Kota Bandung - score drop (economy)"
    assert "Severity: critical" in lines
    assert not [line for line in lines if "from warning" in line]


# -- what each figure can and cannot say ----------------------------------------------------------


def test_score_drop_without_the_window_does_not_invent_one() -> None:
    renderer = EmailRenderer(Wording(default_registry(), CATALOGUE))  # the window was not passed in
    _, lines = email_lines("id", renderer, **DROP)
    assert "Skor ekonomi turun tajam." in lines
    assert "Skor tertinggi dalam jendela penurunan: 3,95" in lines
    _, lines = email_lines("en", renderer, **DROP)
    assert "Highest score within the drop window: 3.95" in lines


def test_the_drop_window_of_the_demo_in_minutes() -> None:
    renderer = EmailRenderer(Wording(default_registry(), CATALOGUE, drop_window=timedelta(minutes=5)))
    _, lines = email_lines("id", renderer, **DROP)
    assert "Skor tertinggi 5 menit terakhir: 3,95" in lines
    assert (span(timedelta(days=1), "en"), span(timedelta(hours=36), "en"), span(timedelta(seconds=90), "id")) == (
        "1 day", "36 hours", "90 detik")  # fmt: skip


def test_a_milestone_that_has_passed_is_never_the_next_one() -> None:
    # A behind_trajectory notification re-sent on the milestone's own day: no "next milestone" line.
    _, lines = email_lines("id", **{**BEHIND, "milestone_due": date(2026, 11, 27)})
    assert not [line for line in lines if line.startswith("Tonggak berikutnya")]


def test_the_next_milestone_without_the_path_gives_its_date() -> None:
    facts = WORDING.facts(an_alert_event(**BEHIND), "en")  # Alertmanager's refresh has no path
    assert [f.text for f in facts.figures if f.key == "next_milestone"] == ["31 December 2026"]


# -- drivers and the remedy by name, in the reader's language -------------------------------------


def test_drivers_and_levers_by_the_frameworks_names_and_units() -> None:
    _, lines = email_lines("id", **BEHIND)
    for line in [
        "Indikator yang paling menurunkan skor:",
        "  - Laju pertumbuhan PDRB atas dasar harga konstan [persen]: skor 1,20 dari 5, bobot 1, menambah 0,31 poin "
        "pada skor ekonomi bila mencapai 5",
        "  - Persentase Penduduk Miskin [persen]: skor 2,00 dari 5, bobot 2, menambah 0,22 poin pada skor ekonomi bila "
        "mencapai 5",
        "Yang perlu dilakukan:",
        "  Naikkan skor ekonomi sebesar 0,40 poin untuk kembali ke jalur masterplan. Indikator dengan daya ungkit "
        "terbesar: Laju pertumbuhan PDRB atas dasar harga konstan [persen] (+0,31 poin bila mencapai 5); Persentase "
        "Penduduk Miskin [persen] (+0,22 poin bila mencapai 5).",
    ]:
        assert line in lines, line
    _, lines = email_lines("en", **BEHIND)
    for line in [
        "Indicators that pull the score down most:",
        "  - Real GRDP growth rate [percent]: score 1.20 of 5, weight 1, would add 0.31 points to the economy score if "
        "it reached 5",
        "  - Poverty rate [percent]: score 2.00 of 5, weight 2, would add 0.22 points to the economy score if it "
        "reached 5",
        "  Raise the economy score by 0.40 points to return to the masterplan path. The indicators with the largest "
        "leverage: Real GRDP growth rate [percent] (+0.31 points if it reached 5); Poverty rate [percent] (+0.22 "
        "points if it reached 5).",
    ]:
        assert line in lines, line
    assert not [line for line in lines if "ECO_GRDP_GROWTH" in line or "P0" in line]


def test_an_indicator_the_framework_does_not_know_keeps_its_code() -> None:
    unknown = [Driver(indicator_id="XYZ_LOCAL", score=None, weight=1.0, pull=0.5)]
    _, lines = email_lines("id", **{**BEHIND, "drivers": unknown})
    assert "  - XYZ_LOCAL: skor tidak tersedia, bobot 1, menambah 0,50 poin pada skor ekonomi bila mencapai 5" in lines


def test_the_data_stale_remedy() -> None:
    _, lines = email_lines("id", **STALE)
    assert ("  Pulihkan pengiriman data ekonomi: cakupan data harus kembali mencapai sedikitnya 50% dari bobot "
            "indikator.") in lines  # fmt: skip


def test_units_in_the_readers_language() -> None:
    assert (CATALOGUE.unit("ENV_PM25", "id"), CATALOGUE.unit("ENV_PM25", "en")) == ("µg/m³", "µg/m³")
    assert CATALOGUE.unit("ECO_NEW_BUSINESS_PERMITS", "id") == "per 1.000 penduduk"
    assert CATALOGUE.label("GOV_SERVICE_UPTIME", "id") == "Ketersediaan layanan publik daring [persen]"
    assert Catalogue.from_names({"X": "Named"}).label("X", "id") == "Named"


def test_the_notifier_takes_the_framework_or_the_older_names() -> None:
    assert catalogue_of(load_framework(None), None).name("P0", "id") == "Persentase Penduduk Miskin"
    assert catalogue_of(CATALOGUE, None) is CATALOGUE
    assert catalogue_of(None, {"P0": "Poverty"}).name("P0", "id") == "Poverty"
    assert catalogue_of(None, None).name("P0", "en") == "P0"


def test_severity_words_never_say_alert() -> None:
    # "peringatan" is Indonesian for "alert": the severity bands have their own words.
    assert m.SEVERITIES["id"] == {"info": "informasi", "warning": "waspada", "critical": "kritis"}


# -- email parts ---------------------------------------------------------------------------------


def test_html_and_chart_of_the_email() -> None:
    n = a_notification(alert=an_alert_event(target="economy", **DROP), path=NATIONAL_PATH)
    email = RENDERER.render(n, lang="id", office=OFFICE, chart_cid="c1@x")
    assert '<tr><th align="left">Skor tertinggi 7 hari terakhir</th><td>3,95</td></tr>' in email.html
    assert '<tr><th align="left">Penurunan</th><td>1,03 poin dari skor tertinggi</td></tr>' in email.html
    assert 'src="cid:c1@x"' in email.html
    assert 'href="http://127.0.0.1:6067/ack/32.73%3Agovernance?token=abc.def"' in email.html
    assert email.chart_png is not None and email.chart_png.startswith(b"\x89PNG\r\n\x1a\n")
    assert email.text.splitlines()[0] == "Kepada Kantor Wali Kota Bandung,"


def test_an_escalated_email() -> None:
    n = a_notification(alert=an_alert_event(target="economy", **BEHIND), level="national", path=NATIONAL_PATH)
    email = RENDERER.render(n, lang="en", office="National operations")
    assert email.subject == "[Pantau][national escalation] FIRING info: Kota Bandung - behind trajectory (economy)"
    assert "The regional office has not acknowledged this alert; it is escalated to national operations." in (
        email.text.splitlines())  # fmt: skip


def test_html_escapes_what_comes_from_data() -> None:
    # Indicator names come from the framework file; they reach the drivers and the remedy.
    renderer = EmailRenderer(Wording(default_registry(), Catalogue.from_names({"P0": "<script>x</script> & more"})))
    email = renderer.render(a_notification(alert=an_alert_event(drivers=framework_drivers())), lang="en")
    assert "&lt;script&gt;x&lt;/script&gt; &amp; more" in email.html
    assert "<script>" not in email.html
    assert "<script>x</script> & more" in email.text  # plain text is not HTML


def test_missing_figures_and_no_history() -> None:
    drop = an_alert_event(kind="score_drop", state="resolved", severity="warning", current=None, expected=None,
                          gap=None, milestone_due=None, drivers=[], remedy="")  # fmt: skip
    email = RENDERER.render(a_notification(alert=drop, history=[], path=[], ack_url=None), lang="id")
    assert figure_lines(email.text.splitlines()) == [
        "Skor saat ini: tidak tersedia",
        "Skor tertinggi 7 hari terakhir: tidak tersedia",
        "Penurunan: tidak tersedia",
    ]
    assert email.chart_png is None and "cid:" not in email.html
    assert "Akui" not in email.text


# -- webhook and Alertmanager --------------------------------------------------------------------


def test_the_webhook_fields_in_the_offices_language() -> None:
    n = a_notification(alert=an_alert_event(target="economy", drivers=framework_drivers(), **DROP))
    fields = WORDING.webhook_fields(n, "id")
    assert fields == {
        "level": "region",
        "ack_url": n.ack_url,
        "card_url": None,
        "region_name": "Kota Bandung",
        "province_name": "Jawa Barat",
        "language": "id",
        "title": "AKTIF kritis: Kota Bandung - skor turun tajam (ekonomi)",
        "headline": "Skor ekonomi turun tajam dalam 7 hari terakhir.",
        "summary": "Kota Bandung - skor turun tajam (ekonomi), kritis. Skor saat ini: 2,92; Skor tertinggi 7 hari "
        "terakhir: 3,95.",
        "figures": [
            {"key": "current", "label": "Skor saat ini", "value": 2.92, "unit": "poin", "text": "2,92"},
            {"key": "expected", "label": "Skor tertinggi 7 hari terakhir", "value": 3.95, "unit": "poin",
             "text": "3,95"},
            {"key": "gap", "label": "Penurunan", "value": 1.03, "unit": "poin",
             "text": "1,03 poin dari skor tertinggi"},
        ],
        "drivers": [
            {"indicator_id": "ECO_GRDP_GROWTH", "score": 1.2, "weight": 1.0, "pull": 0.31,
             "name": "Laju pertumbuhan PDRB atas dasar harga konstan", "unit": "persen"},
            {"indicator_id": "P0", "score": 2.0, "weight": 2.0, "pull": 0.22, "name": "Persentase Penduduk Miskin",
             "unit": "persen"},
        ],
        "remedy": "Naikkan skor ekonomi sebesar 1,03 poin untuk memulihkan penurunan. Indikator dengan daya ungkit "
        "terbesar: Laju pertumbuhan PDRB atas dasar harga konstan [persen] (+0,31 poin bila mencapai 5); Persentase "
        "Penduduk Miskin [persen] (+0,22 poin bila mencapai 5).",
        "summary_en": "Kota Bandung - score drop (economy), critical. Current score: 2.92; Highest score in the last 7 "
        "days: 3.95.",
        "remedy_en": "Raise the economy score by 1.03 points to recover the fall. The indicators with the largest "
        "leverage: Real GRDP growth rate [percent] (+0.31 points if it reached 5); Poverty rate [percent] (+0.22 "
        "points if it reached 5).",
    }  # fmt: skip


def test_webhook_figures_of_coverage_and_of_the_next_milestone() -> None:
    stale = WORDING.webhook_fields(a_notification(alert=an_alert_event(target="economy", **STALE)), "en")
    assert stale["figures"] == [
        {"key": "current", "label": "Current data coverage", "value": 35.0, "unit": "%", "text": "35%"},
        {"key": "expected", "label": "Minimum data coverage", "value": 50.0, "unit": "%", "text": "50%"},
        {"key": "gap", "label": "Gap", "value": 15.0, "unit": "percentage points",
         "text": "15 percentage points below the minimum"},
    ]  # fmt: skip
    behind = WORDING.webhook_fields(a_notification(alert=an_alert_event(**BEHIND), path=NATIONAL_PATH), "id")
    assert behind["figures"][-1] == {"key": "next_milestone", "label": "Tonggak berikutnya", "value": "2026-12-31",
                                     "unit": None, "text": "31 Desember 2026 (target 2,60)"}  # fmt: skip


def test_alertmanager_description_in_each_language() -> None:
    alert = an_alert_event(target="economy", drivers=framework_drivers()[:1], **MISSED)
    assert WORDING.describe(WORDING.facts(alert, "id"), "id") == (
        "Kota Bandung (Jawa Barat), ekonomi: Tonggak capaian 31 Desember 2025 telah lewat dan target ekonomi belum "
        "tercapai. Skor saat ini: 2,10; Target tonggak 31 Desember 2025 (telah lewat): 2,30; Selisih: 0,20 poin di "
        "bawah target tonggak. Indikator yang paling menurunkan skor: Laju pertumbuhan PDRB atas dasar harga konstan "
        "[persen]: skor 1,20 dari 5, bobot 1, menambah 0,31 poin pada skor ekonomi bila mencapai 5. Yang perlu "
        "dilakukan: Naikkan skor ekonomi sebesar 0,20 poin untuk memenuhi target tonggak yang telah lewat. Indikator "
        "dengan daya ungkit terbesar: Laju pertumbuhan PDRB atas dasar harga konstan [persen] (+0,31 poin bila "
        "mencapai 5)."
    )
    facts = WORDING.facts(alert, "en")
    assert facts.summary == (
        "Kota Bandung - milestone missed (economy), warning. Current score: 2.10; Target of the 31 December 2025 "
        "milestone (passed): 2.30."
    )
    assert alertname("behind_trajectory") == "PantauBehindTrajectory"


# -- numbers and times ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("province", "expected"),
    [("32", "27 November 2026 15:00 WIB"), ("64", "27 November 2026 16:00 WITA"), ("91", "27 November 2026 17:00 WIT")],
)
def test_times_are_in_the_regions_own_zone(province: str, expected: str) -> None:
    assert moment(datetime(2026, 11, 27, 8, 0, tzinfo=UTC), province, "en") == expected


def test_numbers_follow_the_language() -> None:
    assert (number(3.2, "id"), number(3.2, "en"), number(0.25, "id", 0)) == ("3,20", "3.20", "0,25")
    assert AT.tzinfo is UTC


def test_the_email_links_to_the_regions_card_when_the_pages_are_known() -> None:
    """Issue 14: with ALERTS_PAGES_URL (make run: the web pages), the email names the card's link."""
    n = a_notification(card_url="http://127.0.0.1:8000/wilayah/32.73")
    email = RENDERER.render(n, lang="id", office=OFFICE, chart_cid="c1@x")
    assert (
        "Kartu wilayah ini di Pantau (skor, riwayat, indikator):\n  http://127.0.0.1:8000/wilayah/32.73" in email.text
    )
    assert '<a href="http://127.0.0.1:8000/wilayah/32.73">' in email.html
    assert "/wilayah/" not in RENDERER.render(a_notification(), lang="id", office=OFFICE).text
