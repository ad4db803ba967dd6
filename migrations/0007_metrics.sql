-- tally schema, version 7: revenue and subscription metrics (docs/metrics.md).
--   kpi_subs     what each subscription counts for now (paying with its monthly
--                amount, in a trial, neither) and what it has been through
--   sub_history  every change of that, with what it moved (the history the
--                subscriptions table, which keeps only the latest state, lacks)
--   refunds      money returned on a payment (or a refund reversed): when, how much
--   kpi_daily    the daily rollups: the sums of sub_history, payments, refunds and
--                the ledger by day, live, provider, product and currency
--   kpi_levels   the stocks (MRR, paying, trials) summed over every day: what they
--                are now, so that a recent range reads its own days, not all before
-- sub_history and refunds are written by the write path (lib/core/apply_kpi.c) in
-- the event's transaction; triggers add every new row of the four histories to
-- kpi_daily in that same transaction, whoever writes it. tally verify checks
-- that kpi_daily equals the sums of the histories; tally rebuild --metrics
-- computes it again from them.
-- A day is days since 1970-01-01 UTC of the event's time (the provider's time
-- of a webhook, the moment of tally's own events): inbox.event_at, or
-- received_at when the event carried no time. Money in the currency's smallest
-- unit, currency codes in capitals (Stripe's "usd" and Apple's "USD" are one).

CREATE TABLE kpi_subs (
	subscription_id INTEGER PRIMARY KEY REFERENCES subscriptions(id),
	status TEXT NOT NULL CHECK (status = 'none' OR status = 'trial' OR status = 'paying' OR
			status = 'free'),
	state TEXT NOT NULL,                -- the subscription's state when last seen
	product_id TEXT NOT NULL,           -- the product it counts under
	currency TEXT NOT NULL,             -- the currency of mrr ('' when not paying)
	mrr INTEGER NOT NULL,               -- its monthly amount while paying, else 0
	-- the latest payment for a full period: what it pays, for how long
	amount INTEGER NOT NULL DEFAULT 0,
	amount_currency TEXT NOT NULL DEFAULT '',
	months INTEGER NOT NULL DEFAULT 0,  -- the period in calendar months, or
	period_ms INTEGER NOT NULL DEFAULT 0, -- in ms when it is no whole number of months
	amount_at INTEGER NOT NULL DEFAULT 0, -- the time of that payment's event
	trial_at INTEGER NOT NULL DEFAULT 0,  -- its trial began (0: never had one)
	trial_product TEXT NOT NULL DEFAULT '',
	paid INTEGER NOT NULL DEFAULT 0 CHECK (paid = 0 OR paid = 1),       -- has been paying
	churned INTEGER NOT NULL DEFAULT 0 CHECK (churned = 0 OR churned = 1), -- stopped, not back
	at INTEGER NOT NULL                 -- the time of its last change
);

CREATE TABLE sub_history (
	id INTEGER PRIMARY KEY,
	subscription_id INTEGER NOT NULL REFERENCES subscriptions(id),
	at INTEGER NOT NULL,
	live INTEGER NOT NULL CHECK (live = 0 OR live = 1),
	provider TEXT NOT NULL,
	product_id TEXT NOT NULL,
	currency TEXT NOT NULL,
	status TEXT NOT NULL,               -- what the subscription counts for after the change
	-- what the change adds to the day's figures (the stocks as differences)
	mrr INTEGER NOT NULL DEFAULT 0,
	paying INTEGER NOT NULL DEFAULT 0,
	trials INTEGER NOT NULL DEFAULT 0,
	new_subs INTEGER NOT NULL DEFAULT 0,
	trial_starts INTEGER NOT NULL DEFAULT 0,
	conversions INTEGER NOT NULL DEFAULT 0,
	converted INTEGER NOT NULL DEFAULT 0, -- a conversion, on the day its trial began
	churn_voluntary INTEGER NOT NULL DEFAULT 0,
	churn_billing INTEGER NOT NULL DEFAULT 0,
	reactivations INTEGER NOT NULL DEFAULT 0,
	inbox_id INTEGER REFERENCES inbox(id)
);
CREATE INDEX sub_history_sub ON sub_history(subscription_id, id);

CREATE TABLE refunds (
	id INTEGER PRIMARY KEY,
	payment_id INTEGER NOT NULL REFERENCES payments(id),
	at INTEGER NOT NULL,
	kind TEXT NOT NULL CHECK (kind = 'full' OR kind = 'partial' OR kind = 'dispute' OR
			kind = 'reversal'),
	amount INTEGER NOT NULL,            -- returned, in the payment's currency; a reversal < 0
	count INTEGER NOT NULL CHECK (abs(count) = 1), -- 1, or -1 for a reversal
	inbox_id INTEGER REFERENCES inbox(id)
);
CREATE INDEX refunds_payment ON refunds(payment_id, id);

