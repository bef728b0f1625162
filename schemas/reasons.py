"""Every reason code Pantau gives, in one registry: why an event is refused, why a record is a dead letter.

Clients, dashboards and runbooks match on these strings (HTTP ``errors[].code``, the dead-letter header
``pantau.dlq.reason``, metric labels ``reason``): never rename one, only add. Pure constants.
"""

from __future__ import annotations

# ---- why an event cannot be used (HTTP answers, ingest metrics; schemas/validation.py)
UNDECODABLE = "undecodable"
UNKNOWN_FIELD = "unknown_field"
MISSING_FIELD = "missing_field"
NOT_FINITE = "not_finite"
INVALID_VALUE = "invalid_value"
UNKNOWN_REGION = "unknown_region"
KEY_MISMATCH = "key_mismatch"
UNKNOWN_INDICATOR = "unknown_indicator"
UNIT_MISMATCH = "unit_mismatch"
OUT_OF_BOUNDS = "out_of_bounds"
OBSERVED_IN_FUTURE = "observed_in_future"
OBSERVED_TOO_OLD = "observed_too_old"
NGSI_LD_INVALID = "ngsi_ld_invalid"

# ---- dead letters only (``pantau.dlq.reason``)
EMPTY_VALUE = "empty_value"
SCHEMA_INVALID = "schema_invalid"
INTERNAL_ERROR = "internal_error"
WRONG_PARTITION = "wrong_partition"
LATE = "late"

#: Each event problem code, with what it means.
PROBLEM_CODES: dict[str, str] = {
    UNDECODABLE: "not JSON at all",
    UNKNOWN_FIELD: "a field the contract does not have",
    MISSING_FIELD: "a required field is missing",
    NOT_FINITE: "a number that is NaN or infinite",
    INVALID_VALUE: "wrong type, pattern or length",
    UNKNOWN_REGION: "region_code is not one of the 514 kab/kota",
    KEY_MISMATCH: "the Kafka key is not the event's region_code",
    UNKNOWN_INDICATOR: "indicator_id is not in the framework",
    UNIT_MISMATCH: "unit is not the indicator's",
    OUT_OF_BOUNDS: "value outside the indicator's physical bounds",
    OBSERVED_IN_FUTURE: "observed_at too far ahead of the clock",
    OBSERVED_TOO_OLD: "observed_at too far before arrival",
    NGSI_LD_INVALID: "an NGSI-LD entity or notification that cannot be mapped to an indicator event",
}

#: The field-level schema codes; a dead letter names them all ``schema_invalid`` (its detail says which).
SCHEMA_CODES = frozenset({UNKNOWN_FIELD, MISSING_FIELD, NOT_FINITE, INVALID_VALUE})

#: Every reason a dead-letter record may carry, with what it means. ``schemas.dlq.dlq_headers`` refuses others.
DEAD_LETTER_REASONS: dict[str, str] = {
    **{code: text for code, text in PROBLEM_CODES.items() if code not in SCHEMA_CODES},
    EMPTY_VALUE: "a record without a value (a tombstone)",
    SCHEMA_INVALID: "the record breaks the contract (unknown, missing, non-finite or invalid field)",
    INTERNAL_ERROR: "the service failed on the record (a bug, logged with its traceback)",
    WRONG_PARTITION: "on a partition that does not own its key, and it could not be sent on",
    LATE: "a reading older than the allowed lateness behind what its region already has (scoring)",
}
