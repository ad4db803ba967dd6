'use strict';
// The entitlement detail of the user document (docs/user-document.md): for each subscription
// and each entitlement it gives, will_renew, billing_problem, in_trial and trial_ends_at,
// canceled_at_period_end, managed_in and manage_url, derived from the stored state alone.
// Each state (renewing, canceled at period end, trial, past due in grace, billing retry,
// paused, expired) of each kind of seller (Stripe, the App Store, RevenueCat over the App
// Store, Google Play, Stripe and Amazon, Google Play itself, and tally's own plans), made by
// the providers' own webhooks through nginx (Google Play's rows written directly: its
// webhook is not there yet), read through the API (a key and the user's token), and through
// `tally user show` as JSON and as text.
const crypto = require('crypto');
const { test, run, assert } = require('../lib/t');
const { startApi, jwt, nowS } = require('../lib/api');
const S = require('../lib/stripe-events');
const R = require('../lib/revenuecat-events');
const A = require('../lib/apple');
const J = require('../lib/jobs');

const DAY = 86400e3;
const PORTAL = 'https://billing.stripe.com/p/login/test_tally0123';
const APP_STORE = 'https://apps.apple.com/account/subscriptions';
const PACKAGE = 'com.example.tally';
const PLAY_PRO = `https://play.google.com/store/account/subscriptions?sku=pro&package=${PACKAGE}`;
const RC_AUTH = `Bearer whk_${crypto.randomBytes(18).toString('hex')}`;
const APPLE_PRO = 'com.example.pro.monthly';
const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');
let pki;

function config() {
  const cfg = R.config();
  cfg.products.pro_monthly.match.stripe.push('price_pro_monthly');
  cfg.products.pro_monthly.match.apple.push(APPLE_PRO);
  cfg.products.plan_balance = { kind: 'subscription', entitlements: ['plus'], price_credits: 400, period: '1mo' };
  return {
    ...cfg,
    stripe: { test_mode: true, portal_login_url: PORTAL },
    apple: { bundle_id: A.BUNDLE, app_apple_id: A.APP_ID, sandbox: false, roots: [pki.root.pem] },
    google: { package_name: PACKAGE, push_audience: 'https://tally.example/webhooks/google', push_service_account: 'push@example.iam.gserviceaccount.com' },
    trial: { product: 'pro_monthly', duration: '7d' },
  };
}

// What each case's subscription (and each entitlement it gives) must say.
const cases = {};
const none = { will_renew: false, billing_problem: null, in_trial: false, trial_ends_at: null, canceled_at_period_end: false };
function expect(user, managedIn, url, o = {}) {
  cases[user] = { user, ent: o.ent !== undefined ? o.ent : true, detail: { ...none, managed_in: managedIn, manage_url: url, ...o.detail } };
}
const KEYS = ['will_renew', 'billing_problem', 'in_trial', 'trial_ends_at', 'canceled_at_period_end', 'managed_in', 'manage_url'];
const pick = (x) => Object.fromEntries(KEYS.map((k) => [k, x[k]]));

/* ------------------------------------------------------------------ Stripe */

async function stripeOk(env, evt) {
  const r = await env.stripe(evt);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.state, 'applied', r.text);
}

async function stripeSub(env, user, o = {}) {
  const c = { user, cus: S.rid('cus'), sub: S.rid('sub'), t: nowS() - 60, price: 'price_pro_monthly' };
  c.end = c.t + 30 * 86400;
  await stripeOk(env, S.event('customer.subscription.created', S.subscription({
    id: c.sub, customer: c.cus, price: c.price, metadata: { user_id: user }, periodStart: c.t, periodEnd: o.trialEnd || c.end,
    status: o.trialEnd ? 'trialing' : 'active', trialStart: o.trialEnd ? c.t : undefined, trialEnd: o.trialEnd,
  }), { created: c.t }));
  await stripeOk(env, S.event('invoice.paid', S.invoice({
    id: S.rid('in'), customer: c.cus, subscription: c.sub, price: c.price, subMetadata: { user_id: user }, paymentIntent: S.rid('pi'),
    amount: o.trialEnd ? 0 : 1000, periodStart: c.t, periodEnd: o.trialEnd || c.end,
  }), { created: c.t }));
  return c;
}
const stripeUpdate = (env, c, o, at) => stripeOk(env, S.event(o.deleted ? 'customer.subscription.deleted' : 'customer.subscription.updated', S.subscription({
  id: c.sub, customer: c.cus, price: c.price, periodStart: c.t, periodEnd: c.end, ...o,
}), { created: at }));

