'use strict';
// RevenueCat webhooks through nginx + tally-revenuecat on a real SQLite file: every event
// type RevenueCat documents, the life of a subscription (trial -> conversion -> renewal ->
// billing issue -> recovery -> cancellation -> expiration), transfers, aliases, anonymous
// ids, duplicates and out-of-order delivery, each checked against the user document.
const crypto = require('crypto');
const { test, run, assert } = require('../lib/t');
const { Env } = require('../lib/harness');
const R = require('../lib/revenuecat-events');

const AUTH = `Bearer whk_${crypto.randomBytes(18).toString('hex')}`;
const { DAY } = R;

let clock = Date.now();
const tick = () => (clock += 1000);

async function ok(env, body, state = 'applied') {
  const r = await R.post(env, body, AUTH);
  assert.strictEqual(r.status, 200, `${body.event.type}: ${r.status} ${r.text}`);
  if (state) assert.strictEqual(r.json.state, state, `${body.event.type}: ${r.text}`);
  return r.json;
}

const sub0 = (doc) => doc.subscriptions[0];
const hasEnt = (doc, name) => doc.entitlements.some((e) => e.name === name);
const isoMs = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');

function spend(env, user, amount) {
  const r = env.tally(['credits', 'revoke', user, String(amount), '--reason', 'usage in test', '--operator', 'test']);
  assert.strictEqual(r.code, 0, r.stderr);
}

function verifyOk(env) {
  const v = env.verify();
  assert.ok(v.ok, `tally verify: ${JSON.stringify(v.doc)} ${v.stderr}`);
}

// A subscription of user bought now: INITIAL_PURCHASE, returns what later events need.
async function buy(env, user, o = {}) {
  const s = { user, original: R.txn(), start: Date.now() - 1000, product: o.product || 'com.tally.pro.monthly', store: o.store };
  s.end = s.start + (o.trial ? 7 : 30) * DAY;
  s.txn = s.original;
  await ok(env, R.initialPurchase({
    user, product: s.product, txn: s.txn, original: s.original, purchased: s.start, expires: s.end,
    trial: o.trial, store: o.store, at: tick(),
  }));
  return s;
}

// The next period of s, paid: RENEWAL.
async function renew(env, s, o = {}) {
  s.start = s.end;
  s.end = s.start + 30 * DAY;
  s.txn = R.txn();
  if (o.product) s.product = o.product;
  return ok(env, R.renewal({
    user: s.user, product: s.product, txn: s.txn, original: s.original, purchased: s.start, expires: s.end,
    trialConversion: o.trialConversion, store: s.store, at: tick(),
  }));
}

const about = (s, extra = {}) => ({
  user: s.user, product: s.product, txn: s.txn, original: s.original, purchased: s.start, expires: s.end, store: s.store, at: tick(), ...extra,
});

test('rc-initial-purchase-sets-credits-entitlement-and-store', async (env) => {
  const s = await buy(env, 'rc_alice');
  const doc = env.user('rc_alice');
  assert.strictEqual(doc.balance.available, 1000);
  assert.strictEqual(sub0(doc).provider, 'revenuecat');
  assert.strictEqual(sub0(doc).provider_id, s.original);
  assert.strictEqual(sub0(doc).product, 'pro_monthly');
  assert.strictEqual(sub0(doc).state, 'active');
  assert.strictEqual(sub0(doc).period_end, isoMs(s.end));
  assert.ok(hasEnt(doc, 'pro'));
  assert.strictEqual(env.sql(`SELECT store FROM subscriptions WHERE ext_id = '${s.original}'`)[0].store, 'APP_STORE');
  assert.ok(doc.links.some((l) => l.provider === 'revenuecat' && l.kind === 'app_user_id' && l.id === 'rc_alice'));
  const pay = env.sql(`SELECT p.amount, p.currency, p.kind FROM payments p JOIN payment_keys k ON k.payment_id = p.id WHERE k.key = '${s.txn}'`);
  assert.deepStrictEqual(pay, [{ amount: 999, currency: 'USD', kind: 'initial' }]);
});

