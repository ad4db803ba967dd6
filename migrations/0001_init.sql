-- tally schema, version 1: users and their provider ids, the inbox of every
-- verified event, subscriptions and entitlements, payments and their business
-- keys, the credit ledger, the audit trail and the outbox.
-- Times are INTEGER milliseconds since the Unix epoch (UTC). Money is INTEGER
-- in the currency's smallest unit. Credits are INTEGER.
-- Enumerations are checked as "x = 'a' OR x = 'b' ...": SQLite evaluates
-- "x IN ('a', 'b', 'c')" of three or more constants by building a temporary
-- index on every row written, which made it the largest cost of a write.

CREATE TABLE users (
	id TEXT PRIMARY KEY NOT NULL,
	created_at INTEGER NOT NULL
);

-- The ids under which a provider knows a user (Stripe customer, Apple
-- appAccountToken ...). One provider id belongs to one user.
CREATE TABLE links (
	provider TEXT NOT NULL,
	kind TEXT NOT NULL,
	ext_id TEXT NOT NULL,
	user_id TEXT NOT NULL REFERENCES users(id),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (provider, kind, ext_id)
) WITHOUT ROWID;
CREATE INDEX links_user ON links(user_id);

-- Every verified event, raw body included, stored in the transaction of its
-- effects (invariant 1). (provider, event_id) is the dedup key (invariant 2).
CREATE TABLE inbox (
	id INTEGER PRIMARY KEY,
	provider TEXT NOT NULL,
	event_id TEXT NOT NULL,
	type TEXT NOT NULL,
	live INTEGER NOT NULL CHECK (live = 0 OR live = 1),
	event_at INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	state TEXT NOT NULL CHECK (state = 'applied' OR state = 'ignored' OR state = 'orphaned' OR
			state = 'unknown_product' OR state = 'failed'),
	reason TEXT NOT NULL DEFAULT '',
	user_id TEXT,
	-- what would resolve an orphan: a link (provider, kind, ext_id) or a payment key
	orphan_kind TEXT,
	orphan_id TEXT,
	attempts INTEGER NOT NULL DEFAULT 1,
	UNIQUE (provider, event_id)
);
CREATE INDEX inbox_attention ON inbox(state, id) WHERE state = 'orphaned' OR state = 'unknown_product' OR state = 'failed';
CREATE INDEX inbox_orphan ON inbox(provider, orphan_kind, orphan_id) WHERE state = 'orphaned';
CREATE INDEX inbox_user ON inbox(user_id, id);

-- The raw body of each event, written once when it arrives: recording the
-- event's outcome then updates a small inbox row, not the body.
CREATE TABLE inbox_bodies (
	inbox_id INTEGER PRIMARY KEY REFERENCES inbox(id),
	body BLOB NOT NULL
);

CREATE TABLE subscriptions (
	id INTEGER PRIMARY KEY,
	provider TEXT NOT NULL,
	ext_id TEXT NOT NULL,
	user_id TEXT NOT NULL REFERENCES users(id),
	product_id TEXT NOT NULL,
	state TEXT NOT NULL CHECK (state = 'incomplete' OR state = 'trialing' OR state = 'active' OR
			state = 'canceled' OR state = 'past_due' OR state = 'paused' OR state = 'expired' OR
			state = 'revoked' OR state = 'refunded'),
	live INTEGER NOT NULL CHECK (live = 0 OR live = 1),
	period_start INTEGER NOT NULL DEFAULT 0,
	period_end INTEGER NOT NULL DEFAULT 0,
	trial_end INTEGER NOT NULL DEFAULT 0,
	grace_until INTEGER NOT NULL DEFAULT 0,
	cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
	-- end of the latest period whose credits were granted (stale renewals are not granted again)
	credits_through INTEGER NOT NULL DEFAULT 0,
	-- provider time and lifecycle rank of the event that set the state (invariant 3)
	state_at INTEGER NOT NULL,
	state_rank INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (provider, ext_id)
);
CREATE INDEX subscriptions_user ON subscriptions(user_id);