test('Stripe: renewing, canceled at period end, trial, past due in grace, paused, expired', async (env) => {
  await stripeSub(env, 'st_active');
  expect('st_active', 'stripe', PORTAL, { detail: { will_renew: true } });

  let c = await stripeSub(env, 'st_cancel');
  await stripeUpdate(env, c, { status: 'active', cancelAtPeriodEnd: true }, c.t + 10);
  expect('st_cancel', 'stripe', PORTAL, { detail: { canceled_at_period_end: true } });

  const trialEnd = nowS() + 7 * 86400;
  await stripeSub(env, 'st_trial', { trialEnd });
  expect('st_trial', 'stripe', PORTAL, { detail: { will_renew: true, in_trial: true, trial_ends_at: iso(trialEnd * 1000) } });

  c = await stripeSub(env, 'st_grace');
  await stripeOk(env, S.event('invoice.payment_failed', S.invoice({
    id: S.rid('in'), customer: c.cus, subscription: c.sub, price: c.price, billingReason: 'subscription_cycle',
    status: 'open', paid: false, periodStart: c.end, periodEnd: c.end + 30 * 86400,
  }), { created: c.t + 10 }));
  // No grace date from Stripe: policy.grace_period (7d) from the failure.
  expect('st_grace', 'stripe', PORTAL, { detail: { billing_problem: { kind: 'grace', ends_at: iso((c.t + 10) * 1000 + 7 * DAY) } } });

  c = await stripeSub(env, 'st_paused');
  await stripeUpdate(env, c, { status: 'paused' }, c.t + 10);
  expect('st_paused', 'stripe', PORTAL, { ent: false });

  c = await stripeSub(env, 'st_expired');
  await stripeUpdate(env, c, { status: 'canceled', endedAt: c.t + 10, deleted: true }, c.t + 10);
  expect('st_expired', 'stripe', PORTAL, { ent: false });
});

/* --------------------------------------------------------------- App Store */

let sd = 0;
const signedDate = () => (sd = Math.max(Date.now(), sd + 1));

async function apple(env, user, otid, type, subtype, txo = {}, renewal = {}) {
  const tx = A.transaction({
    originalTransactionId: otid, appAccountToken: user, productId: APPLE_PRO, purchaseDate: Date.now() - 60e3,
    expiresDate: Date.now() + 30 * DAY, ...txo,
  });
  const n = A.notification(type, subtype, { tx, renewal: A.renewalInfo(tx, renewal), chain: pki.chains.good, signedDate: signedDate() });
  const r = await env.request('POST', '/webhooks/appstore', n.body, { 'Content-Type': 'application/json' });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.state, 'applied', `${type}/${subtype}: ${r.text}`);
}

