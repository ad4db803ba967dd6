'use strict';
// bin/tally-reconcile's Apple status pass against the fake App Store Server
// API (tests/fakes/apple.js): stale Apple subscriptions asked with Get All
// Subscription Statuses, Apple's answer stored as tally's status envelope
// {"tally_status": {...}, "signedTransactionInfo", "signedRenewalInfo"} and
// applied through appstore_parse (both JWS verified there too). A renewal
// found is applied once and resets credits as DID_RENEW does; expired and
// revoked end access; the same answer twice is one event; another root or a
// tampered transaction is the apple line's error and nothing is applied;
// --dry-run applies nothing; the webhook refuses the envelope (400);
// tally rebuild replays it to the same database; tally verify is clean.
const crypto = require('crypto');
const { test, assert } = require('../lib/t');
const A = require('../lib/apple');
const { appleConfig, post, sd, userId, txId, PRO } = require('../lib/apple-env');
const J = require('../lib/jobs');
const { Env } = require('../lib/harness');
const { FakeApple } = require('../fakes/apple');

const KEY_ID = 'TESTKEY123';
const ISSUER = '57246542-96fe-1a63-e053-0824d011072a';
const { DAY } = J;

let apple;
let pki;

const reconcile = (env, args = [], opts = {}) => J.jobAsync(env, 'reconcile', ['--json', '--provider', 'apple', '--since', '1h', ...args], opts);
const items = (r, action) => r.json.items.filter((i) => i.action === action);
const line = (r) => items(r, 'provider').find((i) => i.provider === 'apple');
const sub = (env, s) => env.user(s.user).subscriptions.find((x) => x.provider === 'apple');
const pro = (env, s) => env.user(s.user).entitlements.some((e) => e.name === 'pro');

// A subscriber whose period ended three days ago with no event since: stale.
async function stale(env) {
  const user = userId();
  const otid = txId();
  const now = Date.now();
  const tx = A.transaction({
    appAccountToken: user, originalTransactionId: otid, transactionId: otid, productId: PRO,
    purchaseDate: now - 33 * DAY, originalPurchaseDate: now - 33 * DAY, expiresDate: now - 3 * DAY, signedDate: sd(),
  });
  const n = A.notification('SUBSCRIBED', 'INITIAL_BUY', { chain: pki.chains.good, tx, renewal: A.renewalInfo(tx), signedDate: sd() });
  const r = await post(env, n.body);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.state, 'applied', r.text);
  return { user, otid, tx };
}

// Apple's lastTransactions item for s (status, and its transaction / renewal info overrides).
function item(s, status, { tx = {}, renewal = {}, chain = pki.chains.good, mutate } = {}) {
  const t = A.transaction({ ...s.tx, signedDate: sd(), ...tx });
  let signedTransactionInfo = A.sign(t, chain);
  if (mutate) signedTransactionInfo = mutate(signedTransactionInfo);
  return {
    status, originalTransactionId: s.otid, signedTransactionInfo,
    signedRenewalInfo: A.sign(A.renewalInfo(t, { signedDate: sd(), ...renewal }), chain),
  };
}

function answer(s, it) {
  apple.statuses[s.otid] = [{ subscriptionGroupIdentifier: '21000001', lastTransactions: [it] }];
}

// A renewal: a new transaction of the same subscription paid for the next period.
function renewal(s, end) {
  return item(s, 1, { tx: { transactionId: txId(), purchaseDate: Date.now() - 3 * DAY, expiresDate: end, transactionReason: 'RENEWAL' } });
}

