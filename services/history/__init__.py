"""The history store: score snapshots, alert transitions and plan versions in PostgreSQL (issue 13).

- ``config``: ``HistorySettings`` (``PANTAU_DATABASE_URL``, else the embedded local cluster; ``HISTORY_*``);
- ``db``: engines (SQLAlchemy 2 over psycopg 3) and ``migrate`` (alembic, to head, at start);
- ``migrations/``: the versioned schema (alembic); ``alembic.ini`` for writing a new revision;
- the writer (docs/history.md): ``domain/`` (pure: downsampling, rows from the contracts, one row per key),
  ``service/`` (a poll, one transaction; positions, outages, dead letters), ``adapters/`` (PostgreSQL,
  Kafka), ``bootstrap.py`` (the composition root), ``worker.py`` (``run_worker``), ``web.py``, ``metrics.py``.
"""
