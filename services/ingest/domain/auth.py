"""Publishers, their API keys and what each key may write. Pure: the file store is in publishers.py.

A key looks like ``pk_<key id>_<secret>``: the key id finds the publisher, the SHA-256 of the whole
key is compared in constant time with the stored hash. The secret is 256 random bits, so a fast hash
is enough: slow password hashes (argon2, bcrypt) protect guessable secrets and would cost
milliseconds of CPU on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Annotated

from pydantic import AwareDatetime, StringConstraints

from schemas.common import Contract, province_of
from schemas.framework import Framework
from schemas.regions import RegionRegistry

KEY_PREFIX = "pk"
ALL = "*"
PublisherId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{1,63}$")]
KeyId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{12}$")]
KeyHash = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]


class Scope(Contract):
    """What a key may write: regions (codes, whole provinces, or ``*``) and indicators (ids or ``*``)."""

    regions: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()

    @cached_property
    def _regions(self) -> frozenset[str]:
        return frozenset(self.regions)

    @cached_property
    def _provinces(self) -> frozenset[str]:
        return frozenset(self.provinces)

    @cached_property
    def _indicators(self) -> frozenset[str]:
        return frozenset(self.indicators)

    def allows_region(self, region_code: str) -> bool:
        """A region is in scope when listed, when its province is listed, or when all regions are."""
        r = self._regions
        return ALL in r or region_code in r or province_of(region_code) in self._provinces

    def allows_indicator(self, indicator_id: str) -> bool:
        i = self._indicators
        return ALL in i or indicator_id in i

    def describe(self) -> str:
        listed = [*self.regions, *(f"province {p}" for p in self.provinces)]
        regions = "all regions" if ALL in self.regions else ", ".join(listed) or "no region"
        indicators = "all indicators" if ALL in self.indicators else ", ".join(self.indicators) or "no indicator"
        return f"{regions}; {indicators}"


class Publisher(Contract):
    """A publishing system as stored in the publishers file (never the key itself)."""

    id: PublisherId
    name: str
    key_id: KeyId
    key_hash: KeyHash
    scope: Scope
    created_at: AwareDatetime


def hash_key(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh (key id, key). The key is shown once; only ``hash_key(key)`` is stored."""
    key_id = secrets.token_hex(6)
    return key_id, f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


def key_id_of(key: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[2]:
        return None
    return parts[1]


class Keyring:
    """The publishers by key id, to authenticate presented keys."""

    def __init__(self, publishers: Iterable[Publisher]) -> None:
        self.by_key_id: Mapping[str, Publisher] = {p.key_id: p for p in publishers}

    def __len__(self) -> int:
        return len(self.by_key_id)

    def authenticate(self, presented: str) -> Publisher | None:
        """The publisher whose key this is, or None (unknown key id or wrong secret)."""
        key_id = key_id_of(presented)
        pub = self.by_key_id.get(key_id) if key_id is not None else None
        if pub is None:
            return None
        return pub if hmac.compare_digest(hash_key(presented), pub.key_hash) else None


def make_scope(
    *,
    regions: Iterable[str] = (),
    provinces: Iterable[str] = (),
    indicators: Iterable[str] = (),
    registry: RegionRegistry,
    framework: Framework,
) -> Scope:
    """A scope whose every code and id exists; ValueError naming the first that does not."""
    regions, provinces, indicators = tuple(dict.fromkeys(regions)), tuple(dict.fromkeys(provinces)), tuple(
        dict.fromkeys(indicators))  # fmt: skip
    for r in regions:
        if r != ALL and r not in registry:
            raise ValueError(f"unknown region code {r!r} (registry {registry.version}); see 'pantau regions list'")
    for p in provinces:
        if p not in registry.provinces:
            raise ValueError(f"unknown province code {p!r} (registry {registry.version})")
    for i in indicators:
        if i != ALL and i not in framework.indicator_map:
            raise ValueError(f"unknown indicator {i!r} in {framework.key}; see 'pantau framework show'")
    if not regions and not provinces:
        raise ValueError("a key needs at least one region or province (or all regions)")
    if not indicators:
        raise ValueError("a key needs at least one indicator (or all indicators)")
    return Scope(regions=regions, provinces=provinces, indicators=indicators)
