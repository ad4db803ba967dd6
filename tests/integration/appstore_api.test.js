'use strict';
// The App Store Server API client against a fake Apple (tests/fakes/apple.js)
// through `tally apple missed` and `tally apple status`: the JWT Apple
// requires, pagination, the same apply path as the webhook, and every error
// (401, 404, 429, 5xx, timeouts, unreachable, forged data) with a clear
// message and nothing applied.
const crypto = require('crypto');
const { test, run, assert } = require('../lib/t');
const A = require('../lib/apple');
const { appleConfig, post, sd, userId, txId, PRO } = require('../lib/apple-env');
const { Env } = require('../lib/harness');
const { FakeApple } = require('../fakes/apple');

const KEY_ID = 'TESTKEY123';
const ISSUER = '57246542-96fe-1a63-e053-0824d011072a';
const DAY = 86400e3;
let pki;
let fake;
let apiKey; // { privatePem, publicKey }

function subscribed(o = {}) {
  const user = userId();
  const otid = txId();
  const tx = A.transaction({ appAccountToken: user, originalTransactionId: otid, productId: PRO, ...o.tx });
  const n = A.notification('SUBSCRIBED', 'INITIAL_BUY', { chain: o.chain || pki.chains.good, tx, renewal: A.renewalInfo(tx), signedDate: sd() });
  return { user, otid, tx, ...n };
}

function missed(env, args) {
  return env.tallyAsync(['apple', 'missed', ...args]);
}

const hasUser = (env, u) => env.user(u) !== null;

