"""The contacts directory: who gets each level of an alert, and loader errors that say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.alerts.notify.contacts import ContactsError, load_contacts, parse_contacts
from tests.notify_support import SECRET, an_alert_event

REPO = Path(__file__).resolve().parents[2]

DOC = f"""
national:
  name: Operasi Nasional
  emails: [ops@pantau.example]
  language: en
provinces:
  "32":
    name: Diskominfo Jawa Barat
    emails: [jabar@prov.example]
  "35":
    name: Diskominfo Jawa Timur
    emails: [jatim@prov.example]
regions:
  "32.73":
    name: Kantor Wali Kota Bandung
    emails: [walikota@bandung.example]
    webhooks:
      - url: https://wa.bandung.example/hook
        secret: {SECRET}
    language: id
"""


def test_each_level_goes_to_its_own_office() -> None:
    contacts = parse_contacts(DOC, "contacts.yaml")
    alert = an_alert_event()  # 32.73 in 32
    region, province, national = (contacts.recipients(alert, lvl) for lvl in ("region", "province", "national"))
    assert region.office is not None and region.office.name == "Kantor Wali Kota Bandung"
    assert (region.entry, region.fallback) == ("regions.32.73", False)
    assert region.office.webhooks[0].url == "https://wa.bandung.example/hook"
    assert province.office is not None and province.office.name == "Diskominfo Jawa Barat"
    assert (province.entry, province.fallback) == ("provinces.32", False)
    assert national.office is not None and national.office.name == "Operasi Nasional"
    assert national.office.language == "en"


def test_a_region_without_an_entry_falls_back_to_its_province_then_national() -> None:
    contacts = parse_contacts(DOC, "contacts.yaml")
    bogor = an_alert_event(region_code="32.01", province_code="32")
    got = contacts.recipients(bogor, "region")
    assert got.office is not None and got.office.name == "Diskominfo Jawa Barat"
    assert (got.entry, got.fallback) == ("provinces.32", True)
    samarinda = an_alert_event(region_code="64.72", province_code="64")
    for level in ("region", "province"):
        got = contacts.recipients(samarinda, level)
        assert got.office is not None and got.office.name == "Operasi Nasional"
        assert (got.entry, got.fallback) == ("national", True)


def test_nobody_when_nothing_matches() -> None:
    contacts = parse_contacts("regions: {}\n", "contacts.yaml")
    got = contacts.recipients(an_alert_event(), "region")
    assert (got.office, got.entry) == (None, None)
    assert len(contacts) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'regions:\n  "32.73":\n    name: X\n    webhooks: [{url: "https://h.example/", secret: "abc"}]\n',
            "contacts.yaml: regions.32.73.webhooks[0].secret: must be a Standard Webhooks secret",
        ),
        (
            'regions:\n  "32.73":\n    name: X\n    webhooks: [{url: "ftp://h.example/", secret: ' + SECRET + "}]\n",
            "contacts.yaml: regions.32.73.webhooks[0].url: not an http(s) URL",
        ),
        ('regions:\n  "32.73":\n    emails: [a@b.example]\n', "contacts.yaml: regions.32.73.name: Field required"),
        (
            'regions:\n  "32.73":\n    name: X\n    emails: [not-an-address]\n',
            "regions.32.73.emails[0]: not an email address (got 'not-an-address')",
        ),
        (
            'regions:\n  "32.73":\n    name: X\n    language: fr\n',
            "regions.32.73.language: Input should be 'id' or 'en'",
        ),
        (
            'regions:\n  "32.73":\n    name: X\n    phone: "022"\n',
            "regions.32.73.phone: Extra inputs are not permitted",
        ),
        ("regions:\n  32.70:\n    name: X\n", "contacts.yaml: regions.32.7: write the code as a quoted string"),
        ('regions:\n  "99.99":\n    name: X\n', "contacts.yaml: regions.99.99: unknown region code"),
        ('provinces:\n  "10":\n    name: X\n', "contacts.yaml: provinces.10: unknown province code"),
        ("national: [a, b]\n", "contacts.yaml: national: Input should be a valid dictionary"),
        ("- just a list\n", "contacts.yaml: the top level must be a mapping"),
        ("regions: {a: [\n", "contacts.yaml: not valid YAML"),
    ],
)
def test_loader_errors_name_the_file_the_key_path_and_the_field(text: str, message: str) -> None:
    with pytest.raises(ContactsError) as err:
        parse_contacts(text, "contacts.yaml")
    assert message in str(err.value)


def test_errors_never_echo_a_secret() -> None:
    text = 'regions:\n  "32.73":\n    name: X\n    webhooks: [{url: "https://h.example/", secret: "whsec_c2hvcnQ="}]\n'
    with pytest.raises(ContactsError) as err:
        parse_contacts(text, "contacts.yaml")
    assert "shorter than 16 bytes" in str(err.value)
    assert "c2hvcnQ" not in str(err.value)


def test_numeric_province_keys_are_read_as_codes() -> None:
    contacts = parse_contacts("provinces:\n  32:\n    name: Jabar\n", "contacts.yaml")
    assert list(contacts.document.provinces) == ["32"]


def test_the_shipped_example_loads() -> None:
    contacts = load_contacts(REPO / "deploy/alerts/contacts.example.yaml")
    bandung = contacts.recipients(an_alert_event(), "region").office
    assert bandung is not None and len(bandung.webhooks) == 2
    assert contacts.document.national is not None


def test_a_missing_file_is_named() -> None:
    with pytest.raises(ContactsError, match=r"nope\.yaml: cannot read the contacts file"):
        load_contacts(Path("/nonexistent/nope.yaml"))
