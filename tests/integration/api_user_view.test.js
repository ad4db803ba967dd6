'use strict';
// What a user's own token reads, through nginx. The user document written for
// operators carries audit rows, operator names, support reasons, API key ids,
// provider ids and inbox ids; a user token (HS256 with TALLY_JWT_SECRET) gets
// the user view instead: its entitlements, subscriptions, balance and ledger
// lines in its own words. A key of scope read (and `tally user show --json`)
// still gets the whole document, unchanged. Every string an operator, a key or
// a provider planted is looked for in the answers.
const { test, run, assert } = require('../lib/t');
const { startApi, jwt, nowS } = require('../lib/api');
const S = require('../lib/stripe-events');

const U = 'u_view';
const DAY = 86400;
const P = {
  operator: 'alice.support-ops',
  supportReason: 'SUPPORT-ONLY goodwill: ticket 4471, customer angry about outage',
  promoReason: 'internal: churn-risk cohort Q3 retention push',
  entReason: 'internal: beta list from sales call',
  spendReason: 'generated 7 images',
};
let planted = {}; // name -> string that only operators may read

const token = () => `Bearer ${jwt({ sub: U, exp: nowS() + 300 })}`;

// The strings planted by operators, keys and providers that r carries.
function leaks(text) {
  return Object.entries(planted).filter(([, v]) => text.includes(v)).map(([k]) => k);
}

// The user view of doc: every field a user token may read, and none other.
function assertUserView(doc, full) {
  assert.deepStrictEqual(Object.keys(doc).sort(),
    ['as_of', 'balance', 'created_at', 'entitlements', 'ledger', 'subscriptions', 'user_id']);
  assert.strictEqual(doc.user_id, U);
  assert.strictEqual(doc.created_at, full.created_at);
  // Entitlements: the same, their source named by kind only (no subscription or inbox id).
  assert.deepStrictEqual(doc.entitlements, full.entitlements.map((e) => ({ ...e, source: e.source.split(':')[0] })));
  // Subscriptions: all of it but the provider's own id.
  assert.deepStrictEqual(doc.subscriptions, full.subscriptions.map(({ provider_id, ...rest }) => rest));
  // Balance: the same, grants without their ids.
  assert.strictEqual(doc.balance.available, full.balance.available);
  assert.deepStrictEqual(doc.balance.grants, full.balance.grants.map(({ id, ...rest }) => rest));
  // Ledger: the same entries, in the user's words, with the balance after each.
  assert.strictEqual(doc.ledger.length, full.ledger.length);
  let after = full.ledger.reduce((sum, l) => sum + l.amount, 0); // < 20 entries: the whole ledger
  doc.ledger.forEach((l, i) => {
    assert.deepStrictEqual(Object.keys(l).sort(), ['amount', 'at', 'balance_after', 'kind', 'reason'], JSON.stringify(l));
    assert.strictEqual(l.at, full.ledger[i].at);
    assert.strictEqual(l.amount, full.ledger[i].amount);
    assert.strictEqual(l.balance_after, after, `line ${i}`);
    after -= l.amount;
  });
  assert.strictEqual(after, 0, 'the oldest line starts from nothing');
}

