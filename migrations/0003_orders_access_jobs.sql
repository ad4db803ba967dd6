-- tally schema, version 3: what the direct providers, the app-facing API, the
-- jobs and the support console keep.
--   orders            purchases tally issues itself (Razorpay, Telegram, CryptoBot)
--   referral_rewards  credits earned by referrers, one per (buyer, payment)
--   users             registration (free tier), trial, referrer, next allowance
--   subscriptions     the next credit reset inside a longer paid period
--   api_keys          the app's keys, stored as hashes, with scopes
--   answers           the first answer to an idempotent API request
--   metrics           counters kept by the write path, read by /metrics
--   jobs              each job's lease and last run
--   admins, sessions, login_failures   the support console
-- and indexes through which the jobs find due work without scanning.
-- grants gains the source 'referral': SQLite cannot alter a CHECK, so the
-- table is rebuilt (the migration runs with foreign keys deferred to its end).

CREATE TABLE grants_v3 (
	id INTEGER PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users(id),
	source TEXT NOT NULL CHECK (source = 'subscription' OR source = 'trial' OR source = 'pack' OR
			source = 'promo' OR source = 'admin' OR source = 'free' OR source = 'referral'),
	subscription_id INTEGER REFERENCES subscriptions(id),
	payment_id INTEGER REFERENCES payments(id),
	product_id TEXT,
	amount INTEGER NOT NULL CHECK (amount >= 0),
	remaining INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
	expires_at INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);
INSERT INTO grants_v3 (id, user_id, source, subscription_id, payment_id, product_id, amount,
		remaining, expires_at, created_at)
	SELECT id, user_id, source, subscription_id, payment_id, product_id, amount, remaining,
		expires_at, created_at FROM grants;
DROP TABLE grants;
ALTER TABLE grants_v3 RENAME TO grants;
CREATE INDEX grants_live ON grants(user_id, expires_at) WHERE remaining > 0;
CREATE INDEX grants_sub ON grants(subscription_id) WHERE remaining > 0;
CREATE INDEX grants_payment ON grants(payment_id);
-- credits whose expiry has come (the grace-expiry job)
CREATE INDEX grants_expiry ON grants(expires_at) WHERE remaining > 0 AND expires_at > 0;

-- A purchase tally issues: the amount and currency come from the catalog, never
-- from the client; money moves only against it (invariant 4).
CREATE TABLE orders (
	id TEXT PRIMARY KEY NOT NULL,       -- tally's purchase id ("ord_" + random)
	provider TEXT NOT NULL,             -- razorpay, telegram, cryptobot, balance
	user_id TEXT NOT NULL REFERENCES users(id),
	product_id TEXT NOT NULL,           -- a catalog id
	amount INTEGER NOT NULL CHECK (amount > 0),
	currency TEXT NOT NULL,
	state TEXT NOT NULL CHECK (state = 'pending' OR state = 'paid' OR state = 'refunded' OR
			state = 'expired' OR state = 'canceled'),
	live INTEGER NOT NULL DEFAULT 1 CHECK (live = 0 OR live = 1),
	provider_ref TEXT,                  -- the provider's order or invoice id
	charge_id TEXT,                     -- the provider's id of the payment that paid it
	payment_id INTEGER REFERENCES payments(id),
	expires_at INTEGER NOT NULL,        -- a pending order is refused after this
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (provider, provider_ref),
	UNIQUE (provider, charge_id)
);
CREATE INDEX orders_user ON orders(user_id, created_at);
CREATE INDEX orders_pending ON orders(expires_at) WHERE state = 'pending';

