-- tally schema, version 6, in PostgreSQL's dialect: where each user's balance
-- stands against the alert thresholds (migrations/0006_balance_alerts.sql
-- says what each column is for).
-- How this file differs from SQLite's: INTEGER -> bigint, TEXT -> text,
-- WITHOUT ROWID -> nothing, as in 0001.

CREATE TABLE balance_alerts (
	user_id text PRIMARY KEY NOT NULL REFERENCES users(id),
	state text NOT NULL CHECK (state = 'ok' OR state = 'low' OR state = 'empty'),
	balance bigint NOT NULL,
	threshold bigint NOT NULL,
	inbox_id bigint REFERENCES inbox(id),
	changed_at bigint NOT NULL
);
