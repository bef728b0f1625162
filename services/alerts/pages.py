"""The pages people open from a notification: the alert page (with its acknowledge button), the
outcome of pressing it, and the runbooks. Server-rendered HTML that works without JavaScript.

Pure apart from reading the templates: the web views (app.py) hand in what they know and send the
HTML back. Bahasa Indonesia first, English with ``?lang=en``. No inline script or style, so a strict
Content-Security-Policy (``SECURITY_HEADERS``) holds.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markdown_it import MarkdownIt

from schemas.alerts import AlertEvent, AlertState, EscalationLevel
from services.alerts.notify import messages as m
from services.alerts.notify.render import Facts, moment

Language = Literal["id", "en"]
HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
#: The operator runbook: deploy/prometheus/runbook.md in a checkout, the wheel's copy when installed (decision 0007).
RUNBOOK = next((p for p in (HERE / "runbook.md", HERE.parent.parent / "deploy" / "prometheus" / "runbook.md")
                if p.is_file()), HERE / "runbook.md")  # fmt: skip

#: Sent with every page. The acknowledge link carries its token in the URL: never as a Referer.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

WORDS: dict[str, dict[str, str]] = {
    "id": {
        "title": "Peringatan Pantau",
        "switch": "English",
        "escalation": "Eskalasi",
        "escalation.region": "Ditujukan ke kantor daerah; belum dieskalasikan.",
        "escalation.province": "Belum diakui: telah dieskalasikan ke pemerintah provinsi.",
        "escalation.national": "Belum diakui: telah dieskalasikan ke operasi nasional.",
        "escalation.next": "Bila tidak diakui, peringatan ini dieskalasikan ke {level} pada {at}.",
        "acked": "Peringatan ini telah diakui; eskalasi dihentikan.",
        "ack.button": "Akui peringatan ini",
        "ack.explain": "Dengan menekan tombol ini, kantor Anda menyatakan telah menerima peringatan ini; "
        "eskalasi ke tingkat berikutnya dihentikan. Peringatan tetap aktif sampai kondisinya pulih.",
        "readonly": "Halaman ini hanya untuk dibaca. Untuk mengakuinya, gunakan tautan dalam notifikasi.",
        "ok.title": "Peringatan telah diakui",
        "ok.body": "Pengakuan tercatat untuk {region}: {kind} ({target}). Eskalasi dihentikan.",
        "again.title": "Peringatan telah diakui",
        "again.body": "Peringatan ini sudah diakui sebelumnya; tidak ada yang berubah.",
        "forwarded.title": "Pengakuan diteruskan",
        "forwarded.body": "Pengakuan diteruskan ke layanan yang memegang wilayah {region}; "
        "eskalasi dihentikan begitu tercatat di sana.",
        "resolved.title": "Peringatan sudah selesai",
        "resolved.body": "Peringatan ini tidak aktif lagi (kondisinya telah pulih); tidak ada yang perlu diakui.",
        "bad.title": "Tautan tidak berlaku",
        "bad.expired": "Tautan pengakuan ini sudah kedaluwarsa (berlaku {ttl} sejak peringatan). "
        "Peringatan yang masih aktif dikirim ulang dengan tautan baru saat eskalasi.",
        "bad.invalid": "Tautan pengakuan ini tidak sah: tanda tangannya salah atau sudah diubah.",
        "bad.other": "Tautan pengakuan ini milik peringatan lain.",
        "notfound.title": "Halaman tidak ditemukan",
        "notfound.body": "Tidak ada halaman di alamat ini.",
        "alert.notheld": "Rincian peringatan ini disimpan oleh layanan lain yang sedang tidak dapat dihubungi; "
        "tombol di bawah tetap mencatat pengakuan Anda.",
        "back": "Kembali ke peringatan",
        "footer": "Pantau Kota Cerdas. Peringatan {alert_id}.",
        "runbooks": "Panduan penanganan",
    },
    "en": {
        "title": "Pantau alert",
        "switch": "Bahasa Indonesia",
        "escalation": "Escalation",
        "escalation.region": "Addressed to the regional office; not escalated.",
        "escalation.province": "Not acknowledged: escalated to the province.",
        "escalation.national": "Not acknowledged: escalated to national operations.",
        "escalation.next": "If nobody acknowledges it, this alert escalates to {level} at {at}.",
        "acked": "This alert has been acknowledged; escalation has stopped.",
        "ack.button": "Acknowledge this alert",
        "ack.explain": "Pressing this button records that your office has received this alert; escalation "
        "to the next level stops. The alert stays active until its condition clears.",
        "readonly": "This page is read-only. To acknowledge, use the link in the notification.",
        "ok.title": "Alert acknowledged",
        "ok.body": "Acknowledgement recorded for {region}: {kind} ({target}). Escalation has stopped.",
        "again.title": "Alert acknowledged",
        "again.body": "This alert had already been acknowledged; nothing changed.",
        "forwarded.title": "Acknowledgement forwarded",
        "forwarded.body": "The acknowledgement was forwarded to the service holding region {region}; "
        "escalation stops as soon as it is recorded there.",
        "resolved.title": "Alert already resolved",
        "resolved.body": "This alert is no longer active (its condition has cleared); there is nothing to acknowledge.",
        "bad.title": "Link not valid",
        "bad.expired": "This acknowledge link has expired (valid for {ttl} from the alert). An alert still "
        "active is sent again with a new link when it escalates.",
        "bad.invalid": "This acknowledge link is not valid: its signature is wrong or it was altered.",
        "bad.other": "This acknowledge link belongs to another alert.",
        "notfound.title": "Page not found",
        "notfound.body": "There is no page at this address.",
        "alert.notheld": "The details of this alert are kept by another service that cannot be reached now; "
        "the button below still records your acknowledgement.",
        "back": "Back to the alert",
        "footer": "Pantau Kota Cerdas. Alert {alert_id}.",
        "runbooks": "Runbooks",
    },
}


def language(value: str | None, default: Language = "id") -> Language:
    """``id`` or ``en`` from a query or form value; anything else is the default."""
    return "en" if value == "en" else "id" if value == "id" else default


@dataclass(frozen=True)
class OpenAlert:
    """What the worker holding an alert knows of it, beyond the transition itself."""

    alert: AlertEvent
    level: EscalationLevel
    acked: bool
    fired_at: float  # seconds since the epoch
    escalate_after: dt.timedelta


_LEVELS = [EscalationLevel.REGION, EscalationLevel.PROVINCE, EscalationLevel.NATIONAL]


def next_escalation(held: OpenAlert) -> tuple[EscalationLevel, dt.datetime] | None:
    """Whom an unacknowledged alert escalates to next, and when (None: acknowledged, or at the last level)."""
    index = _LEVELS.index(held.level)
    if held.acked or index + 1 >= len(_LEVELS):
        return None
    return _LEVELS[index + 1], dt.datetime.fromtimestamp(
        held.fired_at + held.escalate_after.total_seconds() * (index + 1), dt.UTC)  # fmt: skip


class Pages:
    """Renders the pages in one of the two languages."""

    def __init__(self, ack_ttl: dt.timedelta, templates: Path = TEMPLATES) -> None:
        self.ack_ttl = ack_ttl
        self.env = Environment(
            loader=FileSystemLoader(templates),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._runbook: tuple[str, frozenset[str]] | None = None

    def _page(self, lang: Language, title: str, body: str, *, switch: str | None = None) -> str:
        return self.env.get_template("page.html.j2").render(
            lang=lang, w=WORDS[lang], title=title, body=body, switch=switch
        )

    def alert(
        self,
        lang: Language,
        alert_id: str,
        region: str,
        facts: Facts | None,
        held: OpenAlert | None,
        *,
        token: str | None,
        action: str,
        switch: str,
    ) -> str:
        """The alert page; with ``token`` it has the acknowledge button (a POST to ``action``).

        ``facts`` and ``held`` are None on a worker that cannot reach the one holding the alert:
        the page then says so, and the button still works (the acknowledgement is forwarded).
        """
        w = WORDS[lang]
        escalation, next_step = "", ""
        if held is not None:
            escalation = w["acked"] if held.acked else w[f"escalation.{held.level.value}"]
            following = next_escalation(held)
            if following is not None:
                level, at = following
                next_step = w["escalation.next"].format(
                    level=m.LEVELS[lang][level.value], at=moment(at, held.alert.province_code, lang)
                )
        body = self.env.get_template("alert.html.j2").render(
            lang=lang, w=w, t=m.LABELS[lang], f=facts, held=held, escalation=escalation, next_step=next_step,
            token=token, action=action, can_ack=token is not None and not (held is not None and held.acked),
            alert_id=alert_id, region=region, severity=held.alert.severity.value if held else "info",
        )  # fmt: skip
        title = f"{facts.region}: {facts.kind}" if facts else f"{w['title']}: {region}"
        return self._page(lang, title, body, switch=switch)

    def outcome(self, lang: Language, key: str, *, back: str | None = None, **fields: str) -> str:
        """A short page after the button (or for a bad link): ``key`` names its words (``ok``, ``bad``...)."""
        w = WORDS[lang]
        title = w[f"{key.split('.')[0]}.title"]
        text = w[key if "." in key else f"{key}.body"].format(ttl=_human(self.ack_ttl, lang), **fields)
        body = self.env.get_template("outcome.html.j2").render(w=w, title=title, text=text, back=back)
        return self._page(lang, title, body)

    def runbook(self, lang: Language) -> str:
        html, _ = self._runbook_html()
        return self._page(lang, WORDS[lang]["runbooks"], html)

    def runbook_sections(self) -> frozenset[str]:
        """The anchors of the runbook's sections (``/runbooks/{section}`` redirects to them)."""
        return self._runbook_html()[1]

    def _runbook_html(self) -> tuple[str, frozenset[str]]:
        if self._runbook is None:
            md = MarkdownIt("commonmark", {"html": False}).enable("table")
            tokens = md.parse(RUNBOOK.read_text(encoding="utf-8"))
            anchors: set[str] = set()
            for i, token in enumerate(tokens):
                if token.type == "heading_open":
                    anchor = _anchor(tokens[i + 1].content)
                    token.attrSet("id", anchor)
                    anchors.add(anchor)
            self._runbook = md.renderer.render(tokens, md.options, {}), frozenset(anchors)
        return self._runbook


def _anchor(heading: str) -> str:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _human(d: dt.timedelta, lang: Language) -> str:
    days = d.total_seconds() / 86400
    if days >= 1 and days == int(days):
        return f"{int(days)} {'hari' if lang == 'id' else 'days'}"
    hours = d.total_seconds() / 3600
    return f"{hours:g} {'jam' if lang == 'id' else 'hours'}"


def is_open(alert: AlertEvent) -> bool:
    return alert.state in (AlertState.FIRING, AlertState.ACKNOWLEDGED)
