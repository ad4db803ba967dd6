'use strict';
// App Store Server Notifications V2 through nginx, signed by a test chain
// with Apple's marker extensions: every notification type Apple documents is
// applied or stored with its reason; duplicates apply once; an older
// notification never rolls state back; orphans are replayed when the user
// becomes known.
const { test, run, assert } = require('../lib/t');
const A = require('../lib/apple');
const { startApple, post, sd, userId, txId, PRO, PRO_YEARLY, PACK } = require('../lib/apple-env');

const DAY = 86400e3;
let pki;

async function send(env, type, subtype, o = {}) {
  const n = A.notification(type, subtype, { chain: pki.chains.good, signedDate: sd(), ...o });
  const r = await post(env, n.body);
  assert.strictEqual(r.status, 200, `${type}/${subtype}: ${r.status} ${r.text}`);
  return { ...r.json, body: n.body, payload: n.payload };
}

// One subscriber: the app's user (appAccountToken) and the subscription's original transaction.
function subscriber(opts = {}) {
  const s = { user: userId(), otid: txId() };
  s.tx = (o = {}) => A.transaction({
    originalTransactionId: s.otid, appAccountToken: opts.anonymous ? undefined : s.user,
    productId: PRO, purchaseDate: Date.now(), expiresDate: Date.now() + 30 * DAY, ...o,
  });
  s.send = (env, type, subtype, txo = {}, o = {}) => {
    const tx = s.tx(txo);
    return send(env, type, subtype, { tx, renewal: A.renewalInfo(tx, o.renewal || {}), ...o });
  };
  return s;
}

const sub = (env, s) => {
  const u = env.user(s.user);
  return u && u.subscriptions.find((x) => x.provider_id === s.otid);
};
const pro = (env, s) => {
  const u = env.user(s.user);
  return !!u && u.entitlements.some((e) => e.name === 'pro');
};
const balance = (env, s) => env.user(s.user).balance.available;

test('SUBSCRIBED/INITIAL_BUY grants pro and the plan credits, records the payment in minor units', async (env) => {
  const s = subscriber();
  const r = await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY', { price: 9990, currency: 'USD' });
  assert.strictEqual(r.state, 'applied', r.reason);
  assert.ok(pro(env, s));
  assert.strictEqual(balance(env, s), 1000);
  assert.strictEqual(sub(env, s).state, 'active');
  assert.strictEqual(sub(env, s).live, true);
  const pay = env.sql(`SELECT amount, currency, kind, live FROM payments WHERE user_id = '${s.user}'`);
  assert.deepStrictEqual(pay, [{ amount: 999, currency: 'USD', kind: 'initial', live: 1 }]);
  const links = env.user(s.user).links.map((l) => `${l.provider}:${l.kind}`).sort();
  assert.deepStrictEqual(links, ['apple:app_account_token', 'apple:original_transaction_id', 'apple:subscription']);
});

test('a free-trial introductory offer starts a trial with the trial credits; JPY has no minor unit', async (env) => {
  const s = subscriber();
  const r = await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY', { offerType: 1, offerDiscountType: 'FREE_TRIAL', price: 0 });
  assert.strictEqual(r.state, 'applied', r.reason);
  assert.strictEqual(sub(env, s).state, 'trialing');
  assert.strictEqual(balance(env, s), 100);
  const j = subscriber();
  await j.send(env, 'SUBSCRIBED', 'RESUBSCRIBE', { price: 1200000, currency: 'JPY' });
  assert.strictEqual(env.sql(`SELECT amount FROM payments WHERE user_id = '${j.user}'`)[0].amount, 1200);
  assert.strictEqual(sub(env, j).state, 'active');
});

