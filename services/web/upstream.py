"""The services behind the pages, over HTTP: the history query API, scoring and alerts.

Each answer is the service's JSON as it sent it (the view models read those bodies). What changes
slowly is kept for a while (:class:`TtlCache`: today's ranking for ``WEB_CACHE_S``, a past day's for
``WEB_PAST_CACHE_S``), and concurrent pages waiting for the same answer share one request.

A service that cannot be reached, times out or answers 5xx raises :class:`Unavailable` (the page
answers 503 and says which); a 404 raises :class:`NotFound` with the service's own message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

import httpx
import orjson

from services.web.config import WebSettings

Json = Mapping[str, Any]
USER_AGENT: Final = "pantau-web"


class Unavailable(RuntimeError):
    """A service behind the pages did not answer (or answered 5xx)."""

    def __init__(self, service: str, detail: str) -> None:
        super().__init__(f"{service}: {detail}")
        self.service = service
        self.detail = detail


class NotFound(LookupError):
    """The service answered 404: what was asked for does not exist (its message kept)."""


@dataclass
class _Entry:
    expires: float
    value: Any


class TtlCache:
    """Answers kept for a time; one request in flight per key (the others await it)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_entries: int = 512) -> None:
        self.clock = clock
        self.max_entries = max_entries
        self._entries: dict[Any, _Entry] = {}
        self._pending: dict[Any, asyncio.Future[Any]] = {}

    async def get(self, key: Any, ttl: float, load: Callable[[], Awaitable[Any]]) -> Any:
        now = self.clock()
        entry = self._entries.get(key)
        if entry is not None and entry.expires > now:
            return entry.value
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            del self._pending[key]
        future.set_result(value)
        if ttl > 0:
            if len(self._entries) >= self.max_entries:
                self._evict(now)
            self._entries[key] = _Entry(now + ttl, value)
        return value

    def _evict(self, now: float) -> None:
        for key in [k for k, e in self._entries.items() if e.expires <= now] or list(self._entries)[:1]:
            del self._entries[key]

    def clear(self) -> None:
        self._entries.clear()


@dataclass(frozen=True)
class AckAnswer:
    """What the alerts service said to an acknowledgement: ``outcome`` is ok, again, forwarded,
    resolved, expired, invalid or other (the token named another alert)."""

    outcome: str
    status: int
    region: str | None = None
    kind: str | None = None
    detail: str = ""
    body: Any = None  # the alerts service's own JSON answer, for a client that asked for JSON


@dataclass(frozen=True)
class LiveAlert:
    """The alerts service on one alert: its state (``alert`` None when the worker holding it did not
    answer), or the link's problem (``bad.expired``, ``bad.invalid``, ``bad.other``), or not open there."""

    state: Json | None = None
    problem: str | None = None
    missing: bool = False


