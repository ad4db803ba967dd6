'use strict';
// Google Play pushes through nginx + tally-google on a real SQLite file, against the fake
// Google (tests/fakes/google.js: its push-signing keys, token endpoint and Android Publisher
// API): every subscription notification code with the API answering each state, one-time
// products, voided purchases, duplicates (by messageId: one API call; by order: one grant),
// out-of-order pushes, upgrade and downgrade chains, license testers and google.test_mode,
// orphans replayed once linked (user_id and hmac identities), every token refusal (401,
// nothing stored, nothing fetched), an unreadable push stored failed, the API's 404 and 410
// stored, and its 403/429/5xx answered 503 until a redelivery succeeds.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { test, run, assert } = require('../lib/t');
const { Env } = require('../lib/harness');
const { FakeGoogle } = require('../fakes/google');
const G = require('../lib/google');

const PKG = 'com.example.tally';
const DAY = 86400000;
const IDENTITY_KEY = crypto.randomBytes(32).toString('hex');

function config(g, extra = {}) {
  return {
    google: {
      package_name: PKG, push_audience: g.audience, push_service_account: g.pushEmail,
      certs_url: g.certsUrl, api_base: g.apiBase, token_url: g.tokenUrl, ...extra,
    },
    policy: { grace_period: '7d', renewal_leeway: '1d' },
    products: {
      pro_monthly: { kind: 'subscription', entitlements: ['pro'], credits: 1000, trial_credits: 100, match: { google: ['pro_monthly'] } },
      pro_yearly: { kind: 'subscription', entitlements: ['pro'], credits: 12000, match: { google: ['pro_yearly'] } },
      credits_500: { kind: 'pack', credits: 500, match: { google: ['credits_500'] } },
    },
  };
}

async function startEnv(g, dir, extra = {}, env = {}, handlers = ['google']) {
  const sa = path.join(dir, `sa-${crypto.randomBytes(4).toString('hex')}.json`);
  fs.writeFileSync(sa, g.serviceAccountJson(), { mode: 0o600 });
  return Env.start({ config: config(g, extra), handlers, env: { GOOGLE_SERVICE_ACCOUNT_FILE: sa, ...env } });
}

const user = (p) => `${p}_${crypto.randomBytes(4).toString('hex')}`;
const mid = () => String(10000000000 + crypto.randomInt(1e9));
const hasEnt = (doc, name) => !!doc && doc.entitlements.some((e) => e.name === name);
const subOf = (doc, token) => doc.subscriptions.find((s) => s.provider_id === token);

// POST a push: the notification wrapped as Pub/Sub does, with a token the fake signs.
async function push(ctx, notification, o = {}) {
  const g = o.g || ctx.g;
  const body = o.body !== undefined ? o.body : g.pushBody(notification, { messageId: o.messageId || mid() });
  const headers = { 'Content-Type': 'application/json' };
  const token = o.token !== undefined ? o.token : g.signPush(o.claims || {}, o.header || {});
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  return (o.env || ctx.env).request('POST', '/webhooks/google', body, headers);
}

async function ok(ctx, notification, state = 'applied', o = {}) {
  const r = await push(ctx, notification, o);
  assert.strictEqual(r.status, 200, r.text);
  if (state) assert.strictEqual(r.json.state, state, r.text);
  return r.json;
}

const fetches = (g, token) => g.requests.filter((r) => r.path.endsWith(`/tokens/${encodeURIComponent(token)}`) && r.method === 'GET').length;

// A subscription bought now by account: the fake holds it, PURCHASED is pushed.
async function buySub(ctx, account, o = {}) {
  const s = { token: G.token(), order: G.orderId(), start: Date.now() - 1000, account, productId: o.productId || 'pro_monthly' };
  s.expiry = s.start + 30 * DAY;
  s.doc = (extra = {}) => G.subV2({ productId: s.productId, orderId: s.order, start: s.start, expiry: s.expiry, account, ...o, ...extra });
  ctx.g.setSubscription(s.token, s.doc());
  s.res = await ok(ctx, G.subNotification(G.SUB.PURCHASED, s.token), o.expect === undefined ? 'applied' : o.expect);
  return s;
}

function spend(env, u, amount) {
  const r = env.tally(['credits', 'revoke', u, String(amount), '--reason', 'usage in test', '--operator', 'test']);
  assert.strictEqual(r.code, 0, r.stderr);
}

function verifyOk(env) {
  const v = env.verify();
  assert.ok(v.ok, `tally verify: ${JSON.stringify(v.doc)} ${v.stderr}`);
}

function inbox(env, eventId) {
  return env.sql(`SELECT i.state, i.reason, i.type, i.live, CAST(b.body AS TEXT) AS body FROM inbox i JOIN inbox_bodies b ON b.inbox_id = i.id WHERE i.provider = 'google' AND i.event_id = '${eventId}'`)[0];
}

