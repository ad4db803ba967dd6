'use strict';
// POST /v1/users/{id}/purchases with {"store": "google"} through nginx, against the fake
// Google (tests/fakes/google.js): the purchase token Play Billing gave the app is read now
// from the Android Publisher API, applied at once and acknowledged (or consumed) after the
// commit; the push about the same purchase later is a duplicate of its order, never a second
// grant (and the other way round); an obfuscatedExternalAccountId naming another user, or a
// token another user holds, is 409; license testers' purchases while google.test_mode is off,
// purchases Google does not know, and Google failing change nothing.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const os = require('os');
const { test, run, assert } = require('../lib/t');
const { startApi } = require('../lib/api');
const { FakeGoogle } = require('../fakes/google');
const G = require('../lib/google');

const PKG = 'com.example.tally';
const DAY = 86400000;
const IDENTITY_KEY = crypto.randomBytes(32).toString('hex');
const KEYS = { admin: 'read,spend,admin', spend: 'spend', purchase: 'purchase' };
let g;
let dir;

function config(extra = {}) {
  return {
    google: {
      package_name: PKG, push_audience: g.audience, push_service_account: g.pushEmail,
      certs_url: g.certsUrl, api_base: g.apiBase, token_url: g.tokenUrl, ...extra,
    },
    policy: { grace_period: '7d', renewal_leeway: '1d' },
    products: {
      pro_monthly: { kind: 'subscription', entitlements: ['pro'], credits: 1000, trial_credits: 100, match: { google: ['pro_monthly'] } },
      credits_500: { kind: 'pack', credits: 500, match: { google: ['credits_500'] } },
    },
  };
}

function start(extra = {}, env = {}) {
  const sa = path.join(dir, `sa-${crypto.randomBytes(4).toString('hex')}.json`);
  fs.writeFileSync(sa, g.serviceAccountJson(), { mode: 0o600 });
  return startApi({ config: config(extra), handlers: ['api', 'google'], keys: KEYS, env: { GOOGLE_SERVICE_ACCOUNT_FILE: sa, ...env } });
}

const user = (p) => `${p}_${crypto.randomBytes(4).toString('hex')}`;
const pro = (doc) => doc.entitlements.some((e) => e.name === 'pro');

async function register(env, u) {
  const r = await env.api('POST', `/v1/users/${u}`);
  assert.strictEqual(r.status, 200, r.text);
}

function handIn(env, u, body, key = env.keys.purchase) {
  return env.api('POST', `/v1/users/${u}/purchases`, { store: 'google', ...body }, key);
}

// A subscription the fake holds for account (not acknowledged yet, as after a purchase).
function sub(account, o = {}) {
  const s = { token: G.token(), order: G.orderId(), start: Date.now() - 1000 };
  g.setSubscription(s.token, G.subV2({ orderId: s.order, start: s.start, expiry: s.start + 30 * DAY, account, ack: false, ...o }));
  s.body = { purchaseToken: s.token, productId: 'pro_monthly', kind: 'subscription' };
  return s;
}

async function pushed(env, notification) {
  const r = await env.request('POST', '/webhooks/google', g.pushBody(notification), {
    'Content-Type': 'application/json', Authorization: `Bearer ${g.signPush()}`,
  });
  assert.strictEqual(r.status, 200, r.text);
  return r.json;
}

async function refused(env, send, status, code) {
  const before = env.counts();
  const r = await send();
  assert.strictEqual(r.status, status, `${r.status} ${r.text}`);
  if (code) assert.strictEqual(r.json && r.json.error && r.json.error.code, code, r.text);
  assert.deepStrictEqual(env.counts(), before, 'the database changed');
  return r;
}

test('a subscription handed in entitles at once and is acknowledged; its push after it grants nothing again', async (env) => {
  const u = user('g_a');
  await register(env, u);
  const s = sub(u);
  const r = await handIn(env, u, s.body);
  assert.strictEqual(r.status, 200, r.text);
  assert.ok(pro(r.json), 'entitled in the answer');
  assert.strictEqual(r.json.balance.available, 1000);
  assert.ok(g.acks.some((a) => a.token === s.token && a.productId === 'pro_monthly'), 'acknowledged after the commit');
  assert.strictEqual(g.subscription(s.token).acknowledgementState, 'ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED');
  await env.api('POST', `/v1/users/${u}/spend`, { amount: 300, idempotency_key: 'k1' }, env.keys.spend);
  const p = await pushed(env, G.subNotification(G.SUB.PURCHASED, s.token));
  assert.strictEqual(p.state, 'applied', p.reason);
  assert.strictEqual(env.user(u).balance.available, 700);
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = '${u}'`)[0].n, 1);
  // Handed in again: read again, nothing granted again.
  const again = await handIn(env, u, s.body);
  assert.strictEqual(again.status, 200, again.text);
  assert.strictEqual(again.json.balance.available, 700);
});

test('handed in after its push: a duplicate of the order, nothing granted again', async (env) => {
  const u = user('g_b');
  await register(env, u);
  const s = sub(u);
  await pushed(env, G.subNotification(G.SUB.PURCHASED, s.token));
  await env.api('POST', `/v1/users/${u}/spend`, { amount: 100, idempotency_key: 'k1' }, env.keys.spend);
  const r = await handIn(env, u, s.body);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.balance.available, 900);
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = '${u}'`)[0].n, 1);
});

