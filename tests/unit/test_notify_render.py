"""Email rendering in both languages: the figures a regional head needs, written out by hand here."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.regions import default_registry
from services.alerts.notify.alertmanager import alertname
from services.alerts.notify.render import EmailRenderer, alert_facts, describe, moment, number
from tests.notify_support import a_notification, an_alert_event

NAMES = {"GOV_UPTIME": "Availability of online public services"}


@pytest.fixture(scope="module")
def renderer() -> EmailRenderer:
    return EmailRenderer(default_registry(), NAMES)


def test_bahasa_indonesia_by_default_with_the_figures(renderer: EmailRenderer) -> None:
    email = renderer.render(a_notification(), lang="id", office="Kantor Wali Kota Bandung", chart_cid="c1@x")
    assert email.subject == "[Pantau] AKTIF kritis: Kota Bandung - tertinggal dari jalur (tata kelola)"
    lines = email.text.splitlines()
    for line in [
        "Kepada Kantor Wali Kota Bandung,",
        "Skor tata kelola berada di bawah jalur masterplan.",
        "Wilayah: Kota Bandung (32.73), Provinsi Jawa Barat",
        "Status: aktif sejak 27 November 2026 15.00 WIB",  # 08:00 UTC is 15:00 in Bandung
        "Tingkat: kritis",
        "Skor saat ini: 2,80",
        "Skor seharusnya: 3,20 (menurut jalur masterplan)",
        "Selisih: 0,40 poin di bawah jalur",
        "Tonggak berikutnya: 31 Desember 2026",
        "  - Availability of online public services (GOV_UPTIME): skor 1,25, bobot 2; +0,35 poin bila mencapai 5",
        "  - GOV_OPEN_DATA: skor tidak tersedia, bobot 1; +0,20 poin bila mencapai 5",
        # The remedy in the reader's language, from the figures: gap 0.40, drivers' pulls 0.35 and 0.20.
        "  Naikkan skor tata kelola sebesar 0,40 poin untuk kembali ke jalur masterplan. Pengungkit terbesar: "
        "Availability of online public services (+0,35 poin bila mencapai 5); GOV_OPEN_DATA (+0,20 poin bila "
        "mencapai 5).",
        "  http://127.0.0.1:6067/ack/32.73%3Agovernance?token=abc.def",
    ]:
        assert line in lines, line
    assert "<td>2,80</td>" in email.html
    assert "<td>0,40 poin di bawah jalur</td>" in email.html
    assert 'src="cid:c1@x"' in email.html
    assert 'href="http://127.0.0.1:6067/ack/32.73%3Agovernance?token=abc.def"' in email.html
    assert email.chart_png is not None and email.chart_png.startswith(b"\x89PNG\r\n\x1a\n")


def test_english_when_the_office_asks(renderer: EmailRenderer) -> None:
    email = renderer.render(a_notification(level="national"), lang="en", office="National operations")
    assert email.subject == (
        "[Pantau][national escalation] FIRING critical: Kota Bandung - behind trajectory (governance)"
    )
    lines = email.text.splitlines()
    for line in [
        "To National operations,",
        "The governance score is below the masterplan path.",
        "The regional office has not acknowledged this alert; it is escalated to national operations.",
        "Region: Kota Bandung (32.73), Province Jawa Barat",
        "State: firing since 27 November 2026 15:00 WIB",
        "Current score: 2.80",
        "Expected score: 3.20 (on the masterplan path)",
        "Gap: 0.40 points behind the path",
        "Next milestone: 31 December 2026",
        "  - Availability of online public services (GOV_UPTIME): score 1.25, weight 2; +0.35 points at full marks",
        "  Raise the governance score by 0.40 points to return to the masterplan path. The largest levers: "
        "Availability of online public services (+0.35 points at full marks); GOV_OPEN_DATA (+0.20 points at "
        "full marks).",
    ]:
        assert line in lines, line
    assert "<td>3.20 (on the masterplan path)</td>" in email.html


def test_html_escapes_what_comes_from_data() -> None:
    # Indicator names come from the framework file; they reach the drivers and the remedy.
    renderer = EmailRenderer(default_registry(), {"GOV_UPTIME": "<script>x</script> & more"})
    email = renderer.render(a_notification(), lang="en")
    assert "&lt;script&gt;x&lt;/script&gt; &amp; more" in email.html
    assert "<script>" not in email.html
    assert "<script>x</script> & more" in email.text  # plain text is not HTML


def test_resolved_and_missing_figures(renderer: EmailRenderer) -> None:
    drop = an_alert_event(kind="score_drop", state="resolved", severity="warning", current=None, expected=None,
                          gap=None, milestone_due=None, drivers=[], remedy="")  # fmt: skip
    email = renderer.render(a_notification(alert=drop, history=[], path=[], ack_url=None), lang="id")
    assert email.subject == "[Pantau] SELESAI peringatan: Kota Bandung - skor turun tajam (tata kelola)"
    lines = email.text.splitlines()
    assert "Selesai: kondisi yang memicu peringatan ini (skor turun tajam, tata kelola) tidak berlaku lagi." in lines
    assert "Skor saat ini: tidak tersedia" in lines
    assert "Selisih: tidak tersedia" in lines
    assert email.chart_png is None and "cid:" not in email.html
    assert "Tanggapi" not in email.text


def test_data_stale_speaks_of_coverage(renderer: EmailRenderer) -> None:
    # data_stale carries coverage (a share of indicator weight) against the minimum, not scores.
    stale = an_alert_event(kind="data_stale", current=0.35, expected=0.6, gap=0.25, drivers=[])
    email = renderer.render(a_notification(alert=stale), lang="id")
    lines = email.text.splitlines()
    assert "Cakupan data saat ini: 35%" in lines
    assert "Cakupan minimum: 60%" in lines
    assert "Selisih: 25 poin persentase di bawah batas minimum" in lines
    assert "  Pulihkan aliran data tata kelola: cakupan data harus mencapai 60% dari bobot indikator." in lines
    assert "<td>60%</td>" in email.html
    english = alert_facts(stale, "en", default_registry())
    assert (english.current, english.expected, english.gap) == ("35%", "60%", "25 percentage points below the minimum")


def test_ahead_of_the_path_says_so() -> None:
    facts = alert_facts(an_alert_event(current=3.3, gap=-0.1), "en", default_registry())
    assert facts.gap == "0.10 points ahead of the path"


@pytest.mark.parametrize(
    ("province", "expected"),
    [("32", "27 November 2026 15:00 WIB"), ("64", "27 November 2026 16:00 WITA"), ("91", "27 November 2026 17:00 WIT")],
)
def test_times_are_in_the_regions_own_zone(province: str, expected: str) -> None:
    assert moment(datetime(2026, 11, 27, 8, 0, tzinfo=UTC), province, "en") == expected


def test_numbers_follow_the_language() -> None:
    assert (number(3.2, "id"), number(3.2, "en"), number(0.25, "id", 0)) == ("3,20", "3.20", "0,25")


def test_alertmanager_description_and_name() -> None:
    text = describe(alert_facts(an_alert_event(), "en", default_registry()), "en")
    assert text.startswith("Kota Bandung (Jawa Barat), governance: The governance score is below the masterplan path.")
    assert "Current score 2.80; Expected score 3.20; Gap 0.40 points behind the path." in text
    assert alertname("behind_trajectory") == "PantauBehindTrajectory"