// --- subscriptions ---

test('purchased: the envelope stored, the user entitled and credited', async (ctx) => {
  const u = user('g_ann');
  const s = await buySub(ctx, u);
  const doc = ctx.env.user(u);
  assert.ok(hasEnt(doc, 'pro'));
  assert.strictEqual(doc.balance.available, 1000);
  const sub = subOf(doc, s.token);
  assert.strictEqual(sub.state, 'active');
  assert.strictEqual(sub.product, 'pro_monthly');
  assert.strictEqual(sub.period_end, new Date(s.expiry).toISOString());
  assert.ok(doc.links.some((l) => l.provider === 'google' && l.kind === 'purchase_token' && l.id === s.token));
  assert.ok(doc.links.some((l) => l.provider === 'google' && l.kind === 'google_account' && l.id === u));
  const row = inbox(ctx.env, s.res.event_id);
  assert.strictEqual(row.type, 'SUBSCRIPTION_PURCHASED/ACTIVE');
  const env = JSON.parse(row.body);
  assert.strictEqual(env.tally_google.v, 1);
  assert.strictEqual(env.tally_google.call, 'subscriptionsv2');
  assert.strictEqual(env.tally_google.status, 200);
  assert.strictEqual(env.tally_google.token, s.token);
  assert.strictEqual(env.notification.subscriptionNotification.purchaseToken, s.token);
  assert.strictEqual(env.purchase.latestOrderId, s.order);
  const pay = ctx.env.sql(`SELECT p.amount, p.currency, p.kind FROM payments p JOIN payment_keys k ON k.payment_id = p.id WHERE k.key = '${s.order}'`);
  assert.deepStrictEqual(pay, [{ amount: 999, currency: 'USD', kind: 'initial' }]);
  // A replay reads the stored envelope again, without Google.
  const before = fetches(ctx.g, s.token);
  const id = ctx.env.sql(`SELECT id FROM inbox WHERE event_id = '${s.res.event_id}'`)[0].id;
  const r = ctx.env.tally(['events', 'replay', String(id), '--operator', 'test']);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  assert.strictEqual(fetches(ctx.g, s.token), before);
  verifyOk(ctx.env);
});