test('rc-trial-conversion-renewal-billing-issue-recovery-cancellation-expiration', async (env) => {
  const u = 'rc_life';
  const s = await buy(env, u, { trial: true });
  let doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'trialing');
  assert.strictEqual(sub0(doc).trial_end, isoMs(s.end));
  assert.strictEqual(doc.balance.available, 100, 'trial credits');

  const conv = await renew(env, s, { trialConversion: true });
  assert.strictEqual(conv.state, 'applied');
  doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'active');
  assert.strictEqual(doc.balance.available, 1000, 'conversion resets to the plan');
  spend(env, u, 300);

  await renew(env, s);
  doc = env.user(u);
  assert.strictEqual(doc.balance.available, 1000, 'renewal resets: unused credits do not carry over');

  const grace = s.end + 16 * DAY;
  await ok(env, R.billingIssue(about(s, { grace })));
  doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'past_due');
  assert.strictEqual(sub0(doc).grace_until, isoMs(grace));
  assert.strictEqual(sub0(doc).access, true);
  assert.strictEqual(doc.balance.available, 1000, 'credits kept through grace');
  assert.strictEqual(doc.balance.grants[0].expires_at, isoMs(grace));
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM outbox WHERE kind = 'notify' AND topic = 'billing_issue' AND user_id = '${u}'`)[0].n, 1);

  await renew(env, s); // recovered: the store charged
  doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'active');
  assert.strictEqual(sub0(doc).grace_until, null);
  assert.strictEqual(doc.balance.available, 1000);

  await ok(env, R.cancellation(about(s, { reason: 'UNSUBSCRIBE' })));
  doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'canceled');
  assert.strictEqual(sub0(doc).cancel_at_period_end, true);
  assert.strictEqual(sub0(doc).access, true);
  assert.strictEqual(sub0(doc).access_until, isoMs(s.end));
  assert.strictEqual(doc.balance.available, 1000, 'a cancellation keeps credits until access ends');

  await ok(env, R.expiration(about(s, { reason: 'UNSUBSCRIBE' })));
  doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'expired');
  assert.strictEqual(sub0(doc).access, false);
  assert.ok(!hasEnt(doc, 'pro'));
  assert.strictEqual(doc.balance.available, 0, 'plan credits expire with access');
  assert.ok(doc.ledger.some((l) => l.kind === 'expire' && l.amount === -1000));
  verifyOk(env);
});

test('rc-same-event-twice-applies-once', async (env) => {
  const body = R.initialPurchase({ user: 'rc_twice', at: tick() });
  const first = await ok(env, body);
  const before = env.counts();
  const again = await R.post(env, body, AUTH);
  assert.strictEqual(again.status, 200);
  assert.strictEqual(again.json.duplicate, true);
  assert.strictEqual(again.json.inbox_id, first.inbox_id);
  assert.deepStrictEqual(env.counts(), before, 'a redelivery changes nothing');
  assert.strictEqual(env.user('rc_twice').balance.available, 1000);
});

test('rc-two-events-about-one-transaction-grant-once', async (env) => {
  const t = R.txn();
  await ok(env, R.initialPurchase({ user: 'rc_onetxn', txn: t, original: t, at: tick() }));
  const j = await ok(env, R.initialPurchase({ user: 'rc_onetxn', txn: t, original: t, at: tick() }));
  assert.match(j.reason, /already recorded/);
  assert.strictEqual(env.user('rc_onetxn').balance.available, 1000);
  assert.strictEqual(env.sql("SELECT count(*) AS n FROM payments WHERE user_id = 'rc_onetxn'")[0].n, 1);
});

test('rc-out-of-order-cancellation-after-expiration-does-not-roll-back', async (env) => {
  const s = await buy(env, 'rc_ooo');
  const tCancel = tick();
  const tExpire = tick();
  await ok(env, R.expiration(about(s, { at: tExpire })));
  const j = await ok(env, R.cancellation(about(s, { at: tCancel })));
  assert.match(j.reason, /older than the subscription's current state/);
  const doc = env.user('rc_ooo');
  assert.strictEqual(sub0(doc).state, 'expired');
  assert.strictEqual(sub0(doc).access, false);
});

test('rc-out-of-order-renewal-before-initial-purchase-grants-once', async (env) => {
  const u = 'rc_ooo2';
  const original = R.txn();
  const start = Date.now() - 1000;
  const t1 = tick();
  const t2 = tick();
  await ok(env, R.renewal({ user: u, txn: R.txn(), original, purchased: start + 30 * DAY, expires: start + 60 * DAY, at: t2 }));
  const j = await ok(env, R.initialPurchase({ user: u, txn: original, original, purchased: start, expires: start + 30 * DAY, at: t1 }));
  assert.match(j.reason, /older than|already granted/);
  const doc = env.user(u);
  assert.strictEqual(doc.balance.available, 1000);
  assert.strictEqual(sub0(doc).period_end, isoMs(start + 60 * DAY));
  verifyOk(env);
});

test('rc-refund-before-its-purchase-waits-and-applies-when-the-purchase-arrives', async (env) => {
  const u = 'rc_early_refund';
  const t = R.txn();
  const start = Date.now() - 1000;
  const refund = await ok(env, R.cancellation({ user: u, txn: t, original: t, purchased: start, expires: start + 30 * DAY, reason: 'CUSTOMER_SUPPORT', price: -9.99, at: tick() + 5000 }), 'orphaned');
  assert.strictEqual(env.user(u), null, 'nothing of the refund applied yet');
  await ok(env, R.initialPurchase({ user: u, txn: t, original: t, purchased: start, expires: start + 30 * DAY, at: tick() }));
  const doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'refunded');
  assert.strictEqual(doc.balance.available, 0);
  assert.strictEqual(env.sql(`SELECT state FROM inbox WHERE id = ${refund.inbox_id}`)[0].state, 'applied');
});

test('rc-cancellation-customer-support-revokes-and-refund-reversed-reinstates', async (env) => {
  const u = 'rc_refund';
  const s = await buy(env, u);
  spend(env, u, 100);
  await ok(env, R.cancellation(about(s, { reason: 'CUSTOMER_SUPPORT', price: -9.99 })));
  let doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'refunded');
  assert.strictEqual(sub0(doc).access, false);
  assert.ok(!hasEnt(doc, 'pro'));
  assert.strictEqual(doc.balance.available, 0);
  assert.ok(doc.ledger.some((l) => l.kind === 'clawback' && l.amount === -900));
  await ok(env, R.refundReversed(about(s)));
  doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'active');
  assert.ok(hasEnt(doc, 'pro'));
  assert.strictEqual(doc.balance.available, 900, 'what the refund clawed back comes back');
  verifyOk(env);
});

test('rc-cancellation-billing-error-is-grace-not-the-end', async (env) => {
  const s = await buy(env, 'rc_billerr');
  const grace = s.end + 10 * DAY;
  const t = tick();
  await ok(env, R.billingIssue(about(s, { grace, at: t })));
  await ok(env, R.cancellation(about(s, { reason: 'BILLING_ERROR', at: t })));
  const doc = env.user('rc_billerr');
  assert.strictEqual(sub0(doc).state, 'past_due');
  assert.strictEqual(sub0(doc).grace_until, isoMs(grace));
  assert.strictEqual(sub0(doc).access, true);
});

test('rc-cancellation-developer-initiated-and-price-increase-keep-access-until-expiry', async (env) => {
  for (const reason of ['DEVELOPER_INITIATED', 'PRICE_INCREASE', 'UNKNOWN']) {
    const u = `rc_cancel_${reason.toLowerCase()}`;
    const s = await buy(env, u);
    await ok(env, R.cancellation(about(s, { reason })));
    const doc = env.user(u);
    assert.strictEqual(sub0(doc).state, 'canceled', reason);
    assert.strictEqual(sub0(doc).access, true, reason);
    assert.strictEqual(doc.balance.available, 1000, reason);
  }
});

test('rc-uncancellation-turns-renewal-back-on', async (env) => {
  const s = await buy(env, 'rc_uncancel');
  await ok(env, R.cancellation(about(s)));
  await ok(env, R.uncancellation(about(s)));
  const doc = env.user('rc_uncancel');
  assert.strictEqual(sub0(doc).state, 'active');
  assert.strictEqual(sub0(doc).cancel_at_period_end, false);
});

test('rc-non-renewing-purchase-adds-pack-credits-and-its-refund-claws-back', async (env) => {
  const u = 'rc_packs';
  const t1 = R.txn();
  await ok(env, R.nonRenewing({ user: u, txn: t1, original: t1, at: tick() }));
  await ok(env, R.nonRenewing({ user: u, at: tick() }));
  let doc = env.user(u);
  assert.strictEqual(doc.balance.available, 1000);
  assert.ok(doc.balance.grants.every((g) => g.source === 'pack' && g.expires_at === null));
  assert.strictEqual(doc.subscriptions.length, 0);
  const refund = R.cancellation({ user: u, txn: t1, original: t1, product: 'com.tally.credits500', reason: 'CUSTOMER_SUPPORT', price: -4.99, at: tick() });
  refund.event.expiration_at_ms = null;
  await ok(env, refund);
  doc = env.user(u);
  assert.strictEqual(doc.balance.available, 500);
  verifyOk(env);
});

test('rc-subscription-paused-keeps-access-until-expiration-paused', async (env) => {
  const u = 'rc_pause';
  const s = await buy(env, u, { store: 'PLAY_STORE', product: 'pro:monthly' });
  const j = await ok(env, R.paused(about(s, { store: 'PLAY_STORE', autoResume: s.end + 30 * DAY })));
  assert.match(j.reason, /access continues until EXPIRATION/);
  let doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'active');
  assert.strictEqual(doc.balance.available, 1000);
  await ok(env, R.expiration(about(s, { store: 'PLAY_STORE', reason: 'SUBSCRIPTION_PAUSED' })));
  doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'paused');
  assert.strictEqual(sub0(doc).access, false);
  assert.strictEqual(doc.balance.available, 0);
  await renew(env, s); // resumed: Google charges again
  doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'active');
  assert.strictEqual(doc.balance.available, 1000);
});

test('rc-product-change-takes-effect-with-the-renewal-that-carries-it', async (env) => {
  const u = 'rc_change';
  const s = await buy(env, u);
  spend(env, u, 200);
  const j = await ok(env, R.productChange(about(s, { newProduct: 'com.tally.team.monthly' })));
  assert.match(j.reason, /product change com.tally.pro.monthly -> com.tally.team.monthly/);
  let doc = env.user(u);
  assert.strictEqual(sub0(doc).product, 'pro_monthly', 'nothing changes until the renewal');
  assert.strictEqual(doc.balance.available, 800);
  await renew(env, s, { product: 'com.tally.team.monthly' });
  doc = env.user(u);
  assert.strictEqual(sub0(doc).product, 'team_monthly');
  assert.strictEqual(doc.balance.available, 5000, 'the renewal resets credits to the new plan');
  assert.ok(hasEnt(doc, 'team') && hasEnt(doc, 'pro'));
  verifyOk(env);
});

test('rc-subscription-extended-moves-the-period-end-without-credits', async (env) => {
  const u = 'rc_extend';
  const s = await buy(env, u);
  const newEnd = s.end + 14 * DAY;
  await ok(env, R.extended(about(s, { expires: newEnd })));
  const doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'active');
  assert.strictEqual(sub0(doc).period_end, isoMs(newEnd));
  assert.strictEqual(doc.balance.available, 1000, 'an extension is not a payment');
  assert.strictEqual(doc.balance.grants[0].expires_at, isoMs(newEnd + DAY), 'credits live as long as access');
});

test('rc-transfer-moves-subscription-credits-and-entitlements-packs-stay', async (env) => {
  await buy(env, 'rc_from');
  await ok(env, R.nonRenewing({ user: 'rc_from', at: tick() }));
  spend(env, 'rc_from', 100); // from the subscription's credits: they expire first
  await ok(env, R.transfer({ from: ['rc_from'], to: ['rc_to'], at: tick() }));
  const from = env.user('rc_from');
  const to = env.user('rc_to');
  assert.strictEqual(to.balance.available, 900);
  assert.ok(hasEnt(to, 'pro'));
  assert.strictEqual(to.subscriptions.length, 1);
  assert.strictEqual(from.balance.available, 500, 'the pack stays with its buyer');
  assert.ok(!hasEnt(from, 'pro'));
  assert.strictEqual(from.subscriptions.length, 0);
  assert.ok(to.audit.some((a) => a.action === 'subscription.transfer'));
  assert.ok(from.audit.some((a) => a.action === 'subscription.transfer'), 'audited on both sides');
  verifyOk(env);
});

test('rc-alias-chain-anonymous-ids-merge-into-the-identified-user', async (env) => {
  const a1 = R.anon();
  const a2 = R.anon();
  const s = await buy(env, a1); // bought while anonymous: kept under the anonymous id
  assert.strictEqual(env.user(a1).balance.available, 1000);
  await ok(env, R.nonRenewing({ user: a2, at: tick() })); // a second device, still anonymous
  assert.strictEqual(env.user(a2).balance.available, 500);
  // Logs in as rc_carol: RevenueCat lists every id the customer used.
  await renew(env, s);
  await ok(env, R.nonRenewing({ user: 'rc_carol', originalUser: a1, aliases: [a1, a2, 'rc_carol'], at: tick() }));
  let doc = env.user('rc_carol');
  assert.strictEqual(doc.balance.available, 2000, '1000 (subscription) + 500 + 500');
  assert.ok(hasEnt(doc, 'pro'));
  assert.strictEqual(doc.subscriptions.length, 1);
  assert.strictEqual(env.sql(`SELECT merged_into FROM users WHERE id = '${a1}'`)[0].merged_into, 'rc_carol');
  assert.strictEqual(env.sql(`SELECT merged_into FROM users WHERE id = '${a2}'`)[0].merged_into, 'rc_carol');
  // A later event under an old alias alone finds rc_carol.
  s.user = a2;
  await ok(env, R.cancellation(about(s, { aliases: [a2] })));
  doc = env.user('rc_carol');
  assert.strictEqual(sub0(doc).state, 'canceled');
  // And so does a new alias chained to it (the customer renamed in the app).
  await ok(env, R.nonRenewing({ user: 'rc_carol2', originalUser: a1, aliases: [a1, 'rc_carol', 'rc_carol2'], at: tick() }));
  doc = env.user('rc_carol2');
  assert.strictEqual(doc.balance.available, 2500);
  verifyOk(env);
});

test('rc-late-anonymous-event-never-absorbs-an-identified-user', async (env) => {
  // An id first seen as an alias of an identified user, then alone on a late event: the
  // event is kept (failed, alerted) rather than merging the identified user into it.
  const a = R.anon();
  await ok(env, R.nonRenewing({ user: 'rc_dave', aliases: [a, 'rc_dave'], at: tick() }));
  const j = await ok(env, R.nonRenewing({ user: a, at: tick() - 60000 }), 'failed');
  assert.match(j.reason, /conflict: revenuecat app_user_id .* belongs to user rc_dave/);
  const doc = env.user('rc_dave');
  assert.strictEqual(doc.balance.available, 500, 'rc_dave keeps what he bought, nothing moved');
  assert.strictEqual(env.sql("SELECT merged_into FROM users WHERE id = 'rc_dave'")[0].merged_into, null);
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM outbox WHERE kind = 'alert' AND dedup_key = 'alert:inbox:${j.inbox_id}:failed'`)[0].n, 1, 'alerted');
});