test('DID_RENEW (and BILLING_RECOVERY) resets credits for the new period once', async (env) => {
  const s = subscriber();
  await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY');
  env.tally(['credits', 'revoke', s.user, '400', '--reason', 'spent in test']);
  assert.strictEqual(balance(env, s), 600);
  const end2 = Date.now() + 60 * DAY;
  const r = await s.send(env, 'DID_RENEW', null, { expiresDate: end2 });
  assert.strictEqual(r.state, 'applied', r.reason);
  assert.strictEqual(balance(env, s), 1000);
  assert.strictEqual(Date.parse(sub(env, s).period_end), end2);
  const again = await post(env, r.body);
  assert.strictEqual(again.json.duplicate, true);
  assert.strictEqual(balance(env, s), 1000);
  await s.send(env, 'DID_FAIL_TO_RENEW', null, { expiresDate: end2 });
  assert.strictEqual(sub(env, s).state, 'past_due');
  const r3 = await s.send(env, 'DID_RENEW', 'BILLING_RECOVERY', { expiresDate: Date.now() + 90 * DAY });
  assert.strictEqual(r3.state, 'applied', r3.reason);
  assert.strictEqual(sub(env, s).state, 'active');
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = '${s.user}' AND kind = 'renewal'`)[0].n, 2);
});

test('DID_CHANGE_RENEWAL_STATUS turns auto-renew off and on; access stays until the period ends', async (env) => {
  const s = subscriber();
  await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY');
  await s.send(env, 'DID_CHANGE_RENEWAL_STATUS', 'AUTO_RENEW_DISABLED', {}, { renewal: { autoRenewStatus: 0 } });
  assert.strictEqual(sub(env, s).state, 'canceled');
  assert.strictEqual(sub(env, s).cancel_at_period_end, true);
  assert.ok(pro(env, s));
  await s.send(env, 'DID_CHANGE_RENEWAL_STATUS', 'AUTO_RENEW_ENABLED');
  assert.strictEqual(sub(env, s).state, 'active');
  assert.strictEqual(sub(env, s).cancel_at_period_end, false);
  assert.strictEqual(balance(env, s), 1000);
});

test('DID_CHANGE_RENEWAL_PREF: a downgrade waits for the period end, an upgrade applies at once', async (env) => {
  const s = subscriber();
  await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY');
  const before = env.counts();
  const d = await s.send(env, 'DID_CHANGE_RENEWAL_PREF', 'DOWNGRADE', {}, { renewal: { autoRenewProductId: 'com.example.basic' } });
  assert.strictEqual(d.state, 'ignored');
  assert.match(d.reason, /renews as com\.example\.basic/);
  assert.strictEqual(env.counts().payments, before.payments);
  assert.strictEqual(sub(env, s).product, 'pro_monthly');
  const u = await s.send(env, 'DID_CHANGE_RENEWAL_PREF', 'UPGRADE', { productId: PRO_YEARLY, expiresDate: Date.now() + 365 * DAY });
  assert.strictEqual(u.state, 'applied', u.reason);
  assert.strictEqual(sub(env, s).product, 'pro_yearly');
  assert.strictEqual(balance(env, s), 12000);
  assert.ok(pro(env, s));
});

test('DID_FAIL_TO_RENEW/GRACE_PERIOD keeps access until the grace ends; GRACE_PERIOD_EXPIRED ends it', async (env) => {
  const s = subscriber();
  await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY');
  const grace = Date.now() + 3 * DAY;
  const r = await s.send(env, 'DID_FAIL_TO_RENEW', 'GRACE_PERIOD', {}, { renewal: { gracePeriodExpiresDate: grace, isInBillingRetryPeriod: true } });
  assert.strictEqual(r.state, 'applied', r.reason);
  assert.strictEqual(sub(env, s).state, 'past_due');
  assert.ok(pro(env, s), 'access during the grace period');
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM outbox WHERE topic = 'payment_failed' AND user_id = '${s.user}'`)[0].n, 1);
  await s.send(env, 'GRACE_PERIOD_EXPIRED', null);
  assert.strictEqual(sub(env, s).state, 'expired');
  assert.ok(!pro(env, s));
});

test('DID_FAIL_TO_RENEW without a grace period ends access at once', async (env) => {
  const s = subscriber();
  await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY', { purchaseDate: Date.now() - 30 * DAY, expiresDate: Date.now() - 1000 });
  await s.send(env, 'DID_FAIL_TO_RENEW', null, {}, { renewal: { isInBillingRetryPeriod: true } });
  assert.strictEqual(sub(env, s).state, 'past_due');
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(!pro(env, s));
});

test('EXPIRED in every subtype ends access', async (env) => {
  for (const subtype of ['VOLUNTARY', 'BILLING_RETRY', 'PRICE_INCREASE', 'PRODUCT_NOT_FOR_SALE']) {
    const s = subscriber();
    await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY');
    const r = await s.send(env, 'EXPIRED', subtype, {}, { status: 2 });
    assert.strictEqual(r.state, 'applied', `${subtype}: ${r.reason}`);
    assert.strictEqual(sub(env, s).state, 'expired', subtype);
    assert.ok(!pro(env, s), subtype);
  }
});