-- A subscription's payments, for its latest (refunds, the backfill below).
CREATE INDEX IF NOT EXISTS payments_sub ON payments(subscription_id, id)
	WHERE subscription_id IS NOT NULL;
-- A payment's keys: tally verify's payment_has_key looks each payment's up, which without
-- this walked every key for every payment (hours on a million subscriptions' payments).
CREATE INDEX IF NOT EXISTS payment_keys_payment ON payment_keys(payment_id);

CREATE TABLE kpi_daily (
	live INTEGER NOT NULL,
	day INTEGER NOT NULL,
	provider TEXT NOT NULL,
	product_id TEXT NOT NULL,
	currency TEXT NOT NULL,
	mrr INTEGER NOT NULL DEFAULT 0,
	paying INTEGER NOT NULL DEFAULT 0,
	trials INTEGER NOT NULL DEFAULT 0,
	new_subs INTEGER NOT NULL DEFAULT 0,
	trial_starts INTEGER NOT NULL DEFAULT 0,
	conversions INTEGER NOT NULL DEFAULT 0,
	converted INTEGER NOT NULL DEFAULT 0,
	churn_voluntary INTEGER NOT NULL DEFAULT 0,
	churn_billing INTEGER NOT NULL DEFAULT 0,
	reactivations INTEGER NOT NULL DEFAULT 0,
	payments INTEGER NOT NULL DEFAULT 0,
	revenue INTEGER NOT NULL DEFAULT 0,
	refunds INTEGER NOT NULL DEFAULT 0,
	refunded INTEGER NOT NULL DEFAULT 0,
	credits_granted INTEGER NOT NULL DEFAULT 0,
	credits_spent INTEGER NOT NULL DEFAULT 0,
	credits_expired INTEGER NOT NULL DEFAULT 0,
	credits_revoked INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (live, day, provider, product_id, currency)
) WITHOUT ROWID;

CREATE TABLE kpi_levels (
	live INTEGER NOT NULL,
	provider TEXT NOT NULL,
	product_id TEXT NOT NULL,
	currency TEXT NOT NULL,
	mrr INTEGER NOT NULL DEFAULT 0,
	paying INTEGER NOT NULL DEFAULT 0,
	trials INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (live, provider, product_id, currency)
) WITHOUT ROWID;

-- The rollups of what this database already holds: payments and the ledger
-- as they are, before the triggers exist.
INSERT INTO kpi_daily (live, day, provider, product_id, currency, payments, revenue)
	SELECT p.live, IFNULL((SELECT CASE WHEN i.event_at > 0 THEN i.event_at ELSE i.received_at END
			FROM inbox i WHERE i.id = p.inbox_id), p.created_at) / 86400000 AS d,
		p.provider, IFNULL(p.product_id, ''), upper(p.currency), SUM(p.amount > 0), SUM(p.amount)
	FROM payments p GROUP BY 1, 2, 3, 4, 5;
INSERT INTO kpi_daily (live, day, provider, product_id, currency, credits_granted, credits_spent,
		credits_expired, credits_revoked)
	SELECT IFNULL(s.live, IFNULL(p.live, 1)),
		IFNULL((SELECT CASE WHEN i.event_at > 0 THEN i.event_at ELSE i.received_at END
			FROM inbox i WHERE i.id = l.inbox_id), l.created_at) / 86400000,
		IFNULL(s.provider, IFNULL(p.provider, '')), IFNULL(g.product_id, ''), '',
		SUM(CASE WHEN l.kind = 'grant' THEN l.amount ELSE 0 END),
		SUM(CASE WHEN l.kind = 'spend' THEN -l.amount ELSE 0 END),
		SUM(CASE WHEN l.kind = 'expire' OR l.kind = 'reset' THEN -l.amount ELSE 0 END),
		SUM(CASE WHEN l.kind = 'revoke' OR l.kind = 'clawback' THEN -l.amount ELSE 0 END)
	FROM ledger l JOIN grants g ON g.id = l.grant_id
		LEFT JOIN subscriptions s ON s.id = g.subscription_id
		LEFT JOIN payments p ON p.id = g.payment_id
	WHERE true GROUP BY 1, 2, 3, 4, 5
	ON CONFLICT (live, day, provider, product_id, currency) DO UPDATE SET
		credits_granted = credits_granted + excluded.credits_granted,
		credits_spent = credits_spent + excluded.credits_spent,
		credits_expired = credits_expired + excluded.credits_expired,
		credits_revoked = credits_revoked + excluded.credits_revoked;

-- From here on, every new row of a history is added to its day in the same transaction.
CREATE TRIGGER kpi_sub_history AFTER INSERT ON sub_history BEGIN
	INSERT INTO kpi_daily (live, day, provider, product_id, currency, mrr, paying, trials,
		new_subs, trial_starts, conversions, converted, churn_voluntary, churn_billing,
		reactivations)
	VALUES (NEW.live, NEW.at / 86400000, NEW.provider, NEW.product_id, NEW.currency, NEW.mrr,
		NEW.paying, NEW.trials, NEW.new_subs, NEW.trial_starts, NEW.conversions,
		NEW.converted, NEW.churn_voluntary, NEW.churn_billing, NEW.reactivations)
	ON CONFLICT (live, day, provider, product_id, currency) DO UPDATE SET
		mrr = mrr + excluded.mrr, paying = paying + excluded.paying,
		trials = trials + excluded.trials, new_subs = new_subs + excluded.new_subs,
		trial_starts = trial_starts + excluded.trial_starts,
		conversions = conversions + excluded.conversions,
		converted = converted + excluded.converted,
		churn_voluntary = churn_voluntary + excluded.churn_voluntary,
		churn_billing = churn_billing + excluded.churn_billing,
		reactivations = reactivations + excluded.reactivations;
	INSERT INTO kpi_levels (live, provider, product_id, currency, mrr, paying, trials)
	VALUES (NEW.live, NEW.provider, NEW.product_id, NEW.currency, NEW.mrr, NEW.paying, NEW.trials)
	ON CONFLICT (live, provider, product_id, currency) DO UPDATE SET
		mrr = mrr + excluded.mrr, paying = paying + excluded.paying,
		trials = trials + excluded.trials;
END;

CREATE TRIGGER kpi_payment AFTER INSERT ON payments BEGIN
	INSERT INTO kpi_daily (live, day, provider, product_id, currency, payments, revenue)
	VALUES (NEW.live, IFNULL((SELECT CASE WHEN i.event_at > 0 THEN i.event_at
			ELSE i.received_at END FROM inbox i WHERE i.id = NEW.inbox_id),
			NEW.created_at) / 86400000,
		NEW.provider, IFNULL(NEW.product_id, ''), upper(NEW.currency), NEW.amount > 0,
		NEW.amount)
	ON CONFLICT (live, day, provider, product_id, currency) DO UPDATE SET
		payments = payments + excluded.payments, revenue = revenue + excluded.revenue;
END;

CREATE TRIGGER kpi_refund AFTER INSERT ON refunds BEGIN
	INSERT INTO kpi_daily (live, day, provider, product_id, currency, refunds, refunded)
	SELECT p.live, NEW.at / 86400000, p.provider, IFNULL(p.product_id, ''), upper(p.currency),
		NEW.count, NEW.amount
	FROM payments p WHERE p.id = NEW.payment_id
	ON CONFLICT (live, day, provider, product_id, currency) DO UPDATE SET
		refunds = refunds + excluded.refunds, refunded = refunded + excluded.refunded;
END;

CREATE TRIGGER kpi_ledger AFTER INSERT ON ledger BEGIN
	INSERT INTO kpi_daily (live, day, provider, product_id, currency, credits_granted,
		credits_spent, credits_expired, credits_revoked)
	SELECT IFNULL(s.live, IFNULL(p.live, 1)),
		IFNULL((SELECT CASE WHEN i.event_at > 0 THEN i.event_at ELSE i.received_at END
			FROM inbox i WHERE i.id = NEW.inbox_id), NEW.created_at) / 86400000,
		IFNULL(s.provider, IFNULL(p.provider, '')), IFNULL(g.product_id, ''), '',
		CASE WHEN NEW.kind = 'grant' THEN NEW.amount ELSE 0 END,
		CASE WHEN NEW.kind = 'spend' THEN -NEW.amount ELSE 0 END,
		CASE WHEN NEW.kind = 'expire' OR NEW.kind = 'reset' THEN -NEW.amount ELSE 0 END,
		CASE WHEN NEW.kind = 'revoke' OR NEW.kind = 'clawback' THEN -NEW.amount ELSE 0 END
	FROM grants g LEFT JOIN subscriptions s ON s.id = g.subscription_id
		LEFT JOIN payments p ON p.id = g.payment_id
	WHERE g.id = NEW.grant_id
	ON CONFLICT (live, day, provider, product_id, currency) DO UPDATE SET
		credits_granted = credits_granted + excluded.credits_granted,
		credits_spent = credits_spent + excluded.credits_spent,
		credits_expired = credits_expired + excluded.credits_expired,
		credits_revoked = credits_revoked + excluded.credits_revoked;
END;

-- What each subscription of this database counts for now. Its past is not
-- known (version 6 kept only the latest state): it counts from the time of
-- that state, a trial as begun then, with no other movement; the period it
-- pays for is its current one (2629800000 ms = a month of 365.25 / 12 days;
-- a period within 3 days of a whole number of months is that many months).
CREATE TEMP TABLE kpi_seed AS
	SELECT s.id AS sid, s.state AS state, s.product_id AS product, s.state_at AS at,
		IFNULL(p.amount, 0) AS amount, upper(IFNULL(p.currency, '')) AS cur,
		s.period_end - s.period_start AS d,
		EXISTS (SELECT 1 FROM payments q WHERE q.subscription_id = s.id AND q.amount > 0
			AND (q.kind = 'initial' OR q.kind = 'renewal')) AS paid
	FROM subscriptions s LEFT JOIN payments p ON p.id = (SELECT max(q.id) FROM payments q
		WHERE q.subscription_id = s.id AND (q.kind = 'initial' OR q.kind = 'renewal'));
CREATE TEMP TABLE kpi_seed2 AS
	SELECT *, CASE WHEN state = 'trialing' THEN 'trial'
			WHEN state = 'active' OR state = 'canceled' OR state = 'past_due' THEN
				CASE WHEN amount > 0 THEN 'paying' ELSE 'free' END
			ELSE 'none' END AS status,
		CASE WHEN d > 0 AND (d + 1314900000) / 2629800000 >= 1 AND
			abs(d - ((d + 1314900000) / 2629800000) * 2629800000) <= 259200000
			THEN (d + 1314900000) / 2629800000 ELSE 0 END AS months
	FROM kpi_seed;
INSERT INTO kpi_subs (subscription_id, status, state, product_id, currency, mrr, amount,
		amount_currency, months, period_ms, amount_at, trial_at, trial_product, paid, churned, at)
	SELECT sid, status, state, product, CASE WHEN status = 'paying' THEN cur ELSE '' END,
		CASE WHEN status != 'paying' THEN 0
			WHEN months > 0 THEN (2 * amount + months) / (2 * months)
			WHEN d > 0 THEN (2 * amount * 2629800000 + d) / (2 * d)
			ELSE amount END,
		amount, cur, months, CASE WHEN months = 0 AND d > 0 THEN d ELSE 0 END, at,
		CASE WHEN status = 'trial' THEN at ELSE 0 END,
		CASE WHEN status = 'trial' THEN product ELSE '' END,
		paid OR status = 'paying', paid AND status = 'none', at
	FROM kpi_seed2;
INSERT INTO sub_history (subscription_id, at, live, provider, product_id, currency, status, mrr,
		paying, trials, trial_starts)
	SELECT k.subscription_id, k.at, s.live, s.provider, k.product_id, k.currency, k.status,
		k.mrr, k.status = 'paying', k.status = 'trial', k.status = 'trial'
	FROM kpi_subs k JOIN subscriptions s ON s.id = k.subscription_id
	WHERE k.status = 'paying' OR k.status = 'trial';
DROP TABLE kpi_seed;
DROP TABLE kpi_seed2;

-- Refunds recorded before version 7, from their audit rows: when and on what
-- payment. A full refund or a dispute returned the whole payment; a partial
-- refund's amount was kept only as text, so it counts with no amount.
INSERT INTO refunds (payment_id, at, kind, amount, count, inbox_id)
	SELECT p.id, IFNULL((SELECT CASE WHEN i.event_at > 0 THEN i.event_at ELSE i.received_at END
			FROM inbox i WHERE i.id = a.inbox_id), a.at),
		CASE a.action WHEN 'payment.refunded' THEN 'full' WHEN 'payment.disputed' THEN 'dispute'
			WHEN 'payment.partial_refund' THEN 'partial' ELSE 'reversal' END,
		CASE a.action WHEN 'payment.partial_refund' THEN 0
			WHEN 'payment.reinstated' THEN -p.amount ELSE p.amount END,
		CASE a.action WHEN 'payment.reinstated' THEN -1 ELSE 1 END, a.inbox_id
	FROM audit a JOIN payments p ON p.id = CAST(substr(a.object, 9) AS INTEGER)
	WHERE a.object LIKE 'payment:%' AND (a.action = 'payment.refunded' OR a.action = 'payment.disputed' OR
		a.action = 'payment.partial_refund' OR a.action = 'payment.reinstated')
	ORDER BY a.id;
