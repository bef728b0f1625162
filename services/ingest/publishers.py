"""The publishers file: who may send what, with the SHA-256 of each key (never the key).

YAML, written atomically (temporary file + rename, mode 0600) under an exclusive lock so that two
``pantau publishers add`` never lose each other's entry. The service re-reads it when it changes, so
a new key works without a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import ValidationError

from services.ingest.domain.auth import Keyring, Publisher, Scope, hash_key, new_key
from services.runtime import logs

log = logs.get("pantau.ingest.publishers")
HEADER = (
    "# Pantau ingest publishers: written by 'pantau publishers add'. Keys are stored as SHA-256 hashes only.\n"
    "# Scope: regions (Kemendagri codes, or '*' for all), provinces (whole provinces), indicators (ids, or '*').\n"
)


class PublishersFileError(ValueError):
    """A publishers file that cannot be used; the message names the file and the entry."""


def read_publishers(path: Path) -> list[Publisher]:
    """The publishers in ``path`` ([] when it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise PublishersFileError(f"{path}: not valid YAML ({exc})") from None
    entries = data.get("publishers") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise PublishersFileError(f"{path}: expected a mapping with a 'publishers' list")
    out = []
    for n, entry in enumerate(entries):
        try:
            out.append(Publisher.model_validate(entry))
        except ValidationError as exc:
            where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise PublishersFileError(f"{path}: publishers[{n}]: {where}") from None
    ids = [p.id for p in out]
    if len(ids) != len(set(ids)):
        raise PublishersFileError(f"{path}: duplicate publisher id(s)")
    return out


def _write(path: Path, publishers: list[Publisher]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"publishers": [p.model_dump(mode="json") for p in publishers]}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".publishers.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(HEADER + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def add_publisher(path: Path, publisher_id: str, name: str, scope: Scope) -> tuple[Publisher, str]:
    """Add a publisher with a new key; return it and the key (shown once, not stored)."""
    key_id, key = new_key()
    with _locked(path):
        publishers = read_publishers(path)
        if any(p.id == publisher_id for p in publishers):
            raise PublishersFileError(f"{path}: publisher {publisher_id!r} exists; remove it first to issue a new key")
        pub = Publisher(id=publisher_id, name=name, key_id=key_id, key_hash=hash_key(key), scope=scope,
                        created_at=datetime.now(UTC).replace(microsecond=0))  # fmt: skip
        _write(path, [*publishers, pub])
    return pub, key


def remove_publisher(path: Path, publisher_id: str) -> bool:
    with _locked(path):
        publishers = read_publishers(path)
        kept = [p for p in publishers if p.id != publisher_id]
        if len(kept) == len(publishers):
            return False
        _write(path, kept)
    return True


class PublisherStore:
    """The current keyring, re-read when the file changes (checked at most every ``recheck`` s)."""

    def __init__(self, path: Path, recheck: float = 1.0) -> None:
        self.path = path
        self.recheck = recheck
        self._keyring = Keyring([])
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        self.reload()

    def reload(self) -> None:
        try:
            st = self.path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp:
            return
        try:
            self._keyring = Keyring(read_publishers(self.path))
        except PublishersFileError as exc:
            log.error("publishers file not (re)loaded; the previous keys stay in force", error=str(exc))
            return
        self._stamp = stamp
        log.info("publishers loaded", path=str(self.path), publishers=len(self._keyring))

    def keyring(self) -> Keyring:
        now = time.monotonic()
        if now - self._checked >= self.recheck:
            self._checked = now
            self.reload()
        return self._keyring