test('REFUND revokes the purchase; REFUND_REVERSED restores it; REFUND_DECLINED changes nothing', async (env) => {
  const s = subscriber();
  const tid = txId();
  await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY', { transactionId: tid });
  const before = env.counts();
  const d = await s.send(env, 'REFUND_DECLINED', null, { transactionId: tid });
  assert.strictEqual(d.state, 'ignored');
  assert.deepStrictEqual({ ...env.counts(), inbox: before.inbox }, before);
  const r = await s.send(env, 'REFUND', null, { transactionId: tid, revocationDate: Date.now(), revocationReason: 0 }, { status: 5 });
  assert.strictEqual(r.state, 'applied', r.reason);
  assert.strictEqual(env.sql(`SELECT state FROM payments WHERE user_id = '${s.user}'`)[0].state, 'refunded');
  assert.strictEqual(balance(env, s), 0);
  const back = await s.send(env, 'REFUND_REVERSED', null, { transactionId: tid });
  assert.strictEqual(back.state, 'applied', back.reason);
  assert.strictEqual(env.sql(`SELECT state FROM payments WHERE user_id = '${s.user}'`)[0].state, 'paid');
  assert.strictEqual(balance(env, s), 1000);
});

test('REVOKE (Family Sharing withdrawn) ends access', async (env) => {
  const s = subscriber();
  await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY', { ownership: 'FAMILY_SHARED' });
  assert.ok(pro(env, s), 'family members get access');
  assert.strictEqual(balance(env, s), 0, 'but not the credits money bought');
  await s.send(env, 'REVOKE', null, { ownership: 'FAMILY_SHARED', revocationDate: Date.now() });
  assert.strictEqual(sub(env, s).state, 'revoked');
  assert.ok(!pro(env, s));
});

test('RENEWAL_EXTENDED moves the period end; RENEWAL_EXTENSION summaries are stored', async (env) => {
  const s = subscriber();
  await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY');
  const ext = Date.now() + 40 * DAY;
  const r = await s.send(env, 'RENEWAL_EXTENDED', null, { expiresDate: ext });
  assert.strictEqual(r.state, 'applied', r.reason);
  assert.strictEqual(Date.parse(sub(env, s).period_end), ext);
  const n = A.notification('RENEWAL_EXTENSION', 'SUMMARY', { chain: pki.chains.good, signedDate: sd() });
  const summary = (await post(env, n.body)).json;
  assert.strictEqual(summary.state, 'ignored');
  assert.match(summary.reason, /carries no transaction|renewal-date extension/);
});

test('OFFER_REDEEMED, PRICE_INCREASE, CONSUMPTION_REQUEST and TEST are stored with their reason', async (env) => {
  const s = subscriber();
  await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY');
  const cases = [
    ['OFFER_REDEEMED', 'DOWNGRADE', /renews as/],
    ['PRICE_INCREASE', 'PENDING', /price increase/],
    ['PRICE_INCREASE', 'ACCEPTED', /price increase/],
    ['CONSUMPTION_REQUEST', null, /consumption/],
  ];
  for (const [type, subtype, re] of cases) {
    const before = env.counts();
    const r = await s.send(env, type, subtype);
    assert.strictEqual(r.state, 'ignored', `${type}: ${r.state}`);
    assert.match(r.reason, re);
    assert.strictEqual(env.counts().payments, before.payments);
    assert.strictEqual(env.counts().inbox, before.inbox + 1);
  }
  const t = await send(env, 'TEST', null, {});
  assert.strictEqual(t.state, 'ignored');
  assert.match(t.reason, /test notification/);
  const u = await send(env, 'SOME_FUTURE_TYPE', null, {});
  assert.strictEqual(u.state, 'ignored');
  assert.ok(pro(env, s));
});

test('OFFER_REDEEMED/UPGRADE applies at once like an upgrade', async (env) => {
  const s = subscriber();
  await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY');
  const r = await s.send(env, 'OFFER_REDEEMED', 'UPGRADE', { productId: PRO_YEARLY });
  assert.strictEqual(r.state, 'applied', r.reason);
  assert.strictEqual(sub(env, s).product, 'pro_yearly');
});

