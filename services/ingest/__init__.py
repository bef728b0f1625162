"""The ingest service: authenticated HTTP intake and the raw-topic validator, both writing indicator-events."""