-- A user's referrer, set once (never changed; no self-referral, no loop).
ALTER TABLE users ADD COLUMN referrer_id TEXT REFERENCES users(id);
CREATE INDEX users_referrer ON users(referrer_id) WHERE referrer_id IS NOT NULL;
-- Registered through the API (POST /v1/users/{id}): the free tier applies from then.
ALTER TABLE users ADD COLUMN registered_at INTEGER NOT NULL DEFAULT 0;
-- The app-managed trial was taken (once per user).
ALTER TABLE users ADD COLUMN trial_used_at INTEGER NOT NULL DEFAULT 0;
-- When the free tier's monthly allowance is next reset (0: none due).
ALTER TABLE users ADD COLUMN free_next_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX users_free_due ON users(free_next_at) WHERE free_next_at > 0;

CREATE TABLE referral_rewards (
	buyer_id TEXT NOT NULL REFERENCES users(id),
	payment_id INTEGER NOT NULL REFERENCES payments(id),
	referrer_id TEXT NOT NULL REFERENCES users(id),
	percent INTEGER NOT NULL CHECK (percent > 0 AND percent <= 100),
	credits INTEGER NOT NULL CHECK (credits >= 0),
	grant_id INTEGER REFERENCES grants(id),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (buyer_id, payment_id)
) WITHOUT ROWID;
CREATE INDEX referral_rewards_referrer ON referral_rewards(referrer_id, buyer_id);

-- Credits reset inside a paid period longer than the credit period (a yearly
-- plan with monthly credits): when the next reset is due (0: none).
ALTER TABLE subscriptions ADD COLUMN credits_next_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX subscriptions_credits_due ON subscriptions(credits_next_at) WHERE credits_next_at > 0;
-- Due work of the jobs: grace ends, period ends, trial ends.
CREATE INDEX subscriptions_grace_due ON subscriptions(grace_until) WHERE state = 'past_due';
CREATE INDEX subscriptions_period_due ON subscriptions(period_end) WHERE state = 'active' OR state = 'canceled';
CREATE INDEX subscriptions_trial_due ON subscriptions(trial_end) WHERE state = 'trialing';

-- The app's API keys: "tk_<id>_<secret>"; only the SHA-256 of the whole key is kept.
CREATE TABLE api_keys (
	id TEXT PRIMARY KEY NOT NULL,
	secret_hash BLOB NOT NULL,
	name TEXT NOT NULL,
	scopes TEXT NOT NULL,               -- comma-separated: read, spend, admin
	created_at INTEGER NOT NULL,
	created_by TEXT NOT NULL,
	revoked_at INTEGER NOT NULL DEFAULT 0,
	last_used_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- The first answer to an idempotent request (spend ...), written in the
-- transaction of its effects: the same key again gets the same answer.
CREATE TABLE answers (
	inbox_id INTEGER PRIMARY KEY REFERENCES inbox(id),
	request_hash TEXT NOT NULL,         -- hex SHA-256 of the request: another request under the key is refused
	status INTEGER NOT NULL,
	body TEXT NOT NULL
);

-- Counters for /metrics, added to by the write path in its own transactions.
CREATE TABLE metrics (
	name TEXT NOT NULL,
	labels TEXT NOT NULL DEFAULT '',
	value INTEGER NOT NULL,
	PRIMARY KEY (name, labels)
) WITHOUT ROWID;

-- Each job's lease (one runner at a time) and its last run.
CREATE TABLE jobs (
	name TEXT PRIMARY KEY NOT NULL,
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until INTEGER NOT NULL DEFAULT 0,
	last_started_at INTEGER NOT NULL DEFAULT 0,
	last_success_at INTEGER NOT NULL DEFAULT 0,
	last_result TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- The support console: admins with a slow salted password hash, sessions
-- (only the SHA-256 of the cookie is kept), failed logins to slow guessing.
CREATE TABLE admins (
	name TEXT PRIMARY KEY NOT NULL,
	password_hash TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE sessions (
	token_hash BLOB PRIMARY KEY NOT NULL,
	admin TEXT NOT NULL,
	csrf TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE login_failures (
	who TEXT PRIMARY KEY NOT NULL,      -- an admin name or a client address
	count INTEGER NOT NULL,
	last_at INTEGER NOT NULL
) WITHOUT ROWID;