test('a renewal found at Apple is applied once, with its drift line; access kept, credits reset as DID_RENEW', async (env) => {
  const s = await stale(env);
  // The period's credits ended with it (three days ago).
  assert.notStrictEqual(env.user(s.user).balance.available, 1000);
  const end = Date.now() + 27 * DAY;
  answer(s, renewal(s, end));
  const r = await reconcile(env);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  assert.strictEqual(line(r).result, 'ok');
  const d = items(r, 'drift').filter((i) => i.user_id === s.user);
  assert.strictEqual(d.length, 1, JSON.stringify(d));
  assert.strictEqual(d[0].provider, 'apple');
  assert.strictEqual(d[0].result, 'found');
  assert.match(d[0].theirs, /^active until /);
  const applied = r.json.items.filter((i) => i.action === 'apple subscription' && i.subject === d[0].subject);
  assert.strictEqual(applied.length, 1, JSON.stringify(r.json.items));
  assert.strictEqual(applied[0].result, 'applied', JSON.stringify(applied[0]));
  assert.match(applied[0].event_id, new RegExp(`^status:${s.otid}:[0-9a-f]{32}$`));
  assert.strictEqual(sub(env, s).state, 'active');
  assert.strictEqual(Date.parse(sub(env, s).period_end), end);
  assert.ok(pro(env, s));
  assert.strictEqual(env.user(s.user).balance.available, 1000, 'credits reset for the new period');
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = '${s.user}' AND kind = 'renewal'`)[0].n, 1);
  // No longer stale: the next run asks nothing and applies nothing.
  const before = apple.requests.length;
  const again = await reconcile(env);
  assert.strictEqual(again.code, 0, again.stderr);
  assert.strictEqual(items(again, 'drift').length, 0);
  assert.strictEqual(apple.requests.slice(before).filter((q) => q.url.startsWith('/inApps/v1/subscriptions/')).length, 0);
  assert.ok(env.verify().ok);
});

test('the same answer twice is one event; DID_RENEW of the same transaction grants nothing again', async (env) => {
  const s = await stale(env);
  const it = renewal(s, Date.now() + 27 * DAY);
  answer(s, it);
  const r = await reconcile(env);
  assert.strictEqual(r.code, 0, r.stderr);
  const id = r.json.items.find((i) => i.action === 'apple subscription').event_id;
  // The same answer again (tally's row made stale again by hand): a duplicate of that event.
  env.sql(`UPDATE subscriptions SET period_end = ${Date.now() - 3 * DAY} WHERE ext_id = '${s.otid}'`);
  const r2 = await reconcile(env);
  assert.strictEqual(r2.code, 0, r2.stderr);
  const second = r2.json.items.filter((i) => i.action === 'apple subscription');
  assert.strictEqual(second.length, 1, JSON.stringify(r2.json.items));
  assert.strictEqual(second[0].event_id, id);
  assert.strictEqual(second[0].result, 'duplicate');
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM inbox WHERE provider = 'apple' AND event_id = '${id}'`)[0].n, 1);
  env.sql(`UPDATE subscriptions SET period_end = ${JSON.parse(Buffer.from(it.signedTransactionInfo.split('.')[1], 'base64url')).expiresDate} WHERE ext_id = '${s.otid}'`);
  // Apple's own DID_RENEW of that transaction arrives late: the payment is one.
  const tx = JSON.parse(Buffer.from(it.signedTransactionInfo.split('.')[1], 'base64url'));
  const late = await post(env, A.notification('DID_RENEW', null, { chain: pki.chains.good, tx: { ...tx, signedDate: sd() }, signedDate: sd() }).body);
  assert.strictEqual(late.status, 200, late.text);
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = '${s.user}' AND kind = 'renewal'`)[0].n, 1);
  assert.ok(env.verify().ok);
});

test('status 2 (expired) and 5 (revoked) end access', async (env) => {
  const a = await stale(env);
  const b = await stale(env);
  answer(a, item(a, 2, { renewal: { autoRenewStatus: 0, expirationIntent: 1 } }));
  answer(b, item(b, 5, { tx: { revocationDate: Date.now() - DAY, revocationReason: 0, revocationType: 'REFUND_FULL' } }));
  const r = await reconcile(env);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  const d = items(r, 'drift').filter((i) => i.user_id === a.user || i.user_id === b.user);
  assert.deepStrictEqual(d.map((i) => i.result), ['found', 'found'], JSON.stringify(d));
  assert.strictEqual(sub(env, a).state, 'expired');
  assert.strictEqual(sub(env, b).state, 'revoked');
  assert.ok(!pro(env, a));
  assert.ok(!pro(env, b));
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM payments WHERE user_id IN ('${a.user}', '${b.user}') AND kind = 'renewal'`)[0].n, 0);
  assert.ok(env.verify().ok);
});