test('a pack handed in adds its credits once and is consumed', async (env) => {
  const u = user('g_c');
  await register(env, u);
  const token = G.token();
  g.setProduct('credits_500', token, G.productPurchase({ productId: 'credits_500', account: u, ack: false }));
  const body = { purchaseToken: token, productId: 'credits_500', kind: 'product' };
  const r = await handIn(env, u, body);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.balance.available, 500);
  assert.ok(g.consumes.some((c) => c.token === token), 'consumed after the commit');
  assert.strictEqual((await handIn(env, u, body)).json.balance.available, 500);
  await pushed(env, G.productNotification(G.ONE_TIME.PURCHASED, token, 'credits_500'));
  assert.strictEqual(env.user(u).balance.available, 500);
});

test('theft: an account id naming another user, a token another user holds: 409, nothing changed', async (env) => {
  const a = user('g_thief');
  const b = user('g_owner');
  await register(env, a);
  await register(env, b);
  const named = sub(b);
  await refused(env, () => handIn(env, a, named.body), 409, 'not_your_purchase');
  // No account id: whoever holds it first; then it is theirs.
  const anon = sub(undefined);
  assert.strictEqual((await handIn(env, b, anon.body)).status, 200);
  await refused(env, () => handIn(env, a, anon.body), 409, 'not_your_purchase');
  // B's token known from its push only.
  const viaPush = sub(undefined);
  const p = await pushed(env, G.subNotification(G.SUB.PURCHASED, viaPush.token));
  assert.strictEqual(p.state, 'orphaned', p.reason);
  const linked = await env.api('POST', `/v1/users/${b}/links`, { provider: 'google', kind: 'purchase_token', id: viaPush.token });
  assert.strictEqual(linked.status, 200, linked.text);
  await refused(env, () => handIn(env, a, viaPush.body), 409, 'not_your_purchase');
  // A's own user token cannot take it either, nor hand in for B.
  const tok = (await env.api('POST', `/v1/users/${a}/token`, {}, env.keys.spend)).json.token;
  await refused(env, () => handIn(env, a, named.body, tok), 409, 'not_your_purchase');
  await refused(env, () => handIn(env, b, sub(b).body, tok), 403, 'forbidden');
  assert.ok(!pro(env.user(a)));
});

test('a user token hands in its own user\'s purchase', async (env) => {
  const u = user('g_tok');
  await register(env, u);
  const tok = (await env.api('POST', `/v1/users/${u}/token`, {}, env.keys.spend)).json.token;
  const r = await handIn(env, u, sub(u).body, tok);
  assert.strictEqual(r.status, 200, r.text);
  assert.ok(pro(r.json));
  assert.strictEqual(r.json.links, undefined, 'the user view');
});

test('refused, nothing stored: a license tester\'s while test_mode is off, unknown to Google, Google failing, bad bodies', async (env) => {
  const u = user('g_bad');
  await register(env, u);
  await refused(env, () => handIn(env, u, sub(u, { test: true }).body), 403, 'test_purchase_refused');
  await refused(env, () => handIn(env, u, { purchaseToken: G.token(), productId: 'pro_monthly', kind: 'subscription' }), 400, 'invalid_purchase');
  const s = sub(u);
  g.failNext(/subscriptionsv2/, 503, 3);
  await refused(env, () => handIn(env, u, s.body), 502, 'provider_unavailable');
  g.reset();
  g.failNext(/subscriptionsv2/, 403);
  await refused(env, () => handIn(env, u, s.body), 502, 'provider_refused');
  g.reset();
  for (const body of [{}, { purchaseToken: s.token }, { purchaseToken: s.token, productId: 'pro_monthly' },
    { purchaseToken: s.token, productId: 'pro_monthly', kind: 'sub' }, { purchaseToken: 42, productId: 'pro_monthly', kind: 'product' },
    { purchaseToken: 'x'.repeat(300), productId: 'pro_monthly', kind: 'subscription' }]) {
    await refused(env, () => handIn(env, u, body), 400, 'bad_request');
  }
  // Google answered nothing wrong after all: the same purchase applies.
  const r = await handIn(env, u, s.body);
  assert.strictEqual(r.status, 200, r.text);
  assert.ok(env.verify().ok);
});

