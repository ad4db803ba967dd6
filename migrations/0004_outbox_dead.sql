-- tally schema, version 4: dead deliveries (the deliver job gave up) counted
-- and listed through an index of their own, not a scan of the outbox.
-- IF NOT EXISTS: a pre-release copy of migration 3 created it already.
-- Migrations are forward-only: a change to the schema is a new file, never
-- an edit of one a database may already have applied.

CREATE INDEX IF NOT EXISTS outbox_dead ON outbox(id) WHERE state = 'dead';
