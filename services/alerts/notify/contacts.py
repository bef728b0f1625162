"""The contacts directory: who is told about an alert, at each escalation level.

A YAML file maps region codes to the head's office (bupati/walikota), province codes to the
province's office, and ``national`` to national operations. A level with no entry of its own falls
back to the next one up: a region without an entry is served by its province's office, then by
national operations. See docs/notifications.md for the format.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, ValidationError, field_validator

from schemas.alerts import AlertEvent
from schemas.common import ProvinceCode, RegionCode
from schemas.regions import RegionRegistry, default_registry

Level = Literal["region", "province", "national"]
LEVELS: tuple[Level, ...] = ("region", "province", "national")

_EMAIL = r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$"
EmailAddress = Annotated[str, StringConstraints(strip_whitespace=True, pattern=_EMAIL)]
_URL = r"^https?://[^\s/]+(/\S*)?$"
HttpUrl = Annotated[str, StringConstraints(strip_whitespace=True, pattern=_URL)]


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WebhookEndpoint(_Entry):
    url: HttpUrl
    secret: SecretStr = Field(description="Standard Webhooks secret: 'whsec_' + base64 of the key.")

    @field_validator("secret")
    @classmethod
    def _whsec(cls, v: SecretStr) -> SecretStr:
        raw = v.get_secret_value()
        if not raw.startswith("whsec_"):
            raise ValueError("must be a Standard Webhooks secret, 'whsec_' followed by base64")
        try:
            key = base64.b64decode(raw.removeprefix("whsec_") + "==", validate=False)
        except (binascii.Error, ValueError):
            raise ValueError("the part after 'whsec_' is not base64") from None
        if len(key) < 16:
            raise ValueError("the key is shorter than 16 bytes (24 base64 characters)")
        return v


class Office(_Entry):
    """One office and how to reach it."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    emails: list[EmailAddress] = Field(default_factory=list)
    webhooks: list[WebhookEndpoint] = Field(default_factory=list)
    language: Literal["id", "en"] | None = Field(default=None, description="Default: the service's language.")


class ContactsDocument(_Entry):
    version: Literal[1] = 1
    national: Office | None = None
    provinces: dict[ProvinceCode, Office] = Field(default_factory=dict)
    regions: dict[RegionCode, Office] = Field(default_factory=dict)


@dataclass(frozen=True)
class Recipients:
    """The office that receives one level of one alert; ``entry`` names the directory entry that answered."""

    level: Level
    office: Office | None
    entry: str | None

    @property
    def fallback(self) -> bool:
        """True when the level had no entry of its own and a higher level's office stands in."""
        return self.entry is not None and not self.entry.startswith(_OWN_ENTRY[self.level])


_OWN_ENTRY: dict[Level, str] = {"region": "regions.", "province": "provinces.", "national": "national"}


class ContactsDirectory:
    """Answers "who gets level L of this alert"."""

    def __init__(self, document: ContactsDocument | None = None, source: str = "<empty>") -> None:
        self.document = document or ContactsDocument()
        self.source = source

    def recipients(self, alert: AlertEvent, level: Level) -> Recipients:
        """The office for ``level`` of ``alert``: its own entry, else the next level up's."""
        doc = self.document
        chain: list[tuple[str, Office | None]] = []
        if level == "region":
            chain.append((f"regions.{alert.region_code}", doc.regions.get(alert.region_code)))
        if level in ("region", "province"):
            chain.append((f"provinces.{alert.province_code}", doc.provinces.get(alert.province_code)))
        chain.append(("national", doc.national))
        for entry, office in chain:
            if office is not None:
                return Recipients(level, office, entry)
        return Recipients(level, None, None)

    def __len__(self) -> int:
        d = self.document
        return len(d.regions) + len(d.provinces) + (d.national is not None)


class ContactsError(ValueError):
    """A contacts file that cannot be used; the message names the file, the key path and the field."""


def load_contacts(path: Path, registry: RegionRegistry | None = None) -> ContactsDirectory:
    """Read and check a contacts file: every code must exist in the region registry."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContactsError(f"{path}: cannot read the contacts file: {exc.strerror or exc}") from None
    return parse_contacts(text, str(path), registry)


def parse_contacts(text: str, source: str, registry: RegionRegistry | None = None) -> ContactsDirectory:
    """The directory in ``text`` (YAML); errors start with ``source``, then the key path and the field."""
    registry = registry or default_registry()
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ContactsError(f"{source}: not valid YAML: {exc}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ContactsError(f"{source}: the top level must be a mapping with national, provinces and regions")
    raw = _normalise_codes(source, raw)
    try:
        doc = ContactsDocument.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{source}: {_key_path(e['loc'])}: {_message(e)}" for e in exc.errors()]
        raise ContactsError("\n".join(lines)) from None
    for code in doc.provinces:
        if code not in registry.provinces:
            raise ContactsError(f"{source}: provinces.{code}: unknown province code (registry {registry.version})")
    for code in doc.regions:
        if code not in registry:
            raise ContactsError(f"{source}: regions.{code}: unknown region code (registry {registry.version})")
    return ContactsDirectory(doc, source)


def _normalise_codes(source: str, raw: dict[str, Any]) -> dict[str, Any]:
    """YAML reads an unquoted ``32.70`` as the number 32.7: refuse that, with the fix in the message."""
    out = dict(raw)
    for section in ("regions", "provinces"):
        entries = raw.get(section)
        if not isinstance(entries, dict):
            continue
        fixed: dict[str, Any] = {}
        for key, value in entries.items():
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise ContactsError(
                    f"{source}: {section}.{key}: write the code as a quoted string (YAML read {key!r} as a number)"
                )
            fixed[f"{key:02d}" if isinstance(key, int) and section == "provinces" else str(key)] = value
        out[section] = fixed
    return out


_PATTERN_MEANING = {
    _EMAIL: "not an email address",
    _URL: "not an http(s) URL",
    r"^\d{2}\.\d{2}$": 'a region code is PP.KK, quoted ("32.73")',
    r"^\d{2}$": 'a province code is two digits, quoted ("32")',
}


def _key_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item == "[key]":
            parts.append(" (the code)")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def _message(error: Any) -> str:
    msg = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "string_pattern_mismatch":
        msg = _PATTERN_MEANING.get(error["ctx"]["pattern"], msg)
    value = error.get("input")
    if error["type"] in ("missing", "extra_forbidden") or isinstance(value, dict | list | SecretStr):
        return msg
    if error["loc"] and error["loc"][-1] == "secret":
        return msg  # never echo a secret
    return f"{msg} (got {value!r})"
