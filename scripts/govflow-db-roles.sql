-- The governance DB's two roles, run once by a superuser (psql, connected to any database):
--   psql -v owner=govflow_owner -v owner_password=... -v app=govflow_app -v app_password=... \
--        -v dbname=govflow -f scripts/govflow-db-roles.sql
--
-- :owner  owns the database, its tables and the append-only triggers; only migrations
--         (`govflow db upgrade` in airflow-init) connect as it.
-- :app    what the api-server, scheduler, triggerer and workers connect as: reads and
--         writes rows, never DDL. Not the owner, so it cannot DROP TRIGGER, ALTER TABLE
--         or DISABLE TRIGGER; audit_events is SELECT + INSERT only (govflow-db-grants.sql).
\set ON_ERROR_STOP on

CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE :"app" LOGIN PASSWORD :'app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
CREATE DATABASE :"dbname" OWNER :"owner";

\connect :"dbname"
REVOKE ALL ON DATABASE :"dbname" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"dbname" TO :"app";
-- Only the owner creates objects; the app role may use the schema, nothing more.
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