test('every subscription code, the API answering each state', async (ctx) => {
  const u = user('g_life');
  const s = await buySub(ctx, u);
  const step = async (code, extra, check) => {
    ctx.g.setSubscription(s.token, s.doc(extra));
    const res = await ok(ctx, G.subNotification(code, s.token));
    const doc = ctx.env.user(u);
    try {
      check(subOf(doc, s.token), doc, res);
    } catch (e) {
      e.message += ` (code ${code}: ${res.reason}; ${JSON.stringify(subOf(doc, s.token))} ${JSON.stringify(doc.balance)})`;
      throw e;
    }
  };
  spend(ctx.env, u, 400);
  // Renewed: a new order "..0", a new period; credits RESET to the plan's.
  s.expiry += 30 * DAY;
  await step(G.SUB.RENEWED, { orderId: `${s.order}..0` }, (sub, doc) => {
    assert.strictEqual(sub.state, 'active');
    assert.strictEqual(sub.period_end, new Date(s.expiry).toISOString());
    assert.strictEqual(doc.balance.available, 1000);
  });
  await step(G.SUB.CANCELED, { state: 'CANCELED', orderId: `${s.order}..0` }, (sub, doc) => {
    assert.strictEqual(sub.state, 'canceled');
    assert.strictEqual(sub.cancel_at_period_end, true);
    assert.ok(hasEnt(doc, 'pro'), 'access until expiry');
  });
  await step(G.SUB.RESTARTED, { orderId: `${s.order}..0` }, (sub) => {
    assert.strictEqual(sub.state, 'active');
    assert.strictEqual(sub.cancel_at_period_end, false);
  });
  await step(G.SUB.CANCELLATION_SCHEDULED, { orderId: `${s.order}..0`, autoRenew: false }, (sub) => {
    assert.strictEqual(sub.state, 'active');
    assert.strictEqual(sub.cancel_at_period_end, true);
  });
  for (const code of [G.SUB.PRICE_CHANGE_CONFIRMED, G.SUB.PRICE_CHANGE_UPDATED, G.SUB.PRICE_STEP_UP_CONSENT_UPDATED, G.SUB.ITEMS_CHANGED, G.SUB.PAUSE_SCHEDULE_CHANGED]) {
    await step(code, { orderId: `${s.order}..0` }, (sub, doc) => {
      assert.strictEqual(sub.state, 'active', `code ${code}`);
      assert.strictEqual(doc.balance.available, 1000, `code ${code}`);
    });
  }
  // Deferred: the same order, a later expiry; no credits again.
  s.expiry += 10 * DAY;
  await step(G.SUB.DEFERRED, { orderId: `${s.order}..0` }, (sub, doc) => {
    assert.strictEqual(sub.period_end, new Date(s.expiry).toISOString());
    assert.strictEqual(doc.balance.available, 1000);
  });
  // Grace: the renewal failed, access continues until expiryTime; the user is told once.
  await step(G.SUB.IN_GRACE_PERIOD, { state: 'IN_GRACE_PERIOD', orderId: `${s.order}..0` }, (sub, doc) => {
    assert.strictEqual(sub.state, 'past_due');
    assert.strictEqual(sub.access, true);
    assert.ok(hasEnt(doc, 'pro'));
  });
  // Hold: no access, no second payment_failed for the same renewal.
  await step(G.SUB.ON_HOLD, { state: 'ON_HOLD', orderId: `${s.order}..0`, expiry: Date.now() - 1000 }, (sub, doc) => {
    assert.strictEqual(sub.state, 'past_due');
    assert.strictEqual(sub.access, false);
    assert.ok(!hasEnt(doc, 'pro'));
  });
  assert.strictEqual(ctx.env.sql(`SELECT count(*) AS n FROM outbox WHERE topic = 'payment_failed' AND user_id = '${u}'`)[0].n, 1);
  // Recovered: the retried renewal paid ("..1"), a new period: access and credits back.
  s.expiry += 30 * DAY;
  await step(G.SUB.RECOVERED, { orderId: `${s.order}..1` }, (sub, doc) => {
    assert.strictEqual(sub.state, 'active');
    assert.ok(hasEnt(doc, 'pro'));
    assert.strictEqual(doc.balance.available, 1000, 'a new period: credits reset');
  });
  await step(G.SUB.PAUSED, { state: 'PAUSED', orderId: `${s.order}..1` }, (sub, doc) => {
    assert.strictEqual(sub.state, 'paused');
    assert.ok(!hasEnt(doc, 'pro'));
    assert.strictEqual(doc.balance.available, 0);
  });
  // Resumed: the next period paid ("..2").
  s.expiry += 30 * DAY;
  await step(G.SUB.RECOVERED, { orderId: `${s.order}..2` }, (sub, doc) => {
    assert.strictEqual(sub.state, 'active');
    assert.strictEqual(doc.balance.available, 1000);
  });
  // Revoked: now, whatever the API still says.
  await step(G.SUB.REVOKED, { orderId: `${s.order}..2` }, (sub, doc) => {
    assert.strictEqual(sub.state, 'revoked');
    assert.ok(!hasEnt(doc, 'pro'));
    assert.strictEqual(doc.balance.available, 0);
  });
  await step(G.SUB.EXPIRED, { state: 'EXPIRED', orderId: `${s.order}..2` }, (sub) => {
    assert.strictEqual(sub.state, 'expired');
  });
  const payments = ctx.env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = '${u}'`)[0].n;
  assert.strictEqual(payments, 4, 'the initial order and three renewals');
  verifyOk(ctx.env);
});

test('pending purchase: nothing granted, then canceled', async (ctx) => {
  const u = user('g_pend');
  const s = await buySub(ctx, u, { state: 'PENDING', ack: false });
  let doc = ctx.env.user(u);
  assert.strictEqual(subOf(doc, s.token).state, 'incomplete');
  assert.ok(!hasEnt(doc, 'pro'));
  assert.strictEqual(doc.balance.available, 0);
  ctx.g.setSubscription(s.token, s.doc({ state: 'PENDING_PURCHASE_CANCELED', orderId: null }));
  await ok(ctx, G.subNotification(G.SUB.PENDING_PURCHASE_CANCELED, s.token));
  doc = ctx.env.user(u);
  assert.strictEqual(subOf(doc, s.token).state, 'expired');
  assert.strictEqual(ctx.env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = '${u}'`)[0].n, 0);
});

test('free trial: trialing with the trial credits', async (ctx) => {
  const u = user('g_trial');
  const s = await buySub(ctx, u, { trial: true, price: '9.99' });
  const doc = ctx.env.user(u);
  assert.strictEqual(subOf(doc, s.token).state, 'trialing');
  assert.strictEqual(doc.balance.available, 100);
  assert.strictEqual(ctx.env.sql(`SELECT amount FROM payments WHERE user_id = '${u}'`)[0].amount, 0);
});

