#!/bin/sh
# PostgreSQL container init (docker-entrypoint-initdb.d): govflow's governance DB beside Airflow's,
# owned by a migration role, used by the services through a role that cannot change the schema.
# Passwords come from .env (`make compose-env`); there are no defaults.
set -eu
: "${GOVFLOW_DB_OWNER_PASSWORD:?run make compose-env}"
: "${GOVFLOW_DB_APP_PASSWORD:?run make compose-env}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner=govflow_owner -v owner_password="$GOVFLOW_DB_OWNER_PASSWORD" \
  -v app=govflow_app -v app_password="$GOVFLOW_DB_APP_PASSWORD" \
  -v dbname=govflow \
  -f /govflow-scripts/govflow-db-roles.sql
