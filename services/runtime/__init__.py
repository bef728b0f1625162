"""The runtime every Pantau service shares, below the services and above the contracts (schemas/).

- ``settings``: the cluster connection (``KAFKA_*``, with SASL and TLS) and the base of each service's settings;
- ``logs``: structured logs;
- ``topics``: topic admin (create, drift, changelogs); ``kafka_io``: read a topic to its end, a safe producer;
- ``errors``: the one processing-error policy (dlq / crash / skip) and the dead-letter record it writes;
- ``faust_app``: faust apps on Pantau's defaults; ``faust_seam``: the only code that touches faust's and
  aiokafka's private API (docs/decisions/0006-the-faust-seam.md).

Nothing here imports a service or the command line.
"""