test('owed to Google: acknowledged (a pack consumed) right after the commit, once', async (ctx) => {
  const u = user('g_ack');
  const token = G.token();
  ctx.g.setSubscription(token, G.subV2({ account: u, ack: false }));
  const messageId = mid();
  await ok(ctx, G.subNotification(G.SUB.PURCHASED, token), 'applied', { messageId });
  assert.deepStrictEqual(ctx.g.acks.filter((a) => a.token === token).map((a) => [a.kind, a.productId]), [['subscription', 'pro_monthly']]);
  const task = ctx.env.sql(`SELECT kind, arg, state, deadline FROM tasks WHERE key = '${token}'`);
  assert.strictEqual(task.length, 1);
  assert.strictEqual(task[0].kind, 'google_ack_sub');
  assert.strictEqual(task[0].state, 'done');
  // The redelivery and another notification of the purchase owe nothing more.
  await push(ctx, G.subNotification(G.SUB.PURCHASED, token), { messageId });
  await ok(ctx, G.subNotification(G.SUB.RENEWED, token));
  assert.strictEqual(ctx.g.acks.filter((a) => a.token === token).length, 1);
  assert.strictEqual(ctx.env.sql(`SELECT count(*) AS n FROM tasks WHERE key = '${token}'`)[0].n, 1);
  // A pack: consumed, so that it can be bought again.
  const p = G.token();
  ctx.g.setProduct('credits_500', p, G.productPurchase({ token: p, account: u, ack: false }));
  await ok(ctx, G.productNotification(G.ONE_TIME.PURCHASED, p, 'credits_500'));
  assert.strictEqual(ctx.g.consumes.filter((c) => c.token === p).length, 1);
  assert.strictEqual(ctx.env.sql(`SELECT kind, state FROM tasks WHERE key = '${p}'`)[0].state, 'done');
  // Google refusing the acknowledgement for now: left to the tasks job, the purchase applied.
  const t2 = G.token();
  ctx.g.setSubscription(t2, G.subV2({ account: u, ack: false }));
  ctx.g.failNext(/:acknowledge$/, 503);
  await ok(ctx, G.subNotification(G.SUB.PURCHASED, t2));
  assert.strictEqual(ctx.env.sql(`SELECT state FROM tasks WHERE key = '${t2}'`)[0].state, 'pending');
});

// --- duplicates and order ---

test('duplicates: one messageId twice is one API call and one grant', async (ctx) => {
  const u = user('g_dup');
  const token = G.token();
  ctx.g.setSubscription(token, G.subV2({ account: u }));
  const messageId = mid();
  const first = await ok(ctx, G.subNotification(G.SUB.PURCHASED, token), 'applied', { messageId });
  const counts = ctx.env.counts();
  const again = await push(ctx, G.subNotification(G.SUB.PURCHASED, token), { messageId });
  assert.strictEqual(again.status, 200, again.text);
  assert.strictEqual(again.json.duplicate, true);
  assert.strictEqual(again.json.event_id, first.event_id);
  assert.strictEqual(again.json.inbox_id, first.inbox_id);
  assert.strictEqual(fetches(ctx.g, token), 1);
  assert.deepStrictEqual(ctx.env.counts(), counts);
  assert.strictEqual(ctx.env.user(u).balance.available, 1000);
});

test('duplicates: two messageIds about one order grant once', async (ctx) => {
  const u = user('g_dup2');
  const s = await buySub(ctx, u);
  const r = await ok(ctx, G.subNotification(G.SUB.PURCHASED, s.token));
  assert.strictEqual(r.duplicate, false);
  assert.match(r.reason, /already recorded/);
  assert.strictEqual(fetches(ctx.g, s.token), 2);
  assert.strictEqual(ctx.env.user(u).balance.available, 1000);
  assert.strictEqual(ctx.env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = '${u}'`)[0].n, 1);
});

test('out of order: late pushes read the current truth and change nothing back', async (ctx) => {
  const u = user('g_ooo');
  const token = G.token();
  const order = G.orderId();
  const start = Date.now() - 40 * DAY;
  // Renewed before tally heard of the purchase: RENEWED first, PURCHASED late.
  ctx.g.setSubscription(token, G.subV2({ account: u, orderId: `${order}..0`, start, expiry: Date.now() + 20 * DAY }));
  await ok(ctx, G.subNotification(G.SUB.RENEWED, token));
  await ok(ctx, G.subNotification(G.SUB.PURCHASED, token));
  // An EXPIRED push delivered after the renewal (Pub/Sub does not keep order).
  await ok(ctx, G.subNotification(G.SUB.EXPIRED, token));
  const doc = ctx.env.user(u);
  assert.strictEqual(subOf(doc, token).state, 'active');
  assert.ok(hasEnt(doc, 'pro'));
  assert.strictEqual(doc.balance.available, 1000);
  assert.strictEqual(ctx.env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = '${u}'`)[0].n, 1);
});

// --- token chains ---

