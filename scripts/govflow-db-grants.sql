-- Row privileges of the service role, run as the owner after every `govflow db upgrade`:
--   psql "$OWNER_URL" -v app=govflow_app -f scripts/govflow-db-grants.sql
-- Idempotent. The audit trail is append-only for the service: INSERT and SELECT only
-- (the PostgreSQL trigger refuses UPDATE/DELETE too, and only the owner could drop it).
\set ON_ERROR_STOP on

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM :"app";
-- The migration state is the owner's: the service can read which revision it runs on.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON govflow_alembic_version FROM :"app";