test('setup: a provider event, an operator grant, API key actions and a spend', async (env) => {
  const r = await env.api('POST', `/v1/users/${U}`);
  assert.strictEqual(r.status, 200, r.text);
  // A provider: a Stripe subscription bought and renewed.
  const cus = S.rid('cus');
  const sub = S.rid('sub');
  const evtPaid = S.rid('evt');
  const evtRenew = S.rid('evt');
  const start = nowS();
  await env.stripe(S.event('customer.subscription.created', S.subscription({ id: sub, customer: cus, price: 'price_pro_monthly', metadata: { user_id: U } })));
  let w = await env.stripe(S.event('invoice.paid', S.invoice({ id: S.rid('in'), customer: cus, subscription: sub, price: 'price_pro_monthly', subMetadata: { user_id: U }, paymentIntent: S.rid('pi') }), { id: evtPaid }));
  assert.strictEqual(w.json.state, 'applied', w.text);
  w = await env.stripe(S.event('invoice.paid', S.invoice({
    id: S.rid('in'), customer: cus, subscription: sub, price: 'price_pro_monthly', subMetadata: { user_id: U },
    paymentIntent: S.rid('pi'), billingReason: 'subscription_cycle', periodStart: start + 30 * DAY, periodEnd: start + 60 * DAY,
  }), { id: evtRenew, created: start + 1 }));
  assert.strictEqual(w.json.state, 'applied', w.text);
  // An operator's grant with a reason written for support staff.
  const g = env.tally(['credits', 'grant', U, '25', '--reason', P.supportReason, '--operator', P.operator]);
  assert.strictEqual(g.code, 0, g.stderr);
  // API key actions: a promotion of credits and of an entitlement, with internal reasons.
  assert.strictEqual((await env.api('POST', `/v1/users/${U}/promotions`, { credits: 40, reason: P.promoReason })).status, 200);
  assert.strictEqual((await env.api('POST', `/v1/users/${U}/promotions`, { entitlement: 'beta', reason: P.entReason })).status, 200);
  // A spend, with the app's own reason (which the user may read).
  const sp = await env.api('POST', `/v1/users/${U}/spend`, { amount: 7, idempotency_key: 'img-1', reason: P.spendReason }, env.keys.spend);
  assert.strictEqual(sp.status, 200, sp.text);

  const full = env.user(U);
  planted = {
    operator: P.operator,
    supportReason: P.supportReason,
    promoReason: P.promoReason,
    entReason: P.entReason,
    adminKeyId: env.keys.admin_id,
    spendKeyId: env.keys.spend_id,
    stripeEvent: evtPaid,
    stripeRenewal: evtRenew,
    stripeSubscription: sub,
    stripeCustomer: cus,
  };
  // The full document carries every one of them (so their absence below means something).
  assert.deepStrictEqual(leaks(JSON.stringify(full)).sort(), Object.keys(planted).sort());
  const inbox = env.sql(`SELECT id FROM inbox WHERE user_id = '${U}' AND provider = 'app' AND event_id LIKE 'op_%' ORDER BY id`);
  assert.ok(inbox.length >= 1);
  assert.ok(full.entitlements.some((e) => e.source === `promo:${inbox[inbox.length - 1].id}`), JSON.stringify(full.entitlements));
});

test('the user token reads its balance, entitlements, subscriptions and ledger, and no operator field', async (env) => {
  const r = await env.api('GET', `/v1/users/${U}`, undefined, token());
  assert.strictEqual(r.status, 200, r.text);
  assert.deepStrictEqual(leaks(r.text), [], `the user token read: ${r.text}`);
  for (const k of ['audit', 'links', 'actor', 'provider_id', 'grant_id', 'inbox_id', 'promo:', 'subscription:']) {
    assert.ok(!r.text.includes(k), `the user token read ${k}: ${r.text}`);
  }
  const full = env.user(U);
  assertUserView(r.json, full);
  assert.deepStrictEqual(r.json.entitlements.map((e) => e.name).sort(), ['basic', 'beta', 'pro']);
  assert.strictEqual(r.json.subscriptions[0].state, 'active');
  assert.strictEqual(r.json.balance.available, full.balance.available);
  // The ledger in the user's words, newest first, the app's reason of the spend only.
  const lines = r.json.ledger.map((l) => [l.kind, l.amount, l.reason]);
  assert.deepStrictEqual(lines.slice(0, 3), [
    ['spend', -7, P.spendReason],
    ['promotion', 40, null],
    ['adjustment', 25, null],
  ]);
  const kinds = r.json.ledger.map((l) => l.kind);
  assert.ok(kinds.includes('renewal') && kinds.includes('purchase') && kinds.includes('free') && kinds.includes('reset'), kinds.join());
  // Renewal's credits come after the purchase's (older lines are further down).
  assert.ok(kinds.indexOf('renewal') < kinds.lastIndexOf('purchase'), kinds.join());
  assert.strictEqual(r.json.ledger[0].balance_after, full.balance.available);
});