test('upgrade then downgrade: each new token retires the old and carries the user', async (ctx) => {
  const u = user('g_up');
  const a = await buySub(ctx, u);
  spend(ctx.env, u, 300);
  // Upgrade to yearly: a new token linked to the old one, with no account id of its own.
  const b = { token: G.token(), order: G.orderId() };
  ctx.g.setSubscription(b.token, G.subV2({ productId: 'pro_yearly', basePlanId: 'yearly', orderId: b.order, linked: a.token, expiry: Date.now() + 365 * DAY }));
  ctx.g.setSubscription(a.token, a.doc({ state: 'EXPIRED' }));
  await ok(ctx, G.subNotification(G.SUB.PURCHASED, b.token));
  let doc = ctx.env.user(u);
  assert.strictEqual(subOf(doc, b.token).state, 'active');
  assert.strictEqual(subOf(doc, b.token).product, 'pro_yearly');
  assert.strictEqual(subOf(doc, a.token).state, 'expired');
  assert.strictEqual(doc.balance.available, 12000);
  assert.ok(hasEnt(doc, 'pro'));
  // A late push about the old token, the fake still calling it active: it stays ended.
  ctx.g.setSubscription(a.token, a.doc({ orderId: `${a.order}..0`, expiry: Date.now() + 30 * DAY }));
  await ok(ctx, G.subNotification(G.SUB.RENEWED, a.token));
  doc = ctx.env.user(u);
  assert.strictEqual(subOf(doc, a.token).state, 'expired');
  assert.strictEqual(doc.balance.available, 12000);
  // Downgrade back to monthly.
  const c = { token: G.token(), order: G.orderId() };
  ctx.g.setSubscription(c.token, G.subV2({ orderId: c.order, linked: b.token, account: u }));
  await ok(ctx, G.subNotification(G.SUB.PURCHASED, c.token));
  doc = ctx.env.user(u);
  assert.strictEqual(subOf(doc, c.token).state, 'active');
  assert.strictEqual(subOf(doc, b.token).state, 'expired');
  assert.strictEqual(doc.balance.available, 1000);
  assert.strictEqual(doc.entitlements.filter((e) => e.name === 'pro').length, 1);
  verifyOk(ctx.env);
});

// --- one-time products, voided purchases ---

test('one-time pack: credits per unit; canceled and pending grant nothing', async (ctx) => {
  const u = user('g_pack');
  const token = G.token();
  const order = G.orderId();
  ctx.g.setProduct('credits_500', token, G.productPurchase({ token, orderId: order, account: u, quantity: 2, ack: false }));
  const r = await ok(ctx, G.productNotification(G.ONE_TIME.PURCHASED, token, 'credits_500'));
  assert.strictEqual(ctx.env.user(u).balance.available, 1000);
  assert.strictEqual(inbox(ctx.env, r.event_id).type, 'ONE_TIME_PRODUCT_PURCHASED/PURCHASED');
  for (const state of [1, 2]) {
    const t = G.token();
    ctx.g.setProduct('credits_500', t, G.productPurchase({ token: t, account: u, state }));
    await ok(ctx, G.productNotification(state === 1 ? G.ONE_TIME.CANCELED : G.ONE_TIME.PURCHASED, t, 'credits_500'), 'ignored');
  }
  assert.strictEqual(ctx.env.user(u).balance.available, 1000);
});

test('voided: a full refund claws back, a quantity-based partial one is recorded and alerted', async (ctx) => {
  const u = user('g_void');
  const s = await buySub(ctx, u);
  await ok(ctx, G.voidedNotification({ purchaseToken: s.token, orderId: s.order, productType: 1, refundType: 1 }));
  let doc = ctx.env.user(u);
  assert.strictEqual(subOf(doc, s.token).state, 'refunded');
  assert.ok(!hasEnt(doc, 'pro'));
  assert.strictEqual(doc.balance.available, 0);
  // The same void again (another message): nothing more.
  const again = await ok(ctx, G.voidedNotification({ purchaseToken: s.token, orderId: s.order, productType: 1, refundType: 1 }));
  assert.match(again.reason, /nothing revoked again/);
  // A pack, partly refunded.
  const token = G.token();
  const order = G.orderId();
  ctx.g.setProduct('credits_500', token, G.productPurchase({ token, orderId: order, account: u, quantity: 3 }));
  await ok(ctx, G.productNotification(G.ONE_TIME.PURCHASED, token, 'credits_500'));
  const partial = await ok(ctx, G.voidedNotification({ purchaseToken: token, orderId: order, productType: 2, refundType: 2 }));
  assert.match(partial.reason, /partial refund/);
  doc = ctx.env.user(u);
  assert.strictEqual(doc.balance.available, 1500);
  assert.strictEqual(ctx.env.sql(`SELECT count(*) AS n FROM outbox WHERE kind = 'alert' AND topic = 'payment.partial_refund'`)[0].n >= 1, true);
  // The full void of the pack takes its credits back.
  await ok(ctx, G.voidedNotification({ purchaseToken: token, orderId: order, productType: 2, refundType: 1 }));
  assert.strictEqual(ctx.env.user(u).balance.available, 0);
  verifyOk(ctx.env);
});