class Upstream:
    """The clients of the three services, with the cache."""

    def __init__(self, settings: WebSettings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        self.client = client or httpx.AsyncClient(timeout=settings.timeout_s, headers=headers,
                                                  limits=httpx.Limits(max_connections=64))  # fmt: skip
        key = settings.history_api_key
        self._history_headers = {"X-API-Key": key.get_secret_value()} if key else {}
        self.cache = TtlCache(max_entries=4096)  # three answers per card of 514 regions, the rankings, alerts

    async def close(self) -> None:
        await self.client.aclose()

    async def _get(self, service: str, url: str, params: Mapping[str, Any] | None = None,
                   headers: Mapping[str, str] | None = None) -> Any:  # fmt: skip
        try:
            r = await self.client.get(url, params={k: v for k, v in (params or {}).items() if v is not None},
                                      headers=headers)  # fmt: skip
        except httpx.TimeoutException:
            raise Unavailable(service, f"no answer within {self.settings.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise Unavailable(service, f"cannot be reached ({type(exc).__name__})") from None
        if r.status_code == 404:
            raise NotFound(_message(r))
        if r.status_code >= 400:
            raise Unavailable(service, f"answered {r.status_code}: {_message(r)}")
        return orjson.loads(r.content)

    def _ttl(self, on: dt.date | None) -> float:
        today = dt.datetime.now(dt.UTC).date()
        return self.settings.past_cache_s if on is not None and on < today else self.settings.cache_s

    async def _history(self, path: str, params: Mapping[str, Any] | None = None, ttl: float | None = None) -> Any:
        key = (path, tuple(sorted((params or {}).items())))

        async def load() -> Any:
            return await self._get("history", self.settings.history_url + path, params, self._history_headers)

        return await self.cache.get(key, self.settings.cache_s if ttl is None else ttl, load)

    # ----------------------------------------------------------------------------- history API
    async def ranking(self, on: dt.date | None = None) -> Json:
        """Every scored region as of ``on`` (default: today)."""
        body: Json = await self._history("/v1/ranking", {"on": on and on.isoformat()}, self._ttl(on))
        return body

    async def progress(self, start: dt.date, end: dt.date) -> Json:
        """The programme by month from ``start`` to ``end``."""
        params = {"from": start.isoformat(), "to": end.isoformat(), "resolution": "month"}
        body: Json = await self._history("/v1/programme/progress", params, self._ttl(end))
        return body

    async def series(self, code: str, start: dt.date, end: dt.date, resolution: str = "month") -> Json:
        params = {"from": start.isoformat(), "to": end.isoformat(), "resolution": resolution}
        body: Json = await self._history(f"/v1/regions/{code}/history", params)
        return body

    async def open_alerts(self, *, province: str | None = None, region: str | None = None) -> Json:
        body: Json = await self._history("/v1/alerts", {"province": province, "region": region})
        return body

    async def alert(self, alert_id: str, *, missing_ok: bool = False) -> Json | None:
        """One alert with its transitions (None with ``missing_ok`` when the history has no such alert)."""
        try:
            body: Json = await self._history(f"/v1/alerts/{quote(alert_id, safe='')}", ttl=0)
        except NotFound:
            if missing_ok:
                return None
            raise
        return body

    async def plan(self, code: str) -> Json | None:
        """The region's masterplan as the history store knows it (None: it has none)."""
        try:
            body: Json = await self._history(f"/v1/regions/{code}/plan")
        except NotFound:
            return None
        return body

    # ----------------------------------------------------------------------------- scoring
    async def score(self, code: str) -> Json | None:
        """The region's score now with its indicators (None: scoring has no events of it yet)."""
        try:
            url = f"{self.settings.scoring_url}/scores/{code}"
            body: Json = await self.cache.get(("score", code), min(self.settings.cache_s, 10.0),
                                              lambda: self._get("scoring", url))  # fmt: skip
        except NotFound:
            return None
        return body

    # ----------------------------------------------------------------------------- alerts
    async def live_alert(self, alert_id: str, token: str | None) -> LiveAlert:
        """The alert as the alerts worker holding it knows it now (with ``token``: the link checked too).
        A page waits for it at most ``WEB_ALERTS_PAGE_TIMEOUT_S``, then shows what the history has."""
        path = "ack" if token else "alerts"
        url = f"{self.settings.alerts_url}/{path}/{quote(alert_id, safe='')}"
        try:
            r = await self.client.get(url, params={"token": token} if token else None,
                                      headers={"Accept": "application/json"},
                                      timeout=self.settings.alerts_page_timeout_s)  # fmt: skip
            body = orjson.loads(r.content)
        except httpx.HTTPError as exc:
            raise Unavailable("alerts", f"cannot be reached ({type(exc).__name__})") from None
        except orjson.JSONDecodeError:
            raise Unavailable("alerts", f"answered {r.status_code} without JSON") from None
        if r.status_code == 403:
            return LiveAlert(problem=str(body.get("problem", "bad.invalid")))
        if r.status_code == 404:
            return LiveAlert(missing=True)
        if r.status_code != 200:
            raise Unavailable("alerts", f"answered {r.status_code}")
        return LiveAlert(state=body)

    async def acknowledge(self, alert_id: str, token: str) -> AckAnswer:
        """Forward the button to the alerts service, which checks the token and records the acknowledgement."""
        url = f"{self.settings.alerts_url}/ack/{quote(alert_id, safe='')}"
        try:
            r = await self.client.post(url, data={"token": token}, headers={"Accept": "application/json"},
                                       timeout=self.settings.alerts_timeout_s)  # fmt: skip
        except httpx.HTTPError as exc:
            raise Unavailable("alerts", f"cannot be reached ({type(exc).__name__})") from None
        try:
            body = orjson.loads(r.content)
        except orjson.JSONDecodeError:
            raise Unavailable("alerts", f"answered {r.status_code} without JSON") from None
        if r.status_code == 200:
            key = "again" if body.get("already") else "ok"
            return AckAnswer(key, 200, body.get("region"), body.get("kind"), body=body)
        if r.status_code == 202:
            return AckAnswer("forwarded", 202, body.get("region"), body=body)
        if r.status_code == 403:
            error = str(body.get("error", ""))
            outcome = "expired" if "expired" in error else "other" if "another alert" in error else "invalid"
            return AckAnswer(outcome, 403, detail=error, body=body)
        if r.status_code == 404:
            return AckAnswer("resolved", 404, detail=str(body.get("error", "")), body=body)
        raise Unavailable("alerts", f"answered {r.status_code}: {str(body)[:200]}")


def _message(r: httpx.Response) -> str:
    try:
        body = orjson.loads(r.content)
    except orjson.JSONDecodeError:
        return r.text[:200]
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            if isinstance(body.get(key), str):
                return str(body[key])
        if isinstance(body.get("error"), dict):
            return str(body["error"].get("message", body["error"]))
    return str(body)[:200]
