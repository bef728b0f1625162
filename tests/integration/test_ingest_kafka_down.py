"""Kafka stopped: 503 with Retry-After, nothing of the refused requests is ever written, and a 2xx is
given only for what the broker acknowledged.

A broker of its own (the shared one is never stopped): started for these tests from the same jars on
free ports, stopped (SIGTERM), frozen (SIGSTOP) or killed (SIGKILL) while the service runs, then
started again on the same data. The tests check that the refused events did not reach the log *after*
the broker came back (which is what an idempotent producer that keeps retrying would do behind the
client's back), that a retry sent while the first attempt still waits for the frozen broker is not
answered ``duplicate`` (issue 11: it was, and the event was never written), and that across a crash
under load every event answered 2xx is in the topic exactly once. A closed port would only show that
nothing can be written while nothing can be reached.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from pantau.config import PlatformSettings
from pantau.kafka_local import LocalKafka
from tests.builders import an_event_doc
from tests.integration.helpers import free_port, http_get, metric, wait_for
from tests.integration.test_ingest_support import Answer, Ingest, StartIngest, request, start_ingest, wait_ready

__all__ = ["start_ingest"]

PRODUCE_TIMEOUT = 2.0
# Long enough that the broker's stop is noticed by a write (the producer path), not by the probe.
PROBE_INTERVAL = 30.0


@pytest.fixture
def own_broker(kafka_bootstrap: str, settings: PlatformSettings, tmp_path: Path) -> Iterator[LocalKafka]:
    shared = LocalKafka.from_settings(settings)
    shared.fetch()  # no-op when the jars are there (the session broker needed them)
    home = tmp_path / "kafka"
    home.mkdir()
    (home / "libs").symlink_to(shared.libs)
    broker = LocalKafka(home=home, port=free_port(), controller_port=free_port(), sasl_port=free_port())
    broker.up(timeout=120)
    yield broker
    broker.down()


def _doc(region: str) -> dict:
    return an_event_doc(
        event_id=str(uuid.uuid4()), region_code=region, observed_at=datetime.now(UTC).replace(microsecond=0).isoformat()
    )


def _ids(records: list) -> list[str]:
    return [orjson.loads(r.value)["event_id"] for r in records]


def test_broker_stopped_is_503_and_nothing_half_written(start_ingest: StartIngest, own_broker: LocalKafka) -> None:
    ing = start_ingest(
        {"all": {"regions": ["*"], "indicators": ["*"]}},
        bootstrap=own_broker.bootstrap,
        INGEST_PRODUCE_TIMEOUT=str(PRODUCE_TIMEOUT),
        INGEST_PROBE_INTERVAL=str(PROBE_INTERVAL),
        INGEST_RETRY_AFTER="7",
    )
    wait_ready(ing)
    key = ing.keys["all"]
    before = _doc("32.73")
    assert ing.post("/v1/events", before, key).status == 200

    assert own_broker.down()
    # The service still believes Kafka is up: the write itself must fail, within its timeout.
    batch = [_doc(r) for r in ("11.01", "32.73", "35.78", "73.71")]
    t0 = time.monotonic()
    refused = ing.post("/v1/events", batch, key)
    assert refused.status == 503, refused.body
    assert time.monotonic() - t0 < PRODUCE_TIMEOUT + 3
    assert refused.headers["retry-after"] == "7" and refused.body["error"]["code"] == "kafka_unavailable"
    assert [r["status"] for r in refused.body["results"]] == ["unavailable"] * 4 and refused.body["accepted"] == 0
    # Now it knows: refused at once, nothing even sent.
    t0 = time.monotonic()
    single = _doc("31.71")
    assert ing.post("/v1/events", single, key).status == 503
    assert time.monotonic() - t0 < 1.0
    ready = http_get(ing.url + "/readyz")
    assert ready[0] == 503 and orjson.loads(ready[1])["kafka"] is False
    assert metric(ing.metrics(), "pantau_ingest_kafka_up") == 0

    own_broker.up(timeout=120)
    wait_ready(ing, timeout=PROBE_INTERVAL + 60)
    time.sleep(PRODUCE_TIMEOUT + 3)  # time for anything still queued somewhere to land, if it could
    assert _ids(ing.events()) == [before["event_id"]]

    # The client sends the refused requests again: each event is written exactly once.
    again = ing.post("/v1/events", batch, key)
    assert again.status == 200 and again.body["accepted"] == 4
    assert ing.post("/v1/events", single, key).status == 200
    expected = sorted([before["event_id"], single["event_id"], *(d["event_id"] for d in batch)])
    got = wait_for("6 events", lambda: (ids := sorted(_ids(ing.events()))) == expected and ids, timeout=30)
    assert got == expected


def _kill(broker: LocalKafka) -> None:
    """SIGKILL the broker (a crash; also what stops a frozen one) and wait until it is gone."""
    pid = broker.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_for("the broker to be gone", lambda: broker.pid() is None and not broker.answers(timeout=0.5), timeout=30)


def _post_until_answered(ing: Ingest, doc: dict, key: str, timeout: float = 90) -> Answer:
    """POST until the answer is not 503 (what a client does with Retry-After)."""
    deadline = time.monotonic() + timeout
    while True:
        got = ing.post("/v1/events", doc, key)
        if got.status != 503 or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


def test_a_retry_while_the_broker_is_frozen_is_503_like_the_first(
    start_ingest: StartIngest, own_broker: LocalKafka
) -> None:
    """Issue 11's race: freeze the broker, POST X, POST X again 0.5 s later, stop the broker.

    Before the fix the retry was answered '200 duplicate' at once and X never reached the log. Now the
    retry waits for the first attempt and gets its outcome: 503 for both. X stays in doubt until the
    service has read the topic back after the restart (it is not there: the broker was killed frozen,
    with the request unread); then X is accepted, and the topic has it exactly once."""
    ing = start_ingest(
        {"all": {"regions": ["*"], "indicators": ["*"]}},
        bootstrap=own_broker.bootstrap,
        INGEST_PRODUCE_TIMEOUT=str(PRODUCE_TIMEOUT),
        INGEST_PROBE_INTERVAL=str(PROBE_INTERVAL),
    )
    wait_ready(ing)
    key = ing.keys["all"]
    before, x = _doc("32.73"), _doc("32.73")
    assert ing.post("/v1/events", before, key).status == 200

    pid = own_broker.pid()
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    answers: dict[str, tuple[Answer, float]] = {}

    def send(name: str) -> None:
        t0 = time.monotonic()
        answers[name] = (ing.post("/v1/events", x, key), time.monotonic() - t0)

    first = threading.Thread(target=send, args=("first",))
    first.start()
    time.sleep(0.5)
    retry = threading.Thread(target=send, args=("retry",))
    retry.start()
    time.sleep(0.5)
    _kill(own_broker)  # stopped while frozen: what it had not read is gone
    first.join(30)
    retry.join(30)
    for name in ("first", "retry"):
        answer, took = answers[name]
        assert answer.status == 503, (name, answer.body)
        assert answer.body["results"][0]["status"] == "unavailable" and answer.body["duplicates"] == 0
        assert took < PRODUCE_TIMEOUT + 2, (name, took)  # the retry waited for the first, no longer
    assert answers["retry"][1] > 0.5  # it waited: it did not answer before the first attempt's outcome

    own_broker.up(timeout=120)
    wait_ready(ing, timeout=PROBE_INTERVAL + 60)
    again = _post_until_answered(ing, x, key)
    assert again.status == 200 and again.body["results"][0]["status"] == "accepted", again.body
    assert ing.post("/v1/events", x, key).body["results"][0]["status"] == "duplicate"
    counts = Counter(_ids(ing.events()))
    assert counts == {before["event_id"]: 1, x["event_id"]: 1}
    assert metric(ing.metrics(), "pantau_ingest_events_in_doubt_total", resolution="not_written") == 1


CLIENTS = 4
CLIENT_TIMEOUT = 1.0  # shorter than the produce timeout: clients retry while the first attempt still waits


def test_every_event_answered_2xx_across_a_crash_is_in_the_topic_once(
    start_ingest: StartIngest, own_broker: LocalKafka
) -> None:
    """Clients POST single events in a loop and retry the same event on 503, on a dropped connection and
    on their own (short) timeout, while the broker is killed under them and restarted. Every event is
    answered 2xx in the end; each is in the topic exactly once, and nothing else is."""
    ing = start_ingest(
        {"all": {"regions": ["*"], "indicators": ["*"]}},
        bootstrap=own_broker.bootstrap,
        INGEST_PRODUCE_TIMEOUT=str(PRODUCE_TIMEOUT),
        INGEST_PROBE_INTERVAL="0.5",
        INGEST_RETRY_AFTER="1",
    )
    wait_ready(ing)
    key = ing.keys["all"]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    regions = ("11.01", "32.73", "35.78", "51.71", "73.71", "91.71")
    stop = threading.Event()
    sent: dict[str, dict] = {}
    answered: dict[str, str] = {}  # event id -> status of its first 2xx answer
    tries: Counter[str] = Counter()
    lock = threading.Lock()

    def send(doc: dict) -> bool:
        """One attempt; True when answered 2xx."""
        try:
            got = request("POST", ing.url + "/v1/events", orjson.dumps(doc), headers, timeout=CLIENT_TIMEOUT)
        except OSError as exc:  # timed out or dropped: the outcome is unknown, send it again
            with lock:
                tries[type(exc).__name__] += 1
            return False
        with lock:
            tries[str(got.status)] += 1
        if got.status == 200:
            with lock:
                answered.setdefault(doc["event_id"], got.body["results"][0]["status"])
            return True
        assert got.status == 503, got.body
        time.sleep(0.2)
        return False

    def client(n: int) -> None:
        i = 0
        while not stop.is_set():
            doc = _doc(regions[(n + i) % len(regions)])
            i += 1
            with lock:
                sent[doc["event_id"]] = doc
            while not stop.is_set() and not send(doc):
                pass

    with ThreadPoolExecutor(CLIENTS) as pool:
        running = [pool.submit(client, n) for n in range(CLIENTS)]
        time.sleep(3)
        _kill(own_broker)
        time.sleep(4)
        own_broker.up(timeout=120)
        wait_ready(ing, timeout=60)
        time.sleep(3)
        stop.set()
        for f in running:
            f.result()
    # The events the stop cut off: sent again until answered, as their clients would.
    for event_id in [e for e in sent if e not in answered]:
        deadline = time.monotonic() + 60
        while not send(sent[event_id]):
            assert time.monotonic() < deadline, f"{event_id} never answered 2xx"
    assert tries["503"] > 0, tries  # the outage was felt
    counts = Counter(_ids(ing.events()))
    assert set(counts) == set(sent), (len(counts), len(sent))
    assert {e: n for e, n in counts.items() if n != 1} == {}
    print(
        f"{len(sent)} events, attempts {dict(tries)}, first 2xx {dict(Counter(answered.values()))}, "
        f"in doubt: written {metric(ing.metrics(), 'pantau_ingest_events_in_doubt_total', resolution='written')}, "
        f"not written {metric(ing.metrics(), 'pantau_ingest_events_in_doubt_total', resolution='not_written')}"
    )


def test_a_write_the_broker_appends_after_the_503_is_found_and_not_written_twice(
    start_ingest: StartIngest, own_broker: LocalKafka
) -> None:
    """The case the abandoned producer cannot prevent: the request is on the wire (in the frozen broker's
    socket buffer) when the service gives up and answers 503; resumed, the broker appends it. The event
    was in doubt, not refused: the service reads the topic back once the broker answers, finds it, and
    the client's retry is a duplicate. (Releasing the id at the 503, as before, wrote it twice.)"""
    ing = start_ingest(
        {"all": {"regions": ["*"], "indicators": ["*"]}},
        bootstrap=own_broker.bootstrap,
        INGEST_PRODUCE_TIMEOUT=str(PRODUCE_TIMEOUT),
        INGEST_PROBE_INTERVAL="0.5",
    )
    wait_ready(ing)
    key = ing.keys["all"]
    x = _doc("32.73")
    pid = own_broker.pid()
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        first = ing.post("/v1/events", x, key)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert first.status == 503 and first.body["results"][0]["status"] == "unavailable"
    again = _post_until_answered(ing, x, key)
    assert again.status == 200 and again.body["results"][0]["status"] == "duplicate", again.body
    assert _ids(ing.events()) == [x["event_id"]]
    text = ing.metrics()
    assert metric(text, "pantau_ingest_events_in_doubt_total", resolution="written") == 1
    assert metric(text, "pantau_ingest_events_in_doubt_total", resolution="not_written") == 0
