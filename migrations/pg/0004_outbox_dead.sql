-- tally schema, version 4, in PostgreSQL's dialect (migrations/0004_outbox_dead.sql
-- says what it adds).
-- How this file differs from SQLite's: no IF NOT EXISTS. SQLite's guards
-- against a pre-release copy of migration 3 that made the index already;
-- no PostgreSQL database was ever made by that copy.

CREATE INDEX outbox_dead ON outbox(id) WHERE state = 'dead';