test('rc-temporary-entitlement-grant-gives-access-without-credits-then-purchase-grants', async (env) => {
  const u = 'rc_temp';
  const t = R.txn();
  const at = tick();
  await ok(env, R.temporaryGrant({ user: u, txn: t, at, expires: at + 3 * DAY }));
  let doc = env.user(u);
  assert.ok(hasEnt(doc, 'pro'));
  assert.strictEqual(doc.balance.available, 0, 'no payment, no credits');
  assert.strictEqual(sub0(doc).access, true);
  assert.strictEqual(Date.parse(sub0(doc).access_until), at + DAY, 'at most 24 h from the event');
  await ok(env, R.initialPurchase({ user: u, txn: t, original: t, at: tick() }));
  doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'active');
  assert.strictEqual(doc.subscriptions.length, 1);
  assert.strictEqual(doc.balance.available, 1000);
});

test('rc-temporary-entitlement-grant-ended-by-expiration', async (env) => {
  const u = 'rc_temp_exp';
  const t = R.txn();
  await ok(env, R.temporaryGrant({ user: u, txn: t, at: tick() }));
  await ok(env, R.expiration({ user: u, txn: t, original: t, at: tick() }));
  const doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'expired');
  assert.ok(!hasEnt(doc, 'pro'));
});