test('missed: fetches every page, verifies, applies only what the inbox lacks, through the webhook\'s path', async (env) => {
  const ns = [1, 2, 3, 4, 5].map(() => subscribed());
  for (const n of ns.slice(0, 2)) assert.strictEqual((await post(env, n.body)).status, 200);
  fake.notifications = ns.map((n) => ({ signedPayload: n.signedPayload, signedDate: n.payload.signedDate, failed: false }));
  const before = fake.requests.length;
  const r = await missed(env, ['--since', '1h', '--json']);
  assert.strictEqual(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.strictEqual(doc.fetched, 5);
  assert.strictEqual(doc.already_in_inbox, 2);
  assert.strictEqual(doc.applied, 3);
  assert.deepStrictEqual(doc.notifications.map((x) => x.result), ['applied', 'applied', 'applied']);
  // Three pages of two, each with a fresh valid token.
  const reqs = fake.requests.slice(before);
  assert.strictEqual(reqs.length, 3);
  assert.ok(reqs.every((q) => q.method === 'POST' && !q.why), JSON.stringify(reqs.map((q) => q.why)));
  assert.ok(reqs.slice(1).every((q) => /paginationToken=/.test(q.url)));
  const c = reqs[0].claims;
  assert.strictEqual(c.iss, ISSUER);
  assert.strictEqual(c.bid, A.BUNDLE);
  assert.strictEqual(c.aud, 'appstoreconnect-v1');
  assert.ok(c.exp - c.iat > 0 && c.exp - c.iat <= 3600);
  assert.strictEqual(reqs[0].header.kid, KEY_ID);
  assert.strictEqual(JSON.parse(reqs[0].body).startDate <= Date.now() - 3590e3, true);
  for (const n of ns) assert.ok(hasUser(env, n.user), n.user);
  // The stored body is what the webhook would have stored: the same inbox row on a later delivery.
  const late = await post(env, ns[4].body);
  assert.strictEqual(late.json.duplicate, true);
  // Again: nothing left to do.
  const again = JSON.parse((await missed(env, ['--since', '1h', '--json'])).stdout);
  assert.strictEqual(again.applied, 0);
  assert.strictEqual(again.already_in_inbox, 5);
});

test('missed --dry-run reports and changes nothing; --only-failures asks Apple for failures only', async (env) => {
  const n = subscribed();
  fake.notifications = [{ signedPayload: n.signedPayload, signedDate: n.payload.signedDate, failed: true },
    { signedPayload: subscribed().signedPayload, signedDate: Date.now(), failed: false }];
  const before = env.counts();
  const r = await missed(env, ['--since', '1h', '--dry-run', '--json']);
  assert.strictEqual(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.strictEqual(doc.dry_run, true);
  assert.ok(doc.notifications.every((x) => x.result === 'would apply'));
  assert.deepStrictEqual(env.counts(), before);
  const f = JSON.parse((await missed(env, ['--since', '1h', '--only-failures', '--json'])).stdout);
  assert.strictEqual(f.fetched, 1);
  assert.strictEqual(JSON.parse(fake.requests[fake.requests.length - 1].body).onlyFailures, true);
  assert.ok(hasUser(env, n.user));
});

async function failsCleanly(env, setup, re) {
  const ns = [1, 2, 3].map(() => subscribed());
  fake.notifications = ns.map((n) => ({ signedPayload: n.signedPayload, signedDate: n.payload.signedDate }));
  setup();
  const before = env.counts();
  const r = await missed(env, ['--since', '1h']);
  fake.failures = [];
  fake.delayMs = 0;
  assert.strictEqual(r.code, 1, r.stdout);
  assert.match(r.stderr, re);
  assert.match(r.stderr, /nothing applied/);
  assert.deepStrictEqual(env.counts(), before, 'a failure part-way applied something');
  for (const n of ns) assert.ok(!hasUser(env, n.user));
  return r;
}

test('missed: 429 on the second page (Retry-After) applies nothing and says when to retry', async (env) => {
  await failsCleanly(env, () => {
    fake.failures = [];
    // The first page passes, the second is rate limited.
    const orig = fake.handle.bind(fake);
    let n = 0;
    fake.handle = (req, body, res) => {
      if (++n === 2) { fake.fail(429, { retryAfter: 30 }); fake.handle = orig; }
      return orig(req, body, res);
    };
  }, /rate limited by Apple \(429\): retry after 30 s/);
});

test('missed: 5xx, 401, timeouts, an unreachable host and malformed answers each fail clearly', async (env) => {
  await failsCleanly(env, () => fake.fail(500), /answered 500: errorCode 5000000.*retry later/);
  await failsCleanly(env, () => fake.fail(503, { body: 'not json' }), /answered 503/);
  await failsCleanly(env, () => fake.fail(401), /refused the API key \(401\)/);
  await failsCleanly(env, () => fake.fail(200, { body: '{"hasMore": true, "notificationHistory": []}' }), /paginationToken/);
  await failsCleanly(env, () => fake.fail(200, { body: '<html>' }), /not a JSON object/);
  await failsCleanly(env, () => { fake.delayMs = 2500; }, /no answer/);
  // The key is checked by the fake: a token signed with another key is refused like Apple would.
  const other = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const saved = fake.publicKey;
  fake.publicKey = other.publicKey;
  try {
    await failsCleanly(env, () => {}, /401/);
  } finally {
    fake.publicKey = saved;
  }
});

test('missed: a forged notification in Apple\'s answer fails the whole run', async (env) => {
  await failsCleanly(env, () => {
    const forged = subscribed({ chain: pki.chains.otherRoot });
    fake.notifications.push({ signedPayload: forged.signedPayload, signedDate: forged.payload.signedDate });
  }, /does not verify/);
});

test('missed: usage errors exit 2; no API key configured is a clear failure', async (env) => {
  for (const args of [[], ['--since', 'yesterday'], ['--since', '1h', '--until', '2000-01-01T00:00:00Z']]) {
    const r = await missed(env, args);
    assert.strictEqual(r.code, 2, `${args}: ${r.stderr}`);
  }
  const r = await env.tallyAsync(['apple', 'missed', '--since', '1h'], { APPLE_PRIVATE_KEY: '' });
  assert.strictEqual(r.code, 1);
  assert.match(r.stderr, /APPLE_PRIVATE_KEY/);
  const bad = await env.tallyAsync(['apple', 'missed', '--since', '1h'], { APPLE_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' });
  assert.strictEqual(bad.code, 1);
  assert.match(bad.stderr, /not a PEM P-256 private key/);
});

test('missed --sandbox asks the sandbox host (unreachable here); production answers', async (env) => {
  fake.notifications = [];
  const sb = await missed(env, ['--since', '1h', '--sandbox']);
  assert.strictEqual(sb.code, 1);
  assert.match(sb.stderr, /\(sandbox\): no answer/);
  const prod = await missed(env, ['--since', '1h']);
  assert.strictEqual(prod.code, 0, prod.stderr);
  assert.match(prod.stdout, /0 notifications from Apple/);
});

// Apple's lastTransactions item for a subscriber.
function statusItem(s, status, o = {}) {
  const tx = A.transaction({ ...s.tx, signedDate: sd(), ...o.tx });
  return {
    status, originalTransactionId: s.otid,
    signedTransactionInfo: A.sign(tx, pki.chains.good),
    signedRenewalInfo: A.sign(A.renewalInfo(tx, o.renewal || {}), pki.chains.good),
  };
}

test('status: Apple\'s view next to tally\'s; agree exits 0, a difference exits 1', async (env) => {
  const s = subscribed({ tx: { expiresDate: Date.now() + 30 * DAY } });
  await post(env, s.body);
  fake.statuses[s.otid] = [{ subscriptionGroupIdentifier: '21000001', lastTransactions: [statusItem(s, 1)] }];
  const r = await env.tallyAsync(['apple', 'status', s.otid, '--json']);
  assert.strictEqual(r.code, 0, r.stdout + r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.strictEqual(doc.agree, true);
  assert.strictEqual(doc.subscriptions[0].apple.status, 'ACTIVE');
  assert.strictEqual(doc.subscriptions[0].tally.state, 'active');
  assert.strictEqual(doc.subscriptions[0].tally.user, s.user);
  // Apple says it expired; tally never heard: they differ.
  fake.statuses[s.otid] = [{ subscriptionGroupIdentifier: '21000001', lastTransactions: [statusItem(s, 2, { renewal: { autoRenewStatus: 0 } })] }];
  const d = await env.tallyAsync(['apple', 'status', s.otid]);
  assert.strictEqual(d.code, 1);
  assert.match(d.stdout, /Apple: EXPIRED/);
  assert.match(d.stdout, /DIFFER/);
  const unknown = await env.tallyAsync(['apple', 'status', '999']);
  assert.strictEqual(unknown.code, 1);
  assert.match(unknown.stderr, /does not know it \(404\): errorCode 4040010/);
});

test('status --history pages through the transactions and marks those tally never recorded', async (env) => {
  const s = subscribed();
  await post(env, s.body);
  const renew = A.transaction({ ...s.tx, transactionId: txId(), signedDate: sd() });
  const renew2 = A.transaction({ ...s.tx, transactionId: txId(), signedDate: sd() });
  await post(env, A.notification('DID_RENEW', null, { chain: pki.chains.good, tx: renew, signedDate: sd() }).body);
  fake.statuses[s.otid] = [{ subscriptionGroupIdentifier: '21000001', lastTransactions: [statusItem(s, 1, { tx: renew2 })] }];
  fake.history[s.otid] = [s.tx, renew, renew2].map((t) => A.sign(t, pki.chains.good));
  const before = fake.requests.length;
  const r = await env.tallyAsync(['apple', 'status', s.otid, '--history', '--json']);
  const doc = JSON.parse(r.stdout);
  assert.deepStrictEqual(doc.history.map((h) => h.recorded), [true, true, false]);
  assert.strictEqual(doc.agree, false);
  assert.strictEqual(r.code, 1);
  assert.strictEqual(fake.requests.slice(before).filter((q) => q.url.startsWith('/inApps/v2/history/')).length, 2);
  // Another app's transaction in the history is refused.
  fake.history[s.otid] = [A.sign({ ...s.tx, bundleId: 'com.example.other' }, pki.chains.good)];
  const bad = await env.tallyAsync(['apple', 'status', s.otid, '--history']);
  assert.strictEqual(bad.code, 1);
  assert.match(bad.stderr, /another app/);
});

run({
  before: async () => {
    pki = A.makePki();
    const kp = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    apiKey = { privatePem: kp.privateKey.export({ type: 'pkcs8', format: 'pem' }), publicKey: kp.publicKey };
    fake = await new FakeApple({ publicKey: apiKey.publicKey, keyId: KEY_ID, issuerId: ISSUER, bundleId: A.BUNDLE, appAppleId: A.APP_ID }).start();
    const cfg = appleConfig(pki, { api_base: fake.url, api_sandbox_base: 'http://127.0.0.1:9', key_id: KEY_ID, issuer_id: ISSUER });
    cfg.http = { timeout: '1s', connect_timeout: '1s' };
    return Env.start({ config: cfg, handlers: ['appstore'], env: { APPLE_PRIVATE_KEY: apiKey.privatePem } });
  },
  after: async (env, failed) => {
    await fake.stop();
    await env.stop(failed > 0 && process.env.KEEP);
  },
});