test('App Store: renewing, canceled at period end, trial, grace, billing retry, expired', async (env) => {
  const u = (name) => ({ user: crypto.randomUUID(), otid: String(1000000000000000 + Math.floor(Math.random() * 1e12)), name });
  const a = u('ap_active');
  await apple(env, a.user, a.otid, 'SUBSCRIBED', 'INITIAL_BUY');
  expect(a.user, 'app_store', APP_STORE, { detail: { will_renew: true } });

  const c = u('ap_cancel');
  await apple(env, c.user, c.otid, 'SUBSCRIBED', 'INITIAL_BUY');
  await apple(env, c.user, c.otid, 'DID_CHANGE_RENEWAL_STATUS', 'AUTO_RENEW_DISABLED', {}, { autoRenewStatus: 0 });
  expect(c.user, 'app_store', APP_STORE, { detail: { canceled_at_period_end: true } });

  const t = u('ap_trial');
  const trialEnd = Date.now() + 7 * DAY;
  await apple(env, t.user, t.otid, 'SUBSCRIBED', 'INITIAL_BUY', { offerType: 1, offerDiscountType: 'FREE_TRIAL', price: 0, expiresDate: trialEnd });
  expect(t.user, 'app_store', APP_STORE, { detail: { will_renew: true, in_trial: true, trial_ends_at: iso(trialEnd) } });

  const g = u('ap_grace');
  const graceEnd = Date.now() + 16 * DAY;
  await apple(env, g.user, g.otid, 'SUBSCRIBED', 'INITIAL_BUY');
  await apple(env, g.user, g.otid, 'DID_FAIL_TO_RENEW', 'GRACE_PERIOD', {}, { gracePeriodExpiresDate: graceEnd, isInBillingRetryPeriod: true });
  expect(g.user, 'app_store', APP_STORE, { detail: { billing_problem: { kind: 'grace', ends_at: iso(graceEnd) } } });

  // Billing retry without a grace period: access ends at once, Apple keeps trying to charge.
  const r = u('ap_retry');
  await apple(env, r.user, r.otid, 'SUBSCRIBED', 'INITIAL_BUY');
  await apple(env, r.user, r.otid, 'DID_FAIL_TO_RENEW', null, {}, { isInBillingRetryPeriod: true });
  const retryAt = env.sql(`SELECT grace_until FROM subscriptions WHERE ext_id = '${r.otid}'`)[0].grace_until;
  expect(r.user, 'app_store', APP_STORE, { ent: false, detail: { billing_problem: { kind: 'retry', ends_at: iso(retryAt) } } });

  const e = u('ap_expired');
  await apple(env, e.user, e.otid, 'SUBSCRIBED', 'INITIAL_BUY');
  await apple(env, e.user, e.otid, 'EXPIRED', 'VOLUNTARY', {}, { autoRenewStatus: 0 });
  expect(e.user, 'app_store', APP_STORE, { ent: false });
});

/* -------------------------------------------------------------- RevenueCat */

let clock = Date.now();
const tick = () => (clock += 1000);
async function rc(env, body) {
  const r = await R.post(env, body, RC_AUTH);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.state, 'applied', `${body.event.type}: ${r.text}`);
}
async function rcBuy(env, user, o = {}) {
  const s = { user, original: R.txn(), start: Date.now() - 1000, product: o.product || 'com.tally.pro.monthly', store: o.store || 'APP_STORE' };
  s.end = s.start + (o.trial ? 7 : 30) * DAY;
  await rc(env, R.initialPurchase({ user, product: s.product, txn: s.original, original: s.original, purchased: s.start, expires: s.end, trial: o.trial, store: s.store, at: tick() }));
  return s;
}
const about = (s, extra = {}) => ({ user: s.user, product: s.product, txn: s.original, original: s.original, purchased: s.start, expires: s.end, store: s.store, at: tick(), ...extra });

test('RevenueCat: each state, managed where its store says (App Store, Google Play, Stripe, Amazon)', async (env) => {
  await rcBuy(env, 'rc_active');
  expect('rc_active', 'app_store', APP_STORE, { detail: { will_renew: true } });
  let s = await rcBuy(env, 'rc_cancel');
  await rc(env, R.cancellation(about(s)));
  expect('rc_cancel', 'app_store', APP_STORE, { detail: { canceled_at_period_end: true } });
  s = await rcBuy(env, 'rc_trial', { trial: true });
  expect('rc_trial', 'app_store', APP_STORE, { detail: { will_renew: true, in_trial: true, trial_ends_at: iso(s.end) } });
  s = await rcBuy(env, 'rc_grace');
  const grace = Date.now() + 3 * DAY;
  await rc(env, R.billingIssue(about(s, { grace })));
  expect('rc_grace', 'app_store', APP_STORE, { detail: { billing_problem: { kind: 'grace', ends_at: iso(grace) } } });
  s = await rcBuy(env, 'rc_paused', { store: 'PLAY_STORE', product: 'pro:monthly' });
  await rc(env, R.paused(about(s, { autoResume: s.end + 30 * DAY })));
  await rc(env, R.expiration(about(s, { reason: 'SUBSCRIPTION_PAUSED' })));
  expect('rc_paused', 'google_play', PLAY_PRO, { ent: false });
  s = await rcBuy(env, 'rc_expired');
  await rc(env, R.expiration(about(s)));
  expect('rc_expired', 'app_store', APP_STORE, { ent: false });
  await rcBuy(env, 'rc_play', { store: 'PLAY_STORE', product: 'pro:monthly' });
  expect('rc_play', 'google_play', PLAY_PRO, { detail: { will_renew: true } });
  await rcBuy(env, 'rc_stripe', { store: 'STRIPE', product: 'prod_rc_pro_monthly' });
  expect('rc_stripe', 'stripe', PORTAL, { detail: { will_renew: true } });
  await rcBuy(env, 'rc_amazon', { store: 'AMAZON', product: 'rc_pro_monthly' });
  expect('rc_amazon', 'amazon', null, { detail: { will_renew: true } });
});

