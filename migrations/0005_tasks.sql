-- tally schema, version 5: tasks, the work tally owes a provider once an
-- event has committed (Google Play's acknowledge and consume; later the
-- stores' answers to refund requests). A task is written by apply in the
-- transaction of the event that owes it (struct bev_task), tried at once
-- after the commit, then by the tasks job with backoff until it is done, is
-- given up, or its deadline passes; alerts go to the outbox.
--
-- (provider, kind, key) is unique: a second event owing the same work (a
-- redelivery, the app handing in a purchase the push then names again) adds
-- nothing. Which event made the task is inbox_id; its progress (attempts,
-- due_at, state, the alerts sent) is operational state that no event
-- records, kept apart from what `tally rebuild` compares.

CREATE TABLE tasks (
	id INTEGER PRIMARY KEY,
	provider TEXT NOT NULL,              -- whose API: "google"
	kind TEXT NOT NULL,                  -- "google_ack_sub", "google_ack_product", "google_consume"
	key TEXT NOT NULL,                   -- what it is about: the purchase token
	arg TEXT NOT NULL DEFAULT '',        -- what the call needs besides: the product id
	user_id TEXT REFERENCES users(id),   -- whose purchase, as the event found it
	inbox_id INTEGER REFERENCES inbox(id), -- the event that made it
	deadline INTEGER NOT NULL DEFAULT 0, -- after this the provider no longer takes it; 0 none
	near_at INTEGER NOT NULL DEFAULT 0,  -- still pending then: "deadline near" alerted; 0 never
	created_at INTEGER NOT NULL,
	due_at INTEGER NOT NULL,             -- the next try (or the end of a runner's claim)
	attempts INTEGER NOT NULL DEFAULT 0, -- tries claimed so far
	state TEXT NOT NULL DEFAULT 'pending' CHECK (state = 'pending' OR state = 'done' OR
			state = 'given_up'),
	last_error TEXT NOT NULL DEFAULT '', -- the last failure, or why it was given up or how done
	last_try_at INTEGER NOT NULL DEFAULT 0,
	done_at INTEGER NOT NULL DEFAULT 0,  -- when it left pending (done or given up)
	near_alerted_at INTEGER NOT NULL DEFAULT 0,
	late_alerted_at INTEGER NOT NULL DEFAULT 0,
	UNIQUE (provider, kind, key)
);
-- The tasks job's walks: tries due, and "deadline near" alerts due.
CREATE INDEX tasks_due ON tasks(due_at) WHERE state = 'pending';
CREATE INDEX tasks_near ON tasks(near_at) WHERE state = 'pending' AND near_alerted_at = 0 AND near_at > 0;
-- The tasks an event made, tried right after its commit.
CREATE INDEX tasks_inbox ON tasks(inbox_id) WHERE state = 'pending';