test('a read-scoped key reads the whole document: every operator field, as the CLI shows it', async (env) => {
  const r = await env.api('GET', `/v1/users/${U}`, undefined, env.keys.read);
  assert.strictEqual(r.status, 200, r.text);
  assert.deepStrictEqual(leaks(r.text).sort(), Object.keys(planted).sort());
  const full = env.user(U);
  const { as_of: a, ...api } = r.json;
  const { as_of: b, ...cli } = full;
  assert.deepStrictEqual(api, cli, 'the API and the CLI answer the same document');
  assert.ok(r.json.audit.some((x) => x.actor === `operator:${P.operator}` && x.reason === P.supportReason));
  assert.ok(r.json.ledger.some((x) => x.actor === `app:${env.keys.spend_id}` && x.reason === P.spendReason));
  assert.ok(r.json.links.some((x) => x.id === planted.stripeCustomer));
});

// Every route of the API, with a body it accepts from a key: whatever a user token
// gets back (today a 401 for every route but GET) carries no operator field, and a
// user document it gets is the user view.
test('every route answers a user token without an operator field', async (env) => {
  const full = env.user(U);
  const routes = [
    ['GET', '', undefined],
    ['POST', '', {}],
    ['POST', '/spend', { amount: 1, idempotency_key: 'user-token-1', reason: 'x' }],
    ['POST', '/trial', {}],
    ['POST', '/promotions', { credits: 1, reason: 'x' }],
    ['POST', '/links', { provider: 'stripe', kind: 'customer', id: 'cus_user_token' }],
    ['POST', '/referrer', { referrer: 'u_nobody' }],
    ['POST', '/plans', { product: 'plan_balance', idempotency_key: 'user-token-1' }],
    ['POST', '/checkout', { provider: 'stripe', product: 'pro_monthly' }],
    ['POST', '/checkout/verify', { provider: 'razorpay', razorpay_order_id: 'order_x', razorpay_payment_id: 'pay_x', razorpay_signature: 'x' }],
  ];
  let documents = 0;
  for (const [method, action, body] of routes) {
    const r = await env.api(method, `/v1/users/${U}${action}`, body, token());
    assert.deepStrictEqual(leaks(r.text), [], `${method} ${action}: ${r.status} ${r.text}`);
    assert.ok(!/"(audit|links|actor|provider_id|inbox_id)"/.test(r.text), `${method} ${action}: ${r.text}`);
    if (r.status === 200 && r.json && r.json.user_id === U) {
      assertUserView(r.json, env.user(U));
      documents++;
    }
  }
  assert.ok(documents >= 1, 'GET answered the user view');
  // And a user token changed nothing on the way.
  assert.deepStrictEqual(env.user(U).ledger, full.ledger);
});

test('the CLI\'s document keeps every field of the documented table', async (env) => {
  const doc = env.user(U);
  assert.deepStrictEqual(Object.keys(doc), ['user_id', 'created_at', 'as_of', 'entitlements', 'subscriptions', 'balance', 'links', 'ledger', 'audit']);
  const detail = ['will_renew', 'billing_problem', 'in_trial', 'trial_ends_at', 'canceled_at_period_end', 'managed_in', 'manage_url'];
  assert.deepStrictEqual(Object.keys(doc.entitlements[0]), ['name', 'source', 'subscription_id', 'ends_at', ...detail]);
  assert.deepStrictEqual(Object.keys(doc.subscriptions[0]), ['id', 'provider', 'provider_id', 'product', 'state', 'live', 'access', 'access_until',
    'period_start', 'period_end', 'trial_end', 'grace_until', 'cancel_at_period_end', 'updated_at', ...detail]);
  assert.deepStrictEqual(Object.keys(doc.balance.grants[0]), ['id', 'source', 'product', 'granted', 'remaining', 'expires_at']);
  assert.deepStrictEqual(Object.keys(doc.ledger[0]), ['id', 'at', 'amount', 'kind', 'grant_id', 'actor', 'reason']);
  assert.deepStrictEqual(Object.keys(doc.audit[0]), ['id', 'at', 'actor', 'action', 'object', 'detail', 'reason']);
});

run({
  before: () => startApi(),
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