/* ------------------------------------------------------------- Google Play */

test('Google Play: each state (rows as its webhook will write them)', async (env) => {
  const now = Date.now();
  const rows = [
    ['gp_active', 'active', 0, 0, 0, { will_renew: true }],
    ['gp_cancel', 'canceled', 1, 0, 0, { canceled_at_period_end: true }],
    ['gp_trial', 'trialing', 0, now + 3 * DAY, 0, { will_renew: true, in_trial: true, trial_ends_at: iso(now + 3 * DAY) }],
    ['gp_grace', 'past_due', 0, 0, now + 2 * DAY, { billing_problem: { kind: 'grace', ends_at: iso(now + 2 * DAY) } }],
    ['gp_paused', 'paused', 0, 0, 0, {}],
    ['gp_expired', 'expired', 0, 0, 0, {}],
  ];
  const rank = { trialing: 2, active: 3, past_due: 4, paused: 5, canceled: 6, expired: 7 };
  let sql = '';
  for (const [u, st, cancel, trialEnd, grace] of rows) {
    const access = ['active', 'canceled', 'trialing', 'past_due'].includes(st);
    sql += `INSERT INTO users (id, created_at) VALUES ('${u}', ${now});
INSERT INTO subscriptions (provider, ext_id, user_id, product_id, state, live, period_start, period_end, trial_end, grace_until,
  cancel_at_period_end, state_at, state_rank, created_at, updated_at, store)
VALUES ('google', 'gpa.${u}', '${u}', 'pro_monthly', '${st}', 1, ${now - DAY}, ${now + 29 * DAY}, ${trialEnd}, ${grace}, ${cancel},
  ${now - 1000}, ${rank[st]}, ${now}, ${now}, 'PLAY_STORE');
INSERT INTO entitlements (user_id, name, source, subscription_id, active, ends_at, updated_at)
SELECT '${u}', 'pro', 'subscription:' || id, id, ${access ? 1 : 0}, ${now + 29 * DAY}, ${now} FROM subscriptions WHERE ext_id = 'gpa.${u}';
`;
  }
  J.seed(env, sql);
  for (const [u, , , , , d] of rows) expect(u, 'google_play', PLAY_PRO, { ent: !!(d.will_renew || d.canceled_at_period_end || d.billing_problem), detail: d });
});

/* ------------------------------------------------------------ tally's own */

test('tally\'s own plans: the app-managed trial ends by itself; a balance plan renews from the balance; a promotion is no subscription', async (env) => {
  let r = await env.api('POST', '/v1/users/own_trial');
  assert.strictEqual(r.status, 200, r.text);
  r = await env.api('POST', '/v1/users/own_trial/trial');
  assert.strictEqual(r.status, 200, r.text);
  const t = env.user('own_trial').subscriptions[0];
  expect('own_trial', 'app', null, { detail: { in_trial: true, trial_ends_at: t.trial_end } });

  r = await env.api('POST', '/v1/users/own_plan');
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(env.tally(['credits', 'grant', 'own_plan', '400', '--reason', 'test']).code, 0);
  r = await env.api('POST', '/v1/users/own_plan/plans', { product: 'plan_balance' });
  assert.strictEqual(r.status, 200, r.text);
  expect('own_plan', 'app', null, { detail: { will_renew: true } });

  r = await env.api('POST', '/v1/users/own_promo');
  assert.strictEqual(r.status, 200, r.text);
  r = await env.api('POST', '/v1/users/own_promo/promotions', { entitlement: 'beta', reason: 'test' });
  assert.strictEqual(r.status, 200, r.text);
  const e = env.user('own_promo').entitlements.find((x) => x.name === 'beta');
  assert.deepStrictEqual(pick(e), { ...none, managed_in: null, manage_url: null });
});

/* ----------------------------------------------------------------- reading */