test('an answer signed under another root, or a tampered transaction: the apple line\'s error, nothing applied', async (env) => {
  const good = await stale(env);
  const s = await stale(env);
  answer(good, renewal(good, Date.now() + 27 * DAY));
  answer(s, item(s, 1, { chain: pki.chains.otherRoot, tx: { transactionId: txId(), expiresDate: Date.now() + 27 * DAY } }));
  const before = env.counts();
  const r = await reconcile(env);
  assert.strictEqual(r.code, 1);
  assert.strictEqual(line(r).result, 'error');
  assert.match(line(r).reason, /does not verify/);
  assert.deepStrictEqual(env.counts(), before, 'nothing applied, not even the good one');
  // A transaction whose payload was changed after Apple signed it.
  answer(s, item(s, 1, {
    tx: { transactionId: txId(), expiresDate: Date.now() + 27 * DAY },
    mutate: (jws) => {
      const [h, p, sig] = jws.split('.');
      const body = JSON.parse(Buffer.from(p, 'base64url'));
      body.expiresDate += 365 * DAY;
      return `${h}.${A.b64url(JSON.stringify(body))}.${sig}`;
    },
  }));
  const t = await reconcile(env);
  assert.strictEqual(t.code, 1);
  assert.strictEqual(line(t).result, 'error');
  assert.deepStrictEqual(env.counts(), before);
  // Apple unreachable: the same.
  answer(s, renewal(s, Date.now() + 27 * DAY));
  apple.fail(500, { times: 1 });
  const u = await reconcile(env);
  assert.strictEqual(u.code, 1);
  assert.strictEqual(line(u).result, 'error');
  assert.deepStrictEqual(env.counts(), before);
  assert.strictEqual(sub(env, good).state, 'active');
  assert.ok(Date.parse(sub(env, good).period_end) < Date.now());
  // Left consistent for the next tests: both resolved.
  const ok = await reconcile(env);
  assert.strictEqual(ok.code, 0, ok.stderr + ok.stdout);
});

test('--dry-run says what it would apply and changes nothing', async (env) => {
  const s = await stale(env);
  answer(s, renewal(s, Date.now() + 27 * DAY));
  const before = env.counts();
  const r = await reconcile(env, ['--dry-run']);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(r.json.counts['apple subscription.would_apply'], 1, JSON.stringify(r.json.counts));
  assert.deepStrictEqual(env.counts(), before);
  const real = await reconcile(env);
  assert.strictEqual(real.code, 0, real.stderr);
  assert.strictEqual(sub(env, s).state, 'active');
});

test('the webhook refuses a tally_status envelope with 400 and changes nothing', async (env) => {
  const s = await stale(env);
  const it = renewal(s, Date.now() + 365 * DAY);
  const envelope = {
    tally_status: { status: 1, originalTransactionId: s.otid, environment: 'Production' },
    signedTransactionInfo: it.signedTransactionInfo, signedRenewalInfo: it.signedRenewalInfo,
  };
  const before = env.counts();
  const r = await post(env, JSON.stringify(envelope));
  assert.strictEqual(r.status, 400, r.text);
  assert.match(r.text, /tally_status/);
  // Smuggled beside a genuine signed notification: refused too.
  const n = A.notification('DID_RENEW', null, { chain: pki.chains.good, tx: A.transaction({ ...s.tx, signedDate: sd() }), signedDate: sd() });
  const r2 = await post(env, JSON.stringify({ signedPayload: n.signedPayload, ...envelope }));
  assert.strictEqual(r2.status, 400, r2.text);
  assert.deepStrictEqual(env.counts(), before);
  assert.ok(Date.parse(sub(env, s).period_end) < Date.now());
  await reconcile(env, [], {}); // leaves it resolved for the rebuild below
});

test('tally rebuild replays the status events to the same database; tally verify is clean', async (env) => {
  const s = await stale(env);
  answer(s, renewal(s, Date.now() + 27 * DAY));
  const r = await reconcile(env);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.ok(env.sql("SELECT count(*) AS n FROM inbox WHERE provider = 'apple' AND event_id LIKE 'status:%'")[0].n >= 3);
  const rb = env.tally(['rebuild', '--json']);
  const doc = JSON.parse(rb.stdout);
  assert.deepStrictEqual(doc.differences, [], JSON.stringify(doc.differences, null, 1));
  assert.strictEqual(doc.identical, true);
  assert.strictEqual(rb.code, 0, rb.stderr);
  assert.ok(env.verify().ok);
});

J.suite(async () => {
  pki = A.makePki();
  const kp = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  apple = await new FakeApple({ publicKey: kp.publicKey, keyId: KEY_ID, issuerId: ISSUER, bundleId: A.BUNDLE, appAppleId: A.APP_ID }).start();
  const cfg = appleConfig(pki, { api_base: apple.url, api_sandbox_base: 'http://127.0.0.1:9', key_id: KEY_ID, issuer_id: ISSUER });
  cfg.http = { timeout: '2s', connect_timeout: '1s' };
  return Env.start({
    config: cfg,
    handlers: ['appstore'],
    env: { APPLE_PRIVATE_KEY: kp.privateKey.export({ type: 'pkcs8', format: 'pem' }) },
  });
}, async () => {
  await apple.stop();
});
