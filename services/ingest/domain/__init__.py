"""Pure logic of the ingest service: keys and scopes, validation of items, duplicates, adapters of formats.

Nothing here does I/O or imports Kafka, an HTTP framework or prometheus_client.
"""
