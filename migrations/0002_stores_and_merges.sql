-- tally schema, version 2: the store a subscription was bought in (RevenueCat
-- reports APP_STORE, PLAY_STORE, STRIPE, AMAZON ...), and users merged into
-- another (an anonymous id later identified as a known user).

ALTER TABLE subscriptions ADD COLUMN store TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN merged_into TEXT REFERENCES users(id);