test('google.identity hmac: the account id is the HMAC of the user, another user\'s is 409', async () => {
  const env = await start({ identity: 'hmac' }, { GOOGLE_IDENTITY_KEY: IDENTITY_KEY });
  try {
    const a = user('h_a');
    const b = user('h_b');
    await register(env, a);
    await register(env, b);
    const mac = (u) => crypto.createHmac('sha256', IDENTITY_KEY).update(u).digest('hex');
    const mine = sub(mac(a));
    const r = await handIn(env, a, mine.body);
    assert.strictEqual(r.status, 200, r.text);
    assert.ok(env.user(a).links.some((l) => l.kind === 'google_account' && l.id === mac(a)));
    await refused(env, () => handIn(env, a, sub(mac(b)).body), 409, 'not_your_purchase');
    await refused(env, () => handIn(env, a, sub(a).body), 409, 'not_your_purchase');
  } finally {
    await env.stop();
  }
});

test('google.identity hmac: reading the user tells the app its account id and records the link once; a push orphaned before it is then applied', async () => {
  const env = await start({ identity: 'hmac' }, { GOOGLE_IDENTITY_KEY: IDENTITY_KEY });
  try {
    const u = user('h_c');
    await register(env, u);
    const mac = crypto.createHmac('sha256', IDENTITY_KEY).update(u).digest('hex');
    const s = sub(mac);
    // The push arrives before the app ever read its account id: nobody has that value yet.
    const p = await pushed(env, G.subNotification(G.SUB.PURCHASED, s.token));
    assert.strictEqual(p.state, 'orphaned', JSON.stringify(p));
    assert.ok(!pro(env.user(u)), 'entitled before the link');
    const r = await env.api('GET', `/v1/users/${u}`, undefined, env.keys.admin);
    assert.strictEqual(r.status, 200, r.text);
    assert.strictEqual(r.json.google_account_id, mac);
    assert.ok(pro(r.json), `the orphaned purchase applied once linked: ${r.text}`);
    assert.strictEqual(env.sql(`SELECT count(*) AS n FROM links WHERE kind = 'google_account' AND user_id = '${u}'`)[0].n, 1);
    // Read again (and by the user's own token): the same value, nothing written.
    const before = env.counts();
    const t = await env.api('POST', `/v1/users/${u}/token`, {}, env.keys.spend);
    assert.strictEqual(t.status, 200, t.text);
    const again = await env.api('GET', `/v1/users/${u}`, undefined, t.json.token);
    assert.strictEqual(again.status, 200, again.text);
    assert.strictEqual(again.json.google_account_id, mac);
    const after = env.counts();
    before.inbox = after.inbox = 0; // the token is no event; compare what a read could write
    assert.deepStrictEqual(after, before, 'a second read changed the database');
    // An unknown user is 404 and records nothing.
    const c0 = env.counts();
    const n = await env.api('GET', `/v1/users/${user('nobody')}`, undefined, env.keys.admin);
    assert.strictEqual(n.status, 404, n.text);
    assert.deepStrictEqual(env.counts(), c0);
  } finally {
    await env.stop();
  }
});

test('google.identity user_id: the account id the app sets is the user id itself', async (env) => {
  const u = user('g_id');
  await register(env, u);
  const r = await env.api('GET', `/v1/users/${u}`, undefined, env.keys.admin);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.google_account_id, u);
});

test('without Google configured a Google purchase is 503, an Apple one still answered', async () => {
  const env = await startApi({ handlers: ['api'], keys: KEYS });
  try {
    const u = user('n');
    await register(env, u);
    await refused(env, () => handIn(env, u, { purchaseToken: 't', productId: 'p', kind: 'product' }), 503, 'not_configured');
    await refused(env, () => env.api('POST', `/v1/users/${u}/purchases`, { store: 'apple', signedTransaction: 'a.b.c' }, env.keys.purchase), 503, 'not_configured');
  } finally {
    await env.stop();
  }
});

run({
  before: async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-gp-'));
    g = await new FakeGoogle({ packageName: PKG }).start();
    return start();
  },
  after: async (env, failed) => {
    await env.stop(failed > 0 && process.env.KEEP);
    await g.close();
    fs.rmSync(dir, { recursive: true, force: true });
  },
});