test('rc-virtual-currency-adjustments-grant-and-revoke-credits', async (env) => {
  const u = 'rc_vc';
  await ok(env, R.virtualCurrency({ user: u, adjustments: [[100, 'CRD']], at: tick() }));
  let doc = env.user(u);
  assert.strictEqual(doc.balance.available, 100);
  assert.strictEqual(doc.balance.grants[0].source, 'pack');
  assert.match(doc.ledger[0].reason, /virtual currency CRD \+100/);
  await ok(env, R.virtualCurrency({ user: u, adjustments: [[-30, 'CRD']], source: 'admin_api', at: tick() }));
  assert.strictEqual(env.user(u).balance.available, 70);
  // A refund larger than what is left takes what there is.
  await ok(env, R.virtualCurrency({ user: u, adjustments: [[-500, 'CRD']], at: tick() }));
  assert.strictEqual(env.user(u).balance.available, 0);
  const mixed = await ok(env, R.virtualCurrency({ user: u, adjustments: [[10, 'CRD'], [5, 'GEM']], at: tick() }), 'ignored');
  assert.match(mixed.reason, /several virtual currencies/);
  doc = env.user(u);
  assert.strictEqual(doc.balance.available, 0);
  verifyOk(env);
});

test('rc-test-invoice-issuance-experiment-and-unknown-types-are-stored-and-ignored', async (env) => {
  const before = env.counts();
  const cases = [
    [R.testEvent({ user: 'rc_ignored1' }), /test event/],
    [R.invoiceIssuance({ user: 'rc_ignored2', at: tick() }), /invoice issued, not paid/],
    [R.experimentEnrollment({ user: 'rc_ignored3' }), /EXPERIMENT_ENROLLMENT is not acted on/],
  ];
  const unknown = R.testEvent({ user: 'rc_ignored4' });
  unknown.event.type = 'PAYWALL_IMPRESSION';
  cases.push([unknown, /PAYWALL_IMPRESSION is not acted on/]);
  for (const [body, reason] of cases) {
    const j = await ok(env, body, 'ignored');
    assert.match(j.reason, reason);
  }
  const after = env.counts();
  assert.strictEqual(after.inbox, before.inbox + 4, 'each is stored');
  assert.strictEqual(after.users, before.users, 'and changes nothing else');
  assert.strictEqual(after.grants, before.grants);
});