test('refund review and test notification: stored, nothing applied, nothing fetched', async (ctx) => {
  const calls = () => ctx.g.requests.filter((r) => r.path.includes('/purchases/')).length;
  const before = calls();
  const r1 = await ok(ctx, G.developerNotification({ pendingRefundReviewNotification: { pendingRefundToken: 'rt', orderId: 'GPA.1', refundReason: 1 } }), 'ignored');
  assert.match(r1.reason, /pending refund review of order GPA\.1/);
  const r2 = await ok(ctx, G.testNotification(), 'ignored');
  assert.match(r2.reason, /test notification/);
  assert.strictEqual(calls(), before);
});

// --- license testers ---

test('test purchases follow google.test_mode', async (ctx) => {
  const u = user('g_tester');
  const token = G.token();
  ctx.g.setSubscription(token, G.subV2({ account: u, test: true }));
  const off = await ok(ctx, G.subNotification(G.SUB.PURCHASED, token), 'ignored');
  assert.match(off.reason, /google\.test_mode/);
  assert.strictEqual(ctx.env.user(u), null);
  const env = await startEnv(ctx.g, ctx.env.dir, { test_mode: true });
  try {
    await ok(ctx, G.subNotification(G.SUB.PURCHASED, token), 'applied', { env });
    assert.ok(hasEnt(env.user(u), 'pro'));
    assert.strictEqual(env.sql(`SELECT live FROM inbox WHERE provider = 'google'`)[0].live, 0);
  } finally {
    await env.stop();
  }
});

// --- identity and orphans ---

test('orphan without an account id, replayed once its token is linked', async (ctx) => {
  const u = user('g_orph');
  const token = G.token();
  ctx.g.setSubscription(token, G.subV2({}));
  const r = await ok(ctx, G.subNotification(G.SUB.PURCHASED, token), 'orphaned');
  assert.match(r.reason, /purchase_token/);
  // The user exists once an event names them (a pack bought with the account id).
  const t2 = G.token();
  ctx.g.setProduct('credits_500', t2, G.productPurchase({ token: t2, account: u }));
  await ok(ctx, G.productNotification(G.ONE_TIME.PURCHASED, t2, 'credits_500'));
  const l = ctx.env.tally(['links', 'add', u, 'google', 'purchase_token', token, '--operator', 'test']);
  assert.strictEqual(l.code, 0, l.stderr);
  assert.strictEqual(ctx.env.sql(`SELECT state FROM inbox WHERE id = ${r.inbox_id}`)[0].state, 'applied');
  const doc = ctx.env.user(u);
  assert.ok(hasEnt(doc, 'pro'));
  assert.strictEqual(doc.balance.available, 1500);
});

test('hmac identity: an unknown account is an orphan until the account is linked', async (ctx) => {
  const env = await startEnv(ctx.g, ctx.env.dir, { identity: 'hmac' },
    { GOOGLE_IDENTITY_KEY: IDENTITY_KEY, TALLY_JWT_SECRET: 'jwt-secret-for-tests-0123456789abcdef' }, ['google', 'api']);
  try {
    const u = user('g_hmac');
    const account = crypto.createHmac('sha256', IDENTITY_KEY).update(u).digest('hex');
    const token = G.token();
    ctx.g.setSubscription(token, G.subV2({ account }));
    const r = await ok(ctx, G.subNotification(G.SUB.PURCHASED, token), 'orphaned', { env });
    assert.match(r.reason, /google_account/);
    assert.strictEqual(env.user(account), null, 'the hash is never a user');
    // The app registers the user; the account id is linked to it (as the API will when it tells the app).
    const key = env.tallyJson(['keys', 'create', '--name', 'admin', '--scopes', 'read,spend,admin']).key;
    const reg = await env.request('POST', `/v1/users/${u}`, undefined, { Authorization: `Bearer ${key}` });
    assert.ok(reg.status === 200 || reg.status === 201, reg.text);
    assert.strictEqual(env.tally(['links', 'add', u, 'google', 'google_account', account, '--operator', 'test']).code, 0);
    assert.strictEqual(env.sql(`SELECT state FROM inbox WHERE id = ${r.inbox_id}`)[0].state, 'applied');
    assert.ok(hasEnt(env.user(u), 'pro'));
    // The next purchase of that account finds the user at once.
    const t2 = G.token();
    ctx.g.setProduct('credits_500', t2, G.productPurchase({ token: t2, account }));
    await ok(ctx, G.productNotification(G.ONE_TIME.PURCHASED, t2, 'credits_500'), 'applied', { env });
    assert.strictEqual(env.user(u).balance.available, 1500);
  } finally {
    await env.stop();
  }
});

// --- refusals: 401, nothing stored, nothing fetched ---

