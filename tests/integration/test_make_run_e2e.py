"""The platform exactly as a person starts it: ``make run``, no test-only settings, then the path a
regional head's office takes.

The email arrives in the demo's mailbox (aiosmtpd, under ``make run``); its acknowledge link opens
the alert page in a real browser (Playwright driving Debian's Chromium); a plain GET of the link, as
a mail scanner does, acknowledges nothing; the button does, and that alert does not escalate while
others do. A webhook's ``ack_url`` works for a ticketing system (a POST). The run writes no error
log line, and Ctrl-C stops it cleanly.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import sync_playwright

from pantau.config import REPO_ROOT, PlatformSettings
from pantau.logcheck import is_error
from schemas.regions import default_registry
from tests.builders import an_event_doc
from tests.integration.helpers import produce, read_all, wait_for

ALERTS = "http://127.0.0.1:6067"
WEB = "http://127.0.0.1:8000"
HISTORY = "http://127.0.0.1:6069"
ESCALATE_AFTER_S = 180  # the demo's ALERTS_ESCALATE_AFTER (pantau.run.DEMO_ALERTS_ENV: PT3M)
SCREENSHOTS = REPO_ROOT / "test-output" / "make-run"
#: Headless Chromium on a machine without outside network (no background fetches, no sandbox as root).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip


@dataclass
class Platform:
    proc: subprocess.Popen[bytes]
    out: Path
    home: Path
    mail_before: set[str]
    hooks_offset: int
    log_offsets: dict[Path, int]
    started: float

    def output(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def emails(self) -> list[EmailMessage]:
        """Every email the demo mailbox received since ``make run`` started."""
        folder = self.home / "mailbox"
        out = []
        for path in sorted(folder.glob("*.eml")):
            if path.name not in self.mail_before:
                out.append(message_from_bytes(path.read_bytes(), policy=policy.default))
        return out  # type: ignore[return-value]

    def webhooks(self) -> list[dict[str, Any]]:
        path = self.home / "webhooks.jsonl"
        if not path.exists():
            return []
        with path.open("rb") as f:
            f.seek(self.hooks_offset)
            return [json.loads(line) for line in f.read().splitlines() if line.strip()]

    def new_log_lines(self) -> list[str]:
        lines = []
        for path in sorted((self.home / "logs").glob("*.log")):
            with path.open("rb") as f:
                f.seek(self.log_offsets.get(path, 0))
                lines += [f"{path.name}: {raw.decode(errors='replace')}" for raw in f.read().splitlines()]
        return lines


@pytest.fixture
def platform(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Platform]:
    """``make run`` in the repository with the environment a user has (nothing added)."""
    home = PlatformSettings().home
    (home / "mailbox").mkdir(parents=True, exist_ok=True)
    hooks = home / "webhooks.jsonl"
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "make-run.out"
    with out.open("wb") as sink:
        proc = subprocess.Popen(["make", "run"], cwd=REPO_ROOT, stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    p = Platform(proc, out, home, {f.name for f in (home / "mailbox").glob("*.eml")},
                 hooks.stat().st_size if hooks.exists() else 0,
                 {f: f.stat().st_size for f in logs.glob("*.log")}, time.time())  # fmt: skip
    try:
        wait_for("make run's banner", lambda: "is running" in p.output() or proc.poll() is not None, timeout=240)
        assert proc.poll() is None, p.output()[-3000:]
        yield p
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches make and pantau run alike
            try:
                proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def open_alerts() -> dict[str, dict[str, Any]]:
    """The open alerts the alerts worker lists (none while it is still starting)."""
    try:
        r = httpx.get(f"{ALERTS}/alerts", timeout=5)
    except httpx.TransportError:
        return {}
    assert r.status_code == 200
    return {a["alert_id"]: a for a in r.json()["open"]}


def ack_link(message: EmailMessage) -> str | None:
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    found = re.search(r"http://127\.0\.0\.1:8000/ack/\S+", text.get_content())  # the web pages (make run)
    return found[0] if found else None


@pytest.mark.timeout(1500)
def test_make_run_email_link_page_button_and_escalation_stop(platform: Platform, kafka_bootstrap: str) -> None:
    banner = platform.output()
    for component in (
        "ingest",
        "scoring",
        "alerts",
        "alertmanager",
        "prometheus",
        "simulate",
        "sinks",
        "history",
        "history-api",
        "web",
    ):
        assert re.search(rf"^  {component} +\S", banner, re.M), (component, banner)
    assert "NOT INSTALLED" not in banner

    # 1. A statistics publisher sends dismal welfare figures for three regions through the Kafka
    #    door (indicator-events.raw): their economy falls far behind the path and stays there.
    #    Each office gets a firing email with its acknowledge link.
    registry = default_registry()
    busy = {a["region_code"] for a in open_alerts().values()}
    candidates = sorted(r.code for r in registry.regions.values() if r.code not in busy)
    ours, control, hooked = random.Random().sample(candidates, 3)
    now = datetime.now(UTC).isoformat()
    dismal = {"IPM": (50.0, "index 0-100"), "P0": (35.0, "percent"), "ECO_UNEMPLOYMENT_RATE": (15.0, "percent"),
              "ECO_GRDP_GROWTH": (-3.0, "percent")}  # every one scores 0  # fmt: skip
    produce(kafka_bootstrap, "indicator-events.raw", [
        (code.encode(), json.dumps(an_event_doc(event_id=str(uuid.uuid4()), region_code=code, indicator_id=ind,
                                                value=value, unit=unit, observed_at=now, source="e2e-bps")).encode())
        for code in (ours, control, hooked) for ind, (value, unit) in dismal.items()
    ])  # fmt: skip

    def emailed(region: str) -> tuple[EmailMessage, dict[str, Any]] | None:
        current = open_alerts()
        for message in platform.emails():
            alert = current.get(str(message["X-Pantau-Alert-Id"]))
            if (alert and alert["region_code"] == region and alert["kind"] == "behind_trajectory"
                    and message["X-Pantau-Level"] == "region" and ack_link(message)):  # fmt: skip
                return message, alert
        return None

    message, alert = wait_for(f"{ours}'s behind_trajectory email with an acknowledge link", lambda: emailed(ours),
                              timeout=300, every=2)  # fmt: skip
    alert_id, region = alert["alert_id"], alert["region_code"]
    region_name = registry.get(region).name
    url = ack_link(message)
    assert url is not None
    assert region_name in str(message["Subject"])
    _, controlled = wait_for(f"{control}'s email", lambda: emailed(control), timeout=120, every=2)

    # 2. What a mail scanner does (GET, HEAD, twice) acknowledges nothing.
    for _ in range(2):
        assert httpx.get(url, timeout=30).status_code == 200
        httpx.head(url, timeout=30)
    assert open_alerts()[alert_id]["acked"] is False

    # 3. A person opens the link in a browser, reads the page and presses the button.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        response = page.goto(url)
        assert response is not None and response.status == 200
        assert page.get_attribute("html", "lang") == "id"
        assert region_name in page.locator("h1").inner_text()
        body = page.locator("main").inner_text()
        assert "Ditujukan ke kantor daerah" in body  # the escalation state, in Indonesian
        assert "dieskalasikan ke pemerintah provinsi pada" in body  # and when it escalates next
        page.screenshot(path=str(SCREENSHOTS / "alert-page.png"), full_page=True)
        page.get_by_role("button", name="Akui peringatan ini").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Peringatan telah diakui"
        page.screenshot(path=str(SCREENSHOTS / "acknowledged.png"), full_page=True)
        # Back on the alert's page: it says so, and there is no button any more.
        page.go_back()
        page.reload()
        assert "Peringatan ini telah diakui; eskalasi dihentikan." in page.locator("main").inner_text()
        assert page.get_by_role("button", name="Akui peringatan ini").count() == 0
        # The form posted again (a replay) changes nothing and says so.
        token = url.split("token=", 1)[1]
        replay = httpx.post(url.split("?", 1)[0], data={"token": token, "lang": "id"}, timeout=30)
        assert replay.status_code == 200 and "sudah diakui sebelumnya" in replay.text, replay.text
        # The English switch.
        page.goto(url + "&lang=en")
        assert page.get_attribute("html", "lang") == "en"
        assert "This alert has been acknowledged" in page.locator("main").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "alert-page-en.png"), full_page=True)
        # A forged token: a clear page and a 4xx, in the reader's language (English, chosen above, sticks;
        # the link's own ?lang=id brings Indonesian back).
        forged = re.sub(r"token=([^&]+)", lambda m: "token=" + m[1][:-3] + ("AAA" if m[1][-3:] != "AAA" else "BBB"),
                        url)  # fmt: skip
        response = page.goto(forged)
        assert response is not None and response.status == 403
        assert page.locator("h1").inner_text() == "Link not valid"
        response = page.goto(forged + "&lang=id")
        assert response is not None and response.status == 403
        assert page.locator("h1").inner_text() == "Tautan tidak berlaku"
        browser.close()
    wait_for("the acknowledgement on the alert", lambda: open_alerts().get(alert_id, {}).get("acked"), timeout=30)
    acks = [r for r in read_all(kafka_bootstrap, "maturity-alerts")
            if alert_id.encode() in r.value and b'"state":"acknowledged"' in r.value]  # fmt: skip
    assert len(acks) == 1, "one acknowledged transition on maturity-alerts, however often the button is pressed"

    # 4. A webhook's ack_url, used by a ticketing system: a POST (a GET alone changes nothing).
    def a_webhook_to_acknowledge() -> dict[str, Any] | None:
        current = open_alerts()
        for hook in platform.webhooks():
            body = hook["body"]
            other = current.get(body.get("alert_id"))
            if other and other["region_code"] == hooked and body.get("level") == "region" and body.get("ack_url"):
                return body
        return None

    hook = wait_for(f"{hooked}'s webhook with an ack_url", a_webhook_to_acknowledge, timeout=120, every=2)
    assert hook["language"] == "id" and hook["drivers"] and all(d["name"] for d in hook["drivers"])
    assert httpx.get(hook["ack_url"], timeout=30).status_code == 200
    assert open_alerts()[hook["alert_id"]]["acked"] is False
    r = httpx.post(hook["ack_url"], headers={"Accept": "application/json"}, timeout=30)
    assert r.status_code == 200 and r.json()["acknowledged"] == hook["alert_id"], r.text
    wait_for("the webhook's alert acknowledged", lambda: open_alerts().get(hook["alert_id"], {}).get("acked"),
             timeout=30)  # fmt: skip

    # 5. Escalation stops for the acknowledged alert while it goes on for the others.
    fired_at = datetime.fromisoformat(alert["at"]).timestamp()
    escalates_at = fired_at + ESCALATE_AFTER_S + 20
    wait_for("the acknowledged alert's escalation time to pass", lambda: time.time() > escalates_at,
             timeout=ESCALATE_AFTER_S + 60, every=2)  # fmt: skip
    ours = [m for m in platform.emails() if m["X-Pantau-Alert-Id"] == alert_id and m["X-Pantau-Level"] != "region"]
    assert ours == [], "an acknowledged alert escalated"
    still = open_alerts().get(alert_id)
    assert still is not None and still["level"] == "region", "the alert should still be open, at the region level"
    # The control, never acknowledged, went to its province: escalation itself ran.
    control_at = datetime.fromisoformat(controlled["at"]).timestamp() + ESCALATE_AFTER_S
    wait_for(f"{control}'s alert escalated to its province", lambda: [
        m for m in platform.emails() if m["X-Pantau-Alert-Id"] == controlled["alert_id"]
        and m["X-Pantau-Level"] == "province"], timeout=max(10.0, control_at - time.time() + 60), every=2)  # fmt: skip

    # 6. The links operators click from Alertmanager lead to pages that exist: the alert's page and
    #    the runbook's section for its kind.
    am = httpx.get("http://127.0.0.1:9093/api/v2/alerts", params={"filter": f'region="{control}"'}, timeout=5)
    assert am.status_code == 200 and am.json(), am.text
    pushed = am.json()[0]
    assert httpx.get(pushed["generatorURL"], timeout=30).status_code == 200
    runbook = httpx.get(pushed["annotations"]["runbook_url"], timeout=30, follow_redirects=True)
    assert runbook.status_code == 200 and f'id="{pushed["labels"]["kind"]}"' in runbook.text

    # 7. The API docs work offline: every request the page makes stays on this machine.
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        outside: list[str] = []
        page.on("request", lambda req: None if req.url.startswith("http://127.0.0.1") else outside.append(req.url))
        page.goto("http://127.0.0.1:8080/docs")
        page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
        page.screenshot(path=str(SCREENSHOTS / "ingest-docs.png"))
        browser.close()
    assert outside == []

    # 8. The history: the demo's seeded past is there (years of daily snapshots since 2024, marked
    #    simulated), the writer stores the live scores of today, and the API and CLI answer with them.
    today = datetime.now(UTC).date()

    def bandung_seeded() -> dict[str, Any] | None:  # the seed goes region by region, in code order
        body = httpx.get(f"{HISTORY}/v1/regions/32.73/history", timeout=30,
                         params={"from": "2024-01-01", "to": "2029-12-31", "resolution": "month"}).json()  # fmt: skip
        return body if body["points"][0]["days"] else None

    series = wait_for("Kota Bandung's seeded past", bandung_seeded, timeout=1200, every=10)
    points = {p["period"]: p for p in series["points"]}
    assert len(points) == 6 * 12  # 2024-01 .. 2029-12: the path ahead is listed too
    first = points["2024-01"]
    assert first["days"] == 31 and first["simulated_days"] == 31 and first["closing"]["simulated"] is True
    assert 0 <= first["closing"]["index"] <= 5
    assert points["2029-12"]["closing"] is None and points["2029-12"]["expected"]["index"] == 3.5  # national plan

    def live_today() -> dict[str, Any] | None:
        ranked = httpx.get(f"{HISTORY}/v1/ranking", params={"on": today.isoformat()}, timeout=30).json()
        live = [r for r in ranked["regions"] if r["as_of"]["day"] == today.isoformat() and not r["as_of"]["simulated"]]
        return ranked if len(live) >= 400 else None  # the simulator feeds all 514; most are scored by now

    ranked = wait_for("today's live snapshots in the history", live_today, timeout=300, every=5)
    assert ranked["scored"] == 514
    pantau = str(REPO_ROOT / ".venv" / "bin" / "pantau")  # what the README has a user run
    shown = subprocess.run([pantau, "history", "show", "32.73", "--from", "2024-01-01", "--resolution", "year"],
                           cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert shown.returncode == 0 and "Kota Bandung" in shown.stdout and "2024" in shown.stdout, shown.stderr

    # 9. The web pages a citizen or an office opens: the national map and ranking, a search, the card of
    #    the region whose alert was acknowledged above (its indicators from the scoring service, its
    #    alert from the history), the English switch; every request stays on this machine, axe-core
    #    finds no WCAG A/AA violation.
    walk_the_web_pages(region, region_name, alert_id)

    # 10. Nothing in the logs of this run is an error.
    errors = [line for line in platform.new_log_lines() if is_error(line.split(": ", 1)[1])]
    assert errors == [], "\n".join(errors[:20])

    # 11. Ctrl-C: every component stops on SIGTERM, and the broker stays (this session started it).
    os.killpg(platform.proc.pid, signal.SIGINT)
    platform.proc.wait(timeout=90)
    out = platform.output()
    assert "Pantau stopped." in out, out[-2000:]
    assert "run.kill" not in out, "a component had to be killed"


def axe_violations(page: Any) -> list[Any]:
    page.evaluate((REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8"))
    return list(
        page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})
        .then(r => r.violations.map(v => v.id + ': ' + v.nodes.slice(0, 2).map(n => n.target.join(' ')).join(', ')))""")
    )


