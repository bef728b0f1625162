import json
import math
from datetime import datetime

import pytest
from pydantic import ValidationError

from schemas import export
from schemas.events import IndicatorEvent
from schemas.masterplan import Masterplan, ProgrammeStatus
from schemas.topics import TOPICS, topic
from tests.builders import an_indicator_event


def test_event_round_trips_through_json() -> None:
    ev = an_indicator_event(attributes={"station": "dago"})
    assert IndicatorEvent.model_validate_json(ev.model_dump_json()) == ev


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("value", math.nan, "finite"),
        ("value", math.inf, "finite"),
        ("observed_at", datetime(2026, 1, 1, 8, 0), "timezone"),
        ("region_code", "3273", "pattern"),
        ("indicator_id", "pm25", "pattern"),
        ("event_id", "not-a-uuid", "UUID"),
        ("unit", "", "at least 1"),
    ],
)
def test_event_rejects_bad_field_naming_it(field: str, value: object, needle: str) -> None:
    with pytest.raises(ValidationError) as exc:
        an_indicator_event(**{field: value})
    err = exc.value.errors()[0]
    assert err["loc"] == (field,)
    assert needle.lower() in err["msg"].lower()


def test_event_forbids_unknown_fields() -> None:
    data = json.loads(an_indicator_event().model_dump_json())
    data["is_admin"] = True
    with pytest.raises(ValidationError) as exc:
        IndicatorEvent.model_validate(data)
    assert exc.value.errors()[0]["loc"] == ("is_admin",)
    assert exc.value.errors()[0]["type"] == "extra_forbidden"


def test_event_attributes_are_bounded() -> None:
    with pytest.raises(ValidationError, match="at most 16 attributes"):
        an_indicator_event(attributes={f"k{i}": "v" for i in range(17)})
    with pytest.raises(ValidationError):
        an_indicator_event(attributes={"k": "x" * 257})


def test_event_is_frozen() -> None:
    ev = an_indicator_event()
    with pytest.raises(ValidationError):
        ev.value = 3.0  # type: ignore[misc]


def test_masterplan_sorts_milestones_and_rejects_duplicate_dates() -> None:
    plan = Masterplan(
        region_code="32.73",
        plan_id="bandung-2029",
        basis="region",
        framework_id="pp59_2022",
        milestones=[
            {"due": "2029-12-31", "targets": {"index": 4.0}},
            {"due": "2027-12-31", "targets": {"index": 3.5, "governance": 3.8}},
        ],
    )
    assert [m.due.year for m in plan.milestones] == [2027, 2029]
    with pytest.raises(ValidationError, match="share a due date"):
        Masterplan(
            region_code="32.73",
            plan_id="p",
            basis="region",
            framework_id="pp59_2022",
            milestones=[{"due": "2027-12-31", "targets": {"index": 3}}] * 2,
        )
    with pytest.raises(ValidationError, match="less than or equal to 5"):
        Masterplan(
            region_code="32.73", plan_id="p", basis="region", framework_id="pp59_2022",
            milestones=[{"due": "2027-12-31", "targets": {"index": 5.5}}],
        )  # fmt: skip


def test_programme_status_needs_adoption_for_a_date() -> None:
    with pytest.raises(ValidationError, match="masterplan_adopted is false"):
        ProgrammeStatus(cohort_year=2017, masterplan_adopted=False, adopted_on="2018-03-01")


def test_topic_registry_is_co_partitioned_and_compacts_plans() -> None:
    names = {t.name for t in TOPICS}
    assert names == {
        "indicator-events.raw", "indicator-events", "indicator-events.dlq",
        "region-scores", "masterplan-milestones", "maturity-alerts", "alert-acks", "alerts.dlq",
        "history.dlq",
    }  # fmt: skip
    # Joined topics must have the same partition count; every topic is keyed by region.
    assert len({t.partitions for t in TOPICS}) == 1
    assert all(t.key == "region_code" for t in TOPICS)
    assert topic("masterplan-milestones").cleanup_policy == "compact"
    assert topic("indicator-events").configs() == {"cleanup.policy": "delete", "retention.ms": "-1"}


def test_exported_json_schemas_match_the_models() -> None:
    for path, text in export.expected_files().items():
        assert path.exists(), f"{path} missing: run 'make schemas'"
        assert path.read_text(encoding="utf-8") == text, f"{path} drifted from the model: run 'make schemas'"


def test_exported_event_schema_describes_the_contract() -> None:
    schema = json.loads((export.JSON_DIR / "indicator-event.schema.json").read_text())
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"event_id", "region_code", "indicator_id", "value", "unit",
                                       "observed_at", "source"}  # fmt: skip
