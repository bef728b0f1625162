"""The history store: score snapshots, alert transitions and plan versions in PostgreSQL (issue 13).

- ``config``: ``HistorySettings`` (``PANTAU_DATABASE_URL``, else the embedded local cluster);
- ``db``: engines (SQLAlchemy 2 over psycopg 3) and ``migrate`` (alembic, to head, at start);
- ``migrations/``: the versioned schema (alembic); ``alembic.ini`` for writing a new revision.
"""