def walk_the_web_pages(region: str, region_name: str, alert_id: str) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page = context.new_page()
        outside: list[str] = []
        page.on("request", lambda req: None if req.url.startswith("http://127.0.0.1") else outside.append(req.url))
        response = page.goto(WEB + "/")
        assert response is not None and response.status == 200
        assert page.get_attribute("html", "lang") == "id"
        assert page.locator("svg.choropleth path").count() == 514
        rows = page.locator("table.ranking tbody tr")
        assert rows.count() == 514
        page.screenshot(path=str(SCREENSHOTS / "web-beranda.png"))
        # (axe-core checks Beranda in tests/integration/test_web_pages.py: on its 514 rows and shapes it takes
        # a core for many seconds, which a busy make run cannot spare; here it checks the card below.)
        # The CSV of the ranking parses back to the figures of the table's first rows: the ranking as of
        # two days ago (the live one moves between two requests; a past day's closing scores do not).
        page.goto(f"{WEB}/?on={datetime.now(UTC).date() - timedelta(days=2)}")
        rows = page.locator("table.ranking tbody tr")
        shown = {rows.nth(i).get_attribute("data-code"): rows.nth(i).locator("td").nth(3).inner_text()
                 for i in range(5)}  # fmt: skip
        with page.expect_download() as info:
            page.get_by_role("link", name="CSV", exact=True).first.click()
        table = list(csv.reader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8-sig"))))
        code_at = next(i for i, h in enumerate(table[0]) if "Kode" in h)
        index_at = next(i for i, h in enumerate(table[0]) if h.startswith("Indeks"))
        exported = {r[code_at]: r[index_at] for r in table[1:]}
        for code, text in shown.items():  # the page writes 2 decimals, halves up; the file has them all
            full = Decimal(exported[str(code)].replace(",", "."))
            assert full.quantize(Decimal("0.01"), ROUND_HALF_UP) == Decimal(text.replace(",", ".")), code
        # Search as one types: "Bandung" finds the three Bandungs, Kota Bandung among them.
        page.get_by_label("Cari nama atau kode").fill("Bandung")
        visible = page.locator("table.ranking tbody tr:not([hidden])")
        wait_for("the search to filter the table", lambda: visible.count() == 3, timeout=10, every=0.2)
        page.get_by_role("link", name="Kota Bandung", exact=True).click()
        page.wait_for_url(re.compile(r"/wilayah/32\.73$"))
        assert page.locator("table.dimensions tbody tr").count() == 6
        assert page.locator("svg.history-chart polyline.series-history").count() == 1
        page.screenshot(path=str(SCREENSHOTS / "web-kota-bandung.png"), full_page=True)

        # The card of the region whose alert was acknowledged: its indicators now, its alert (once the
        # history writer has stored the transition).
        def card_with_alert() -> bool:
            page.goto(f"{WEB}/wilayah/{region}")
            return page.locator(f'ul.alerts a[href="/peringatan/{alert_id}"]').count() > 0

        wait_for(f"{region}'s card to list its alert", card_with_alert, timeout=300, every=5)
        assert region_name in page.locator("h1").inner_text()
        indicators = page.locator("table.indicators tbody tr")
        assert indicators.count() >= 40  # every indicator of the framework, from the scoring service
        assert "sudah diakui" in page.locator("ul.alerts").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "web-card-alerted.png"), full_page=True)
        assert axe_violations(page) == []
        page.get_by_role("link", name="English").click()
        assert page.get_attribute("html", "lang") == "en"
        assert "The six dimensions" in page.locator("main").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "web-card-en.png"), full_page=True)
        context.close()
        browser.close()
    assert outside == []