-- What a user may do, and why. Rows of a subscription follow its access.
CREATE TABLE entitlements (
	id INTEGER PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users(id),
	name TEXT NOT NULL,
	source TEXT NOT NULL,
	subscription_id INTEGER REFERENCES subscriptions(id),
	active INTEGER NOT NULL CHECK (active = 0 OR active = 1),
	ends_at INTEGER NOT NULL DEFAULT 0,
	updated_at INTEGER NOT NULL,
	UNIQUE (user_id, name, source)
);
CREATE INDEX entitlements_sub ON entitlements(subscription_id);

-- Money received. A payment has one or more business keys (invoice,
-- payment intent, charge ...): two events about one payment grant once.
CREATE TABLE payments (
	id INTEGER PRIMARY KEY,
	provider TEXT NOT NULL,
	user_id TEXT NOT NULL REFERENCES users(id),
	product_id TEXT,
	subscription_id INTEGER REFERENCES subscriptions(id),
	kind TEXT NOT NULL CHECK (kind = 'initial' OR kind = 'renewal' OR kind = 'change' OR
			kind = 'other' OR kind = 'one_off'),
	amount INTEGER NOT NULL,
	currency TEXT NOT NULL,
	live INTEGER NOT NULL CHECK (live = 0 OR live = 1),
	state TEXT NOT NULL CHECK (state = 'paid' OR state = 'refunded' OR state = 'disputed'),
	inbox_id INTEGER REFERENCES inbox(id),
	created_at INTEGER NOT NULL
);
CREATE INDEX payments_user ON payments(user_id);

CREATE TABLE payment_keys (
	provider TEXT NOT NULL,
	key TEXT NOT NULL,
	payment_id INTEGER NOT NULL REFERENCES payments(id),
	PRIMARY KEY (provider, key)
) WITHOUT ROWID;

-- Credit grants: each a lot with its own expiry. remaining always equals the
-- sum of the lot's ledger entries (invariant 8, checked by tally verify).
CREATE TABLE grants (
	id INTEGER PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users(id),
	source TEXT NOT NULL CHECK (source = 'subscription' OR source = 'trial' OR source = 'pack' OR
			source = 'promo' OR source = 'admin' OR source = 'free'),
	subscription_id INTEGER REFERENCES subscriptions(id),
	payment_id INTEGER REFERENCES payments(id),
	product_id TEXT,
	amount INTEGER NOT NULL CHECK (amount >= 0),
	remaining INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
	expires_at INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);
CREATE INDEX grants_live ON grants(user_id, expires_at) WHERE remaining > 0;
CREATE INDEX grants_sub ON grants(subscription_id) WHERE remaining > 0;
CREATE INDEX grants_payment ON grants(payment_id);

CREATE TABLE ledger (
	id INTEGER PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users(id),
	grant_id INTEGER NOT NULL REFERENCES grants(id),
	amount INTEGER NOT NULL,
	kind TEXT NOT NULL CHECK (kind = 'grant' OR kind = 'spend' OR kind = 'reset' OR kind = 'expire' OR
			kind = 'clawback' OR kind = 'revoke'),
	reason TEXT NOT NULL DEFAULT '',
	actor TEXT NOT NULL,
	inbox_id INTEGER REFERENCES inbox(id),
	created_at INTEGER NOT NULL
);
CREATE INDEX ledger_user ON ledger(user_id, id);

-- Who did what, when and why, for every change (invariant 9).
CREATE TABLE audit (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	actor TEXT NOT NULL,
	user_id TEXT,
	action TEXT NOT NULL,
	object TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	inbox_id INTEGER REFERENCES inbox(id)
);
CREATE INDEX audit_user ON audit(user_id, id);

-- Side effects that can fail, written with the change that causes them and
-- delivered by a job (invariant 7). dedup_key makes a second write a no-op.
CREATE TABLE outbox (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind = 'webhook' OR kind = 'notify' OR kind = 'alert'),
	topic TEXT NOT NULL,
	user_id TEXT,
	dedup_key TEXT NOT NULL UNIQUE,
	payload TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'pending' CHECK (state = 'pending' OR state = 'sent' OR
			state = 'dead'),
	attempts INTEGER NOT NULL DEFAULT 0,
	next_at INTEGER NOT NULL,
	last_error TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox(next_at) WHERE state = 'pending';