const now = () => Math.floor(Date.now() / 1000);
const REFUSALS = [
  ['alg none', {}, { alg: 'none' }],
  ['HS256 keyed with the public key', {}, { alg: 'HS256' }],
  ['RS512', {}, { alg: 'RS512' }],
  ['an unknown kid', {}, { kid: 'f'.repeat(40) }],
  ['a key Google never published, under its kid', {}, { stranger: true }],
  ['another audience', { aud: 'https://elsewhere.example/push' }, {}],
  ['another service account', { email: 'intruder@evil.iam.gserviceaccount.com' }, {}],
  ['email not verified', { email_verified: false }, {}],
  ['another issuer', { iss: 'https://accounts.example.com' }, {}],
  ['expired', { iat: now() - 7200, exp: now() - 3600 }, {}],
  ['issued in the future', { iat: now() + 600, exp: now() + 4200 }, {}],
  ['no exp', { exp: undefined }, {}],
];

for (const [name, claims, header] of REFUSALS) {
  test(`refused 401: ${name}`, async (ctx) => {
    const token = G.token();
    ctx.g.setSubscription(token, G.subV2({ account: user('g_forged') }));
    const counts = ctx.env.counts();
    const { stranger, ...h } = header;
    const jwt = ctx.g.signPush(claims, stranger ? { ...h, key: ctx.g.strangerKey() } : h);
    const r = await push(ctx, G.subNotification(G.SUB.PURCHASED, token), { token: jwt });
    assert.strictEqual(r.status, 401, r.text);
    assert.ok(r.json && r.json.error && r.json.error.message, r.text);
    assert.deepStrictEqual(ctx.env.counts(), counts);
    assert.strictEqual(fetches(ctx.g, token), 0);
  });
}

test('refused 401: no Authorization, or not a Bearer token', async (ctx) => {
  const counts = ctx.env.counts();
  for (const token of [null, '', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer not.a.jwt']) {
    const headers = { 'Content-Type': 'application/json' };
    if (token !== null) headers.Authorization = token;
    const r = await ctx.env.request('POST', '/webhooks/google', ctx.g.pushBody(G.testNotification()), headers);
    assert.strictEqual(r.status, 401, `${token}: ${r.text}`);
  }
  assert.deepStrictEqual(ctx.env.counts(), counts);
});

test('Google\'s keys: fetched once per process, never per request, made-up kids included', async (ctx) => {
  const env = await startEnv(ctx.g, ctx.env.dir);
  try {
    const before = ctx.g.certsFetches;
    for (let i = 0; i < 6; i++) {
      const r = await push(ctx, G.testNotification(), { env, header: { kid: crypto.randomBytes(20).toString('hex') } });
      assert.strictEqual(r.status, 401, r.text);
      assert.strictEqual(r.json.error.code, 'unknown_key');
    }
    for (let i = 0; i < 3; i++) await ok(ctx, G.testNotification(), 'ignored', { env });
    assert.strictEqual(ctx.g.certsFetches - before, 1);
  } finally {
    await env.stop();
  }
});

// --- authentic but unusable ---

test('an unwrapped body with a valid token is stored failed, alerted, answered 200', async (ctx) => {
  const body = JSON.stringify(G.testNotification());
  const r = await push(ctx, null, { body });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.state, 'failed');
  assert.match(r.json.reason, /wrapped/);
  assert.match(r.json.event_id, /^push:[0-9a-f]{32}$/);
  assert.strictEqual(inbox(ctx.env, r.json.event_id).body, body);
  assert.ok(ctx.env.sql(`SELECT count(*) AS n FROM outbox WHERE kind = 'alert' AND payload LIKE '%${r.json.event_id}%'`)[0].n >= 1);
  // Resent: the same event, a duplicate.
  const again = await push(ctx, null, { body });
  assert.strictEqual(again.json.duplicate, true);
  // Bad base64, bad JSON, another package: each stored failed with its reason.
  for (const [data, why] of [['!!notbase64', /base64/], [Buffer.from('{').toString('base64'), /not JSON/],
    [Buffer.from(JSON.stringify(G.developerNotification({ testNotification: {} }, { packageName: 'com.other' }))).toString('base64'), /com\.other/]]) {
    const b = JSON.stringify({ message: { data, messageId: mid(), publishTime: new Date().toISOString() }, subscription: 'projects/p/subscriptions/s' });
    const x = await push(ctx, null, { body: b });
    assert.strictEqual(x.status, 200, x.text);
    assert.strictEqual(x.json.state, 'failed');
    assert.match(x.json.reason, why);
  }
});

