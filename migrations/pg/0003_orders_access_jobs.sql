-- tally schema, version 3, in PostgreSQL's dialect: what the direct providers,
-- the app-facing API, the jobs and the support console keep
-- (migrations/0003_orders_access_jobs.sql says what each table is for).
-- How this file differs from SQLite's, and why:
--   grants gains the source 'referral' by ALTER TABLE: PostgreSQL alters a
--     CHECK in place, where SQLite rebuilds the table (grants_v3, copied,
--     dropped, renamed). The constraint has PostgreSQL's own name for the
--     column's check made in 0001, grants_source_check. The columns, their
--     order, the keys and the three indexes of grants are the same either way.
--   INTEGER -> bigint, TEXT -> text, BLOB -> bytea; WITHOUT ROWID -> nothing
--     (as in 0001).
--   answers.inbox_id, the key borrowed from the inbox row: bigint PRIMARY
--     KEY, no identity (tally always gives it).

ALTER TABLE grants DROP CONSTRAINT grants_source_check,
	ADD CONSTRAINT grants_source_check CHECK (source = 'subscription' OR source = 'trial' OR
		source = 'pack' OR source = 'promo' OR source = 'admin' OR source = 'free' OR
		source = 'referral');
CREATE INDEX grants_expiry ON grants(expires_at) WHERE remaining > 0 AND expires_at > 0;

CREATE TABLE orders (
	id text PRIMARY KEY NOT NULL,
	provider text NOT NULL,
	user_id text NOT NULL REFERENCES users(id),
	product_id text NOT NULL,
	amount bigint NOT NULL CHECK (amount > 0),
	currency text NOT NULL,
	state text NOT NULL CHECK (state = 'pending' OR state = 'paid' OR state = 'refunded' OR
			state = 'expired' OR state = 'canceled'),
	live bigint NOT NULL DEFAULT 1 CHECK (live = 0 OR live = 1),
	provider_ref text,
	charge_id text,
	payment_id bigint REFERENCES payments(id),
	expires_at bigint NOT NULL,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	UNIQUE (provider, provider_ref),
	UNIQUE (provider, charge_id)
);
CREATE INDEX orders_user ON orders(user_id, created_at);
CREATE INDEX orders_pending ON orders(expires_at) WHERE state = 'pending';

ALTER TABLE users ADD COLUMN referrer_id text REFERENCES users(id);
CREATE INDEX users_referrer ON users(referrer_id) WHERE referrer_id IS NOT NULL;
ALTER TABLE users ADD COLUMN registered_at bigint NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN trial_used_at bigint NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN free_next_at bigint NOT NULL DEFAULT 0;
CREATE INDEX users_free_due ON users(free_next_at) WHERE free_next_at > 0;

CREATE TABLE referral_rewards (
	buyer_id text NOT NULL REFERENCES users(id),
	payment_id bigint NOT NULL REFERENCES payments(id),
	referrer_id text NOT NULL REFERENCES users(id),
	percent bigint NOT NULL CHECK (percent > 0 AND percent <= 100),
	credits bigint NOT NULL CHECK (credits >= 0),
	grant_id bigint REFERENCES grants(id),
	created_at bigint NOT NULL,
	PRIMARY KEY (buyer_id, payment_id)
);
CREATE INDEX referral_rewards_referrer ON referral_rewards(referrer_id, buyer_id);

ALTER TABLE subscriptions ADD COLUMN credits_next_at bigint NOT NULL DEFAULT 0;
CREATE INDEX subscriptions_credits_due ON subscriptions(credits_next_at) WHERE credits_next_at > 0;
CREATE INDEX subscriptions_grace_due ON subscriptions(grace_until) WHERE state = 'past_due';
CREATE INDEX subscriptions_period_due ON subscriptions(period_end) WHERE state = 'active' OR state = 'canceled';
CREATE INDEX subscriptions_trial_due ON subscriptions(trial_end) WHERE state = 'trialing';

CREATE TABLE api_keys (
	id text PRIMARY KEY NOT NULL,
	secret_hash bytea NOT NULL,
	name text NOT NULL,
	scopes text NOT NULL,
	created_at bigint NOT NULL,
	created_by text NOT NULL,
	revoked_at bigint NOT NULL DEFAULT 0,
	last_used_at bigint NOT NULL DEFAULT 0
);

CREATE TABLE answers (
	inbox_id bigint PRIMARY KEY REFERENCES inbox(id),
	request_hash text NOT NULL,
	status bigint NOT NULL,
	body text NOT NULL
);

CREATE TABLE metrics (
	name text NOT NULL,
	labels text NOT NULL DEFAULT '',
	value bigint NOT NULL,
	PRIMARY KEY (name, labels)
);

CREATE TABLE jobs (
	name text PRIMARY KEY NOT NULL,
	lease_owner text NOT NULL DEFAULT '',
	lease_until bigint NOT NULL DEFAULT 0,
	last_started_at bigint NOT NULL DEFAULT 0,
	last_success_at bigint NOT NULL DEFAULT 0,
	last_result text NOT NULL DEFAULT ''
);

CREATE TABLE admins (
	name text PRIMARY KEY NOT NULL,
	password_hash text NOT NULL,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL
);
CREATE TABLE sessions (
	token_hash bytea PRIMARY KEY NOT NULL,
	admin text NOT NULL,
	csrf text NOT NULL,
	created_at bigint NOT NULL,
	expires_at bigint NOT NULL
);
CREATE TABLE login_failures (
	who text PRIMARY KEY NOT NULL,
	count bigint NOT NULL,
	last_at bigint NOT NULL
);
