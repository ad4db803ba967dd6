-- tally schema, version 2, in PostgreSQL's dialect (migrations/0002_stores_and_merges.sql
-- says what it adds). No difference but the types: TEXT -> text.

ALTER TABLE subscriptions ADD COLUMN store text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN merged_into text REFERENCES users(id);
