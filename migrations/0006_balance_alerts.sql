-- tally schema, version 6: where each user's balance stands against the
-- alert thresholds (config balance_alerts), so that balance.low and
-- balance.empty go out once per crossing. Written by apply, in the
-- transaction that changes the balance; the next change reads it back.
--   state       'ok' (at or above the low threshold), 'low' (below it, above
--               zero) or 'empty' (zero), as of the last change
--   balance     the live balance then, threshold the low threshold then
--               (credits; 0 when none applied)
--   inbox_id    the event whose change set the state
-- A user without a row has never had a balance change evaluated.

CREATE TABLE balance_alerts (
	user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id),
	state TEXT NOT NULL CHECK (state = 'ok' OR state = 'low' OR state = 'empty'),
	balance INTEGER NOT NULL,
	threshold INTEGER NOT NULL,
	inbox_id INTEGER REFERENCES inbox(id),
	changed_at INTEGER NOT NULL
) WITHOUT ROWID;