// The human line under a subscription or entitlement, as the text report writes it.
function line(d) {
  let s = `      ${d.will_renew ? 'renews' : 'does not renew'}`;
  if (d.in_trial) s += `; in trial until ${d.trial_ends_at}`;
  if (d.canceled_at_period_end) s += '; canceled at period end';
  if (d.billing_problem) s += `; billing problem (${d.billing_problem.kind}), access ${d.billing_problem.kind === 'grace' ? 'until' : 'ended'} ${d.billing_problem.ends_at}`;
  s += `; managed in ${d.managed_in}`;
  if (d.manage_url) s += `: ${d.manage_url}`;
  return s;
}

test('every case, through the API to a key and to the user\'s token, and the CLI as JSON and text', async (env) => {
  assert.strictEqual(Object.keys(cases).length, 29);
  for (const c of Object.values(cases)) {
    const r = await env.api('GET', `/v1/users/${encodeURIComponent(c.user)}`, undefined, env.keys.read);
    assert.strictEqual(r.status, 200, r.text);
    const doc = r.json;
    // The subscription the case is about (the balance plan's user has only that one).
    const sub = doc.subscriptions[0];
    assert.deepStrictEqual(pick(sub), c.detail, `${c.user} subscription (${sub.provider} ${sub.state})`);
    const ents = doc.entitlements.filter((e) => e.subscription_id === sub.id);
    assert.strictEqual(ents.length > 0, c.ent, `${c.user}: entitlement ${JSON.stringify(doc.entitlements)}`);
    for (const e of ents) assert.deepStrictEqual(pick(e), c.detail, `${c.user} entitlement ${e.name}`);
    // The user's own token reads the same detail.
    const mine = await env.api('GET', `/v1/users/${encodeURIComponent(c.user)}`, undefined, `Bearer ${jwt({ sub: c.user, exp: nowS() + 300 })}`);
    assert.strictEqual(mine.status, 200, mine.text);
    assert.deepStrictEqual(pick(mine.json.subscriptions[0]), c.detail);
    assert.deepStrictEqual(mine.json.entitlements.map(pick), doc.entitlements.map(pick));
    // The CLI: the same document; its text says the same in words.
    const cli = env.user(c.user);
    const { as_of: x, ...a } = doc;
    const { as_of: y, ...b } = cli;
    assert.deepStrictEqual(a, b, `${c.user}: the API and the CLI answer the same document`);
    const text = env.tally(['user', 'show', c.user]);
    assert.strictEqual(text.code, 0, text.stderr);
    const want = line(c.detail);
    const lines = text.stdout.split('\n');
    const n = lines.filter((l) => l === want).length;
    assert.strictEqual(n, 1 + ents.length, `${c.user}: "${want}" in\n${text.stdout}`);
    const at = lines.indexOf(want);
    assert.ok(at > 0 && (lines[at - 1].startsWith('  #') || lines[at - 1].startsWith('  pro') || lines[at - 1].startsWith('  plus')), lines[at - 1]);
  }
});

test('the documented keys, in order, on entitlements and subscriptions', async (env) => {
  const doc = env.user('st_active');
  assert.deepStrictEqual(Object.keys(doc.entitlements[0]), ['name', 'source', 'subscription_id', 'ends_at', ...KEYS]);
  assert.deepStrictEqual(Object.keys(doc.subscriptions[0]).slice(-KEYS.length), KEYS);
});

test('without stripe.portal_login_url a Stripe subscription names Stripe and no link', async (env) => {
  const fs = require('fs');
  const path = require('path');
  const cfg = config();
  delete cfg.stripe.portal_login_url;
  delete cfg.google;
  const p = path.join(env.dir, 'noportal.json');
  fs.writeFileSync(p, JSON.stringify(cfg));
  const r = env.tally(['user', 'show', 'st_active', '--json'], { TALLY_CONFIG: p });
  assert.strictEqual(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.strictEqual(doc.subscriptions[0].managed_in, 'stripe');
  assert.strictEqual(doc.subscriptions[0].manage_url, null);
  // Without google.package_name: Google Play's list of all the customer's subscriptions.
  const g = JSON.parse(env.tally(['user', 'show', 'gp_active', '--json'], { TALLY_CONFIG: p }).stdout);
  assert.strictEqual(g.subscriptions[0].manage_url, 'https://play.google.com/store/account/subscriptions');
});

run({
  before: async () => {
    pki = A.makePki();
    return startApi({ config: config(), handlers: ['api', 'stripe', 'revenuecat', 'appstore'], env: { REVENUECAT_WEBHOOK_AUTH: RC_AUTH } });
  },
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
