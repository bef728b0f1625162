#!/bin/sh
# The postgres image runs this once, when it initialises an empty volume (/docker-entrypoint-initdb.d,
# as POSTGRES_USER): Grafana's role, which may read the history store and nothing else. The history
# writer creates the tables later (its migrations, as POSTGRES_USER); the default privileges grant
# SELECT on each of them as it comes. Read-only sessions and a statement timeout keep a heavy panel
# from holding the writer up.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set=owner="$POSTGRES_USER" --set=db="$POSTGRES_DB" \
  --set=reader="${GRAFANA_DB_USER:-grafana_reader}" --set=password="$GRAFANA_DB_PASSWORD" <<'SQL'
CREATE ROLE :"reader" LOGIN PASSWORD :'password';
ALTER ROLE :"reader" SET default_transaction_read_only = on;
ALTER ROLE :"reader" SET statement_timeout = '30s';
GRANT CONNECT ON DATABASE :"db" TO :"reader";
GRANT USAGE ON SCHEMA public TO :"reader";
GRANT SELECT ON ALL TABLES IN SCHEMA public TO :"reader";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT ON TABLES TO :"reader";
SQL
