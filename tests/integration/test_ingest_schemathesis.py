"""Schemathesis (pinned in uv.lock) against the running ingest service's OpenAPI document.

It drives schemathesis's own engine (what ``schemathesis run`` does): its pytest loader for
fixtures does not work with pytest 9. Every built-in check runs, among them: not_a_server_error,
negative_data_rejection (invalid data rejected), positive_data_acceptance (valid data accepted) and
ignored_auth (a request without the key, or with a wrong one, must get 401), on every operation
(the NGSI-LD notification door included). Two things JSON Schema cannot say:

- an event time (``observed_at``, ``kpiValue.observedAt``) must lie within the service's time
  window, which moves with the clock. The document declares it (``x-pantau-window``: at most
  ``max_future`` ahead, at most ``max_age`` back); date-times are drawn from the window it declares,
  read from the document itself;
- a batch with some invalid items is answered 207 (the valid items are written, each invalid one is
  rejected with its field and code), so 207 is a correct answer to a batch that breaks the schema.
  200 never is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from pydantic import TypeAdapter
from schemathesis.transport import requests as schemathesis_requests

from tests.integration.test_ingest_support import Ingest, launch_ingest, wait_ready
from tests.schemathesis_support import run_all_phases

NDJSON = "application/x-ndjson"
NEGATIVE_EXPECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx", "207"]


def declared_window(doc: dict[str, Any]) -> tuple[timedelta, timedelta]:
    """(max_future, max_age) as the document declares them on observed_at (x-pantau-window)."""
    observed = doc["components"]["schemas"]["IndicatorEventIn"]["properties"]["observed_at"]
    window = observed["x-pantau-window"]
    durations = TypeAdapter(timedelta)
    return durations.validate_python(window["max_future"]), durations.validate_python(window["max_age"])


def _datetimes_within(max_future: timedelta, max_age: timedelta) -> st.SearchStrategy[str]:
    """Date-times inside the window for as long as the test runs (a day of margin at the old end)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    naive = st.datetimes(min_value=now - max_age + timedelta(days=1), max_value=now + max_future / 2)
    zones = st.sampled_from([UTC, *(datetime.now(UTC).astimezone().tzinfo,)])
    return st.builds(lambda d, tz: d.replace(tzinfo=UTC).astimezone(tz).isoformat(), naive, zones)


@schemathesis.serializer(NDJSON)
def _ndjson(_ctx: Any, value: Any) -> bytes:
    """A list of events becomes one line each; anything else is sent as a single line, as a client would."""
    lines = value if isinstance(value, list) else [value]
    return b"".join(json.dumps(v).encode() + b"\n" for v in lines)  # json: negative data has huge integers


@pytest.fixture(scope="module")
def ingest(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingest]:
    ing = launch_ingest(kafka_bootstrap, tmp_path_factory.mktemp("schemathesis"),
                        {"everything": {"regions": ["*"], "indicators": ["*"]}},
                        INGEST_RATE_LIMIT="1000000/minute", INGEST_VALIDATOR="false")  # fmt: skip
    wait_ready(ing)
    yield ing
    ing.proc.stop()


# Negative data includes bodies of megabytes (refused with 413); hypothesis warns about their repr.
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
def test_the_api_keeps_its_openapi_contract(ingest: Ingest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The phases of ``schemathesis run`` (examples, coverage, fuzzing, stateful), every check."""
    # grafana-client brings niquests, whose urllib3-future takes the place of urllib3 under requests; its pool
    # container has no .keys(), which schemathesis's count of open connections (used only to resend a request
    # on a dropped keep-alive connection) calls.
    monkeypatch.setattr(schemathesis_requests, "_count_opened_connections", lambda _session: 0)
    doc = requests.get(ingest.url + "/openapi.json", timeout=10).json()
    max_future, max_age = declared_window(doc)
    assert (max_future, max_age) == (timedelta(minutes=5), timedelta(days=3650))  # the service's defaults
    schemathesis.openapi.format("date-time", _datetimes_within(max_future, max_age))
    config = schemathesis.Config.from_dict({
        "generation": {"max-examples": 40},
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "checks": {"negative_data_rejection": {"expected-statuses": NEGATIVE_EXPECTED}},
        "headers": {"Authorization": f"Bearer {ingest.keys['everything']}"},
        "request-timeout": 30,
        # The coverage phase enumerates every enum value of every oneOf branch of the event schema (514
        # regions x 44 indicators): about 24,000 requests per POST operation, minutes each on two cores.
        # The POST operations get the fuzzing phase (positive and negative) instead; the others get all.
        "operations": [{"include-path-regex": "^/v1/(events|ngsi-ld)", "phases": {"coverage": {"enabled": False}}}],
    })  # fmt: skip
    schema = schemathesis.openapi.from_url(ingest.url + "/openapi.json", config=config)
    found = run_all_phases(schema)
    assert not found.failures, found.report()
    # The checks the issue names did run, on many requests.
    for name in ("not_a_server_error", "negative_data_rejection", "positive_data_acceptance", "ignored_auth"):
        assert found.checked[name] >= 10, (name, found.checked)
    assert found.operations["POST /v1/ngsi-ld/notify"] >= 2, found.operations  # positive and negative fuzzing at least
    print(dict(found.operations), dict(found.checked))
