"""The alert page and its outcomes as a reader sees them: escalation state and times worked out by hand."""

from __future__ import annotations

import datetime as dt
import re

from schemas.alerts import EscalationLevel
from schemas.regions import default_registry
from services.alerts.notify.render import alert_facts
from services.alerts.pages import SECURITY_HEADERS, OpenAlert, Pages, language
from tests.notify_support import an_alert_event

PAGES = Pages(ack_ttl=dt.timedelta(days=7))
FIRED = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)  # 10.00 WIB, 12.00 WIT


def held(level: EscalationLevel = EscalationLevel.REGION, acked: bool = False, **alert: object) -> OpenAlert:
    return OpenAlert(an_alert_event(**alert), level, acked, FIRED.timestamp(), dt.timedelta(minutes=30))


def page(h: OpenAlert | None, lang: str = "id", token: str | None = "tok") -> str:
    facts = alert_facts(h.alert, language(lang), default_registry()) if h else None
    return PAGES.alert(language(lang), "a1", "32.73", facts, h, token=token, action="/ack/a1", switch="?lang=en")


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_page_says_who_has_it_and_when_it_escalates_next_in_local_time() -> None:
    # Fired 03:00 UTC; 30 min per level: the province hears of it at 03:30 UTC = 10.30 WIB (UTC+7).
    out = text(page(held()))
    assert "Ditujukan ke kantor daerah; belum dieskalasikan." in out
    assert "peringatan ini dieskalasikan ke pemerintah provinsi pada 1 Desember 2026 10.30 WIB." in out
    assert "Kota Bandung" in out and "Jawa Barat" in out


def test_at_the_province_level_the_next_step_is_national_at_twice_the_step() -> None:
    # Papua (91) is on WIT (UTC+9): 03:00 UTC + 2 x 30 min = 04:00 UTC = 13.00 WIT.
    out = text(page(held(EscalationLevel.PROVINCE, region_code="91.01", province_code="91")))
    assert "Belum diakui: telah dieskalasikan ke pemerintah provinsi." in out
    assert "dieskalasikan ke operasi nasional pada 1 Desember 2026 13.00 WIT." in out


def test_the_national_level_has_no_next_step_and_english_reads_english() -> None:
    out = text(page(held(EscalationLevel.NATIONAL), "en"))
    assert "Not acknowledged: escalated to national operations." in out
    assert "escalates to" not in out
    assert 'lang="en"' in page(held(), "en")


def test_the_button_is_a_post_form_with_the_token_and_only_when_it_can_act() -> None:
    html = page(held())
    form = re.search(r'<form method="post" action="/ack/a1" class="ack">(.*?)</form>', html, re.S)
    assert form is not None
    assert '<input type="hidden" name="token" value="tok">' in form[1]
    assert "Akui peringatan ini" in form[1]
    acked = page(held(acked=True))
    assert "<form" not in acked and "Peringatan ini telah diakui; eskalasi dihentikan." in text(acked)
    read_only = page(held(), token=None)
    assert "<form" not in read_only and "hanya untuk dibaca" in read_only


def test_a_worker_without_the_alert_still_offers_the_button() -> None:
    out = page(None)
    assert "<form" in out and "32.73" in out and "disimpan oleh layanan lain" in out


def test_no_inline_script_or_style_and_headers_for_a_strict_policy() -> None:
    html = page(held())
    assert "<script" not in html and "style=" not in html and "<style" not in html
    assert "default-src 'none'" in SECURITY_HEADERS["Content-Security-Policy"]
    assert SECURITY_HEADERS["Referrer-Policy"] == "no-referrer"  # the link's token never leaks as a Referer


def test_outcomes_name_what_happened() -> None:
    assert "berlaku 7 hari sejak peringatan" in PAGES.outcome("id", "bad.expired")
    assert "valid for 7 days from the alert" in PAGES.outcome("en", "bad.expired")
    ok = text(PAGES.outcome("id", "ok", back="/ack/a1?token=t", region="Kota Bandung", kind="k", target="t"))
    assert "Peringatan telah diakui" in ok and "Pengakuan tercatat untuk Kota Bandung: k (t)." in ok
    assert "sudah diakui sebelumnya" in PAGES.outcome("id", "again", region="r", kind="k", target="t")


def test_the_runbook_has_a_section_per_alert_kind_and_per_pipeline_alert() -> None:
    sections = PAGES.runbook_sections()
    kinds = {"behind_trajectory", "milestone_missed", "at_risk", "data_stale", "score_drop"}
    assert kinds <= sections
    assert {"pantauservicedown", "pantaunotificationfailures"} <= sections
    html = PAGES.runbook("id")
    assert '<h3 id="score_drop">score_drop</h3>' in html