test('rc-play-store-ids-match-whole-or-by-subscription-id', async (env) => {
  await buy(env, 'rc_play1', { store: 'PLAY_STORE', product: 'pro:monthly' });
  let doc = env.user('rc_play1');
  assert.strictEqual(sub0(doc).product, 'pro_monthly');
  assert.strictEqual(env.sql(`SELECT store FROM subscriptions WHERE user_id = 'rc_play1'`)[0].store, 'PLAY_STORE');
  // "basic" is listed as a whole Play subscription: any of its base plans matches it.
  await buy(env, 'rc_play2', { store: 'PLAY_STORE', product: 'basic:monthly-autorenew' });
  doc = env.user('rc_play2');
  assert.strictEqual(sub0(doc).product, 'basic');
  assert.strictEqual(doc.balance.available, 300);
  // Play ids are matched as Play ids: the App Store's id of the product does not match them.
  const j = await ok(env, R.initialPurchase({ user: 'rc_play3', store: 'PLAY_STORE', product: 'com.tally.team.monthly', at: tick() }), 'unknown_product');
  assert.match(j.reason, /com.tally.team.monthly/);
});

test('rc-stripe-and-amazon-stores-use-their-catalog-names', async (env) => {
  await buy(env, 'rc_stripe', { store: 'STRIPE', product: 'prod_rc_pro_monthly' });
  assert.strictEqual(sub0(env.user('rc_stripe')).product, 'pro_monthly');
  // Amazon has no catalog name of its own: the catalog's "revenuecat" ids are used.
  await buy(env, 'rc_amazon', { store: 'AMAZON', product: 'rc_pro_monthly' });
  assert.strictEqual(sub0(env.user('rc_amazon')).product, 'pro_monthly');
  await ok(env, R.nonRenewing({ user: 'rc_amazon', store: 'AMAZON', product: 'rc_credits_500', at: tick() }));
  assert.strictEqual(env.user('rc_amazon').balance.available, 1500);
});

test('rc-promotional-grant-gives-entitlements-without-credits', async (env) => {
  const u = 'rc_promo';
  const b = R.nonRenewing({ user: u, store: 'PROMOTIONAL', product: 'rc_pro_monthly', periodType: 'PROMOTIONAL', expires: Date.now() + 7 * DAY, price: 0, at: tick() });
  await ok(env, b);
  const doc = env.user(u);
  assert.ok(hasEnt(doc, 'pro'));
  assert.strictEqual(doc.balance.available, 0);
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = '${u}'`)[0].n, 0);
});

run({
  before: () => Env.start({ handlers: ['revenuecat'], config: R.config(), env: { REVENUECAT_WEBHOOK_AUTH: AUTH } }),
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