test('ONE_TIME_CHARGE of a consumable adds the pack, times its quantity; again adds nothing', async (env) => {
  const s = subscriber();
  const pack = (o) => A.transaction({ productId: PACK, type: 'Consumable', appAccountToken: s.user, expiresDate: null, price: 1990, ...o });
  const n1 = A.notification('ONE_TIME_CHARGE', null, { chain: pki.chains.good, signedDate: sd(), tx: pack({}) });
  const r1 = (await post(env, n1.body)).json;
  assert.strictEqual(r1.state, 'applied', r1.reason);
  assert.strictEqual(balance(env, s), 100);
  const n2 = A.notification('ONE_TIME_CHARGE', null, { chain: pki.chains.good, signedDate: sd(), tx: pack({ quantity: 3 }) });
  await post(env, n2.body);
  assert.strictEqual(balance(env, s), 400);
  // The same purchase in another notification (a new UUID, the same transactionId): the business key dedups it.
  const tx = pack({});
  await post(env, A.notification('ONE_TIME_CHARGE', null, { chain: pki.chains.good, signedDate: sd(), tx }).body);
  const dup = (await post(env, A.notification('ONE_TIME_CHARGE', null, { chain: pki.chains.good, signedDate: sd(), tx }).body)).json;
  assert.strictEqual(dup.duplicate, false);
  assert.strictEqual(balance(env, s), 500);
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = '${s.user}'`)[0].n, 3);
});

test('the same notification twice applies once; the database is unchanged by the second', async (env) => {
  const s = subscriber();
  const r = await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY');
  const before = env.counts();
  const again = await post(env, r.body);
  assert.strictEqual(again.status, 200);
  assert.strictEqual(again.json.duplicate, true);
  assert.strictEqual(again.json.inbox_id, r.inbox_id);
  assert.deepStrictEqual(env.counts(), before);
  assert.strictEqual(balance(env, s), 1000);
});

test('an older notification arriving late does not roll state back', async (env) => {
  const s = subscriber();
  await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY');
  const older = sd();
  const late = A.notification('DID_RENEW', null, {
    chain: pki.chains.good, signedDate: older, tx: s.tx({ expiresDate: Date.now() + 60 * DAY }),
  });
  await s.send(env, 'EXPIRED', 'VOLUNTARY', {}, { status: 2 });
  assert.strictEqual(sub(env, s).state, 'expired');
  const r = (await post(env, late.body)).json;
  assert.notStrictEqual(r.state, 'failed', r.reason);
  assert.strictEqual(sub(env, s).state, 'expired', 'state stays expired');
  assert.ok(!pro(env, s));
});

test('a notification without appAccountToken for an unknown subscription waits as an orphan, then applies', async (env) => {
  const s = subscriber();
  const anon = A.transaction({ originalTransactionId: s.otid, productId: PRO, expiresDate: Date.now() + 60 * DAY });
  const first = (await post(env, A.notification('DID_RENEW', null, { chain: pki.chains.good, signedDate: sd(), tx: anon }).body)).json;
  assert.strictEqual(first.state, 'orphaned', first.reason);
  assert.strictEqual(env.user(s.user), null);
  // The purchase with the user's token arrives: the orphan is linked and replayed in the same commit.
  await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY', { purchaseDate: Date.now() - 1000, expiresDate: Date.now() + 30 * DAY });
  assert.strictEqual(env.sql(`SELECT state FROM inbox WHERE id = ${first.inbox_id}`)[0].state, 'applied');
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = '${s.user}'`)[0].n, 2);
  // Later notifications without the token find the user by the original transaction id.
  const later = (await post(env, A.notification('DID_CHANGE_RENEWAL_STATUS', 'AUTO_RENEW_DISABLED', {
    chain: pki.chains.good, signedDate: sd(), tx: A.transaction({ originalTransactionId: s.otid, productId: PRO }),
  }).body)).json;
  assert.strictEqual(later.state, 'applied', later.reason);
  assert.strictEqual(later.user || s.user, s.user);
  assert.strictEqual(sub(env, s).state, 'canceled');
});

test('an unknown product is stored as unknown_product and replayable', async (env) => {
  const s = subscriber();
  const r = await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY', { productId: 'com.example.not.in.catalog' });
  assert.strictEqual(r.state, 'unknown_product', r.reason);
  assert.ok(!pro(env, s));
  const row = env.sql(`SELECT state FROM inbox WHERE id = ${r.inbox_id}`)[0];
  assert.strictEqual(row.state, 'unknown_product');
});

test('verify is clean after every story above', async (env) => {
  const v = env.verify();
  assert.ok(v.ok, JSON.stringify(v.doc));
});

test('sandbox notifications are stored as ignored unless apple.sandbox is on, and marked as sandbox when on', async (env) => {
  const s = subscriber();
  const r = await s.send(env, 'SUBSCRIBED', 'INITIAL_BUY', { environment: 'Sandbox' });
  assert.strictEqual(r.state, 'ignored');
  assert.match(r.reason, /test|sandbox/i);
  assert.strictEqual(env.user(s.user), null, 'a sandbox purchase unlocks nothing');
  assert.strictEqual(env.sql(`SELECT live FROM inbox WHERE id = ${r.inbox_id}`)[0].live, 0);
  const sb = await startApple(pki, { apple: { sandbox: true } });
  try {
    const t = subscriber();
    const r2 = await t.send(sb, 'SUBSCRIBED', 'INITIAL_BUY', { environment: 'Sandbox' });
    assert.strictEqual(r2.state, 'applied', r2.reason);
    assert.strictEqual(sub(sb, t).live, false);
    assert.strictEqual(sb.sql(`SELECT live FROM payments WHERE user_id = '${t.user}'`)[0].live, 0);
  } finally {
    await sb.stop();
  }
});

run({
  before: async () => {
    pki = A.makePki();
    return startApple(pki);
  },
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