test('hostile bodies with a valid token: each stored failed with its reason, nothing fetched; without one, 401', async (ctx) => {
  const calls = () => ctx.g.requests.filter((r) => r.path.includes('/purchases/')).length;
  const before = calls();
  const forged = `{"tally_google":{"v":1,"message_id":"x","fetched_at":1,"call":"none","status":0},"notification":${JSON.stringify(G.testNotification())}}`;
  const bodies = [
    Buffer.from('{"message":'.repeat(200) + '1' + '}'.repeat(200)),
    Buffer.from([0x7b, 0x22, 0x6d, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    Buffer.from('{"message":{"data":"\u0000","messageId":"1"}}'),
    Buffer.from('{"message":{"data":"e30=","messageId":"1","messageId":"2"}}'),
    Buffer.from(`{"message":{"data":"${Buffer.from('{"packageName":"com.example.tally","eventTimeMillis":1e400,"testNotification":{}}').toString('base64')}","messageId":"${mid()}"}}`),
    Buffer.from(`{"message":{"data":"${Buffer.from(JSON.stringify(G.subNotification(4, 'x'.repeat(300)))).toString('base64')}","messageId":"${mid()}"}}`),
    Buffer.from(forged),
    Buffer.from('[]'),
  ];
  for (const body of bodies) {
    const counts = ctx.env.counts();
    const r = await push(ctx, null, { body, token: null });
    assert.strictEqual(r.status, 401, r.text);
    assert.deepStrictEqual(ctx.env.counts(), counts);
    const x = await push(ctx, null, { body });
    assert.strictEqual(x.status, 200, `${body.toString('latin1').slice(0, 60)}: ${x.text}`);
    assert.strictEqual(x.json.state, 'failed', x.text);
    assert.ok(x.json.reason.length > 0);
  }
  assert.strictEqual(calls(), before);
  // tally's own envelope from the network is never read as one; the bytes are kept.
  const row = ctx.env.sql(`SELECT i.reason, CAST(b.body AS TEXT) AS body FROM inbox i JOIN inbox_bodies b ON b.inbox_id = i.id WHERE i.reason LIKE '%shaped like tally%'`);
  assert.strictEqual(row.length, 1);
  assert.strictEqual(Buffer.from(JSON.parse(row[0].body).tally_google_forged, 'base64').toString(), forged);
});

test('the API answering 404 or 410: stored with the reason', async (ctx) => {
  const gone = G.token();
  const r404 = await ok(ctx, G.subNotification(G.SUB.RENEWED, gone), 'failed');
  assert.match(r404.reason, /404/);
  const env = JSON.parse(inbox(ctx.env, r404.event_id).body);
  assert.strictEqual(env.tally_google.status, 404);
  assert.strictEqual(env.purchase, null);
  const old = G.token();
  ctx.g.setSubscription(old, G.subV2({ account: user('g_old') }));
  ctx.g.failNext(new RegExp(`/tokens/${old.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`), 410);
  const r410 = await ok(ctx, G.subNotification(G.SUB.EXPIRED, old), 'ignored');
  assert.match(r410.reason, /410/);
});

test('the API answering 403, 429, 5xx or nothing: 503, nothing stored, the redelivery applies', async (ctx) => {
  for (const status of [403, 429, 500, 503, 0]) {
    const u = user('g_retry');
    const token = G.token();
    ctx.g.setSubscription(token, G.subV2({ account: u }));
    ctx.g.failNext(/subscriptionsv2/, status);
    const messageId = mid();
    const counts = ctx.env.counts();
    const r = await push(ctx, G.subNotification(G.SUB.PURCHASED, token), { messageId });
    assert.strictEqual(r.status, 503, `${status}: ${r.text}`);
    assert.strictEqual(r.json.error.code, 'provider_unavailable');
    assert.deepStrictEqual(ctx.env.counts(), counts);
    await ok(ctx, G.subNotification(G.SUB.PURCHASED, token), 'applied', { messageId });
    assert.ok(hasEnt(ctx.env.user(u), 'pro'), `after ${status}`);
  }
});

test('not configured: every push refused 503', async (ctx) => {
  const env = await Env.start({ config: config(ctx.g), handlers: ['google'] });
  try {
    const counts = env.counts();
    const r = await push(ctx, G.testNotification(), { env });
    assert.strictEqual(r.status, 503, r.text);
    assert.strictEqual(r.json.error.code, 'not_configured');
    assert.match(env.log('google'), /GOOGLE_SERVICE_ACCOUNT_FILE/);
    assert.deepStrictEqual(env.counts(), counts);
  } finally {
    await env.stop();
  }
});

test('rebuild: every stored push, replayed from its envelope without Google, equals the live database', async (ctx) => {
  const calls = ctx.g.requests.length;
  const r = ctx.env.tally(['rebuild', '--json']);
  const doc = JSON.parse(r.stdout);
  assert.deepStrictEqual(doc.differences, [], JSON.stringify(doc.differences, null, 1));
  assert.strictEqual(doc.identical, true);
  assert.ok(doc.events >= 60, `${doc.events} events`);
  assert.strictEqual(ctx.g.requests.length, calls, 'nothing asked of Google');
  verifyOk(ctx.env);
});

run({
  before: async () => {
    const g = await new FakeGoogle({ packageName: PKG }).start();
    const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'tally-google-'));
    const env = await startEnv(g, dir);
    return { g, env, dir };
  },
  after: async (ctx, failed) => {
    await ctx.env.stop(failed > 0);
    await ctx.g.close();
    fs.rmSync(ctx.dir, { recursive: true, force: true });
  },
});
