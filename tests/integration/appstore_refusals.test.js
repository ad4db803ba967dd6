'use strict';
// Forged, tampered, mis-addressed and malformed App Store notifications,
// through nginx: each gets a clear 4xx and changes nothing. Every signed
// case is also put to Apple's own SignedDataVerifier (npm
// @apple/app-store-server-library, online checks off), which must agree.
const crypto = require('crypto');
const { test, run, assert } = require('../lib/t');
const A = require('../lib/apple');
const { startApple, post, sd, userId } = require('../lib/apple-env');
const { SignedDataVerifier, Environment } = require('@apple/app-store-server-library');

let pki;
let apple; // Apple's verifier, trusting the test root

function note(chain, o = {}) {
  const user = userId();
  const { tx: txo, ...rest } = o;
  const tx = A.transaction({ appAccountToken: user, productId: 'com.example.pro.monthly', ...(txo || {}) });
  const n = A.notification('SUBSCRIBED', 'INITIAL_BUY', { chain, tx, renewal: A.renewalInfo(tx), signedDate: sd(), ...rest });
  return { ...n, user };
}

async function appleSays(signedPayload) {
  try {
    await apple.verifyAndDecodeNotification(signedPayload);
    return 'ok';
  } catch (e) {
    return `refused ${e.status}`;
  }
}

// Post, expect the status and error code, and that no table changed.
async function refused(env, body, status, code) {
  const before = env.counts();
  const r = await post(env, body);
  assert.strictEqual(r.status, status, `status ${r.status} body ${r.text}`);
  if (code) assert.strictEqual(r.json && r.json.error && r.json.error.code, code, r.text);
  assert.deepStrictEqual(env.counts(), before, 'the database changed');
  return r;
}

// Re-sign nothing: swap the payload part of a compact JWS, keeping header and signature.
function swapPayload(jws, edit) {
  const [h, p, s] = jws.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  edit(payload);
  return `${h}.${A.b64url(JSON.stringify(payload))}.${s}`;
}

test('a good chain is accepted, by tally and by Apple\'s library', async (env) => {
  const n = note(pki.chains.good);
  assert.strictEqual(await appleSays(n.signedPayload), 'ok');
  const r = await post(env, n.body);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.state, 'applied', r.json.reason);
  assert.ok(env.user(n.user).entitlements.some((e) => e.name === 'pro'));
});

for (const [name, chainName] of [
  ['a leaf without Apple\'s marker OID', 'leafNoOid'],
  ['an intermediate without Apple\'s marker OID', 'interNoOid'],
  ['a chain to another root', 'otherRoot'],
  ['a chain that names our root as its third certificate but was issued by another', 'claimsOurRoot'],
]) {
  test(`refused: ${name}`, async (env) => {
    const n = note(pki.chains[chainName]);
    assert.match(await appleSays(n.signedPayload), /^refused/);
    await refused(env, n.body, 401, 'bad_signature');
    assert.strictEqual(env.user(n.user), null);
  });
}

test('refused: a chain not valid at the notification\'s signedDate (expired leaf)', async (env) => {
  const n = note(pki.chains.short, { signedDate: Date.now() + 3 * 86400e3 });
  assert.match(await appleSays(n.signedPayload), /^refused/);
  await refused(env, n.body, 401, 'certificate_not_valid');
});

test('refused: a tampered payload (another user, a higher price)', async (env) => {
  const n = note(pki.chains.good);
  const forged = swapPayload(n.signedPayload, (p) => { p.notificationUUID = crypto.randomUUID(); p.signedDate += 1; });
  assert.match(await appleSays(forged), /^refused/);
  await refused(env, JSON.stringify({ signedPayload: forged }), 401, 'bad_signature');
});

test('refused: a tampered nested transaction inside a validly signed notification', async (env) => {
  const victim = userId();
  const n = note(pki.chains.good, {
    mutateTxJws: (jws) => swapPayload(jws, (tx) => { tx.appAccountToken = victim; tx.quantity = 100; }),
  });
  assert.match(await appleSays(n.signedPayload), /^ok/, 'Apple\'s notification verifier does not look inside');
  await refused(env, n.body, 401, 'bad_signature');
  assert.strictEqual(env.user(victim), null);
});

test('refused: alg none, HS256 and RS256', async (env) => {
  for (const alg of ['none', 'HS256', 'RS256']) {
    const user = userId();
    const tx = A.transaction({ appAccountToken: user });
    const payload = { notificationType: 'SUBSCRIBED', subtype: 'INITIAL_BUY', notificationUUID: crypto.randomUUID(), signedDate: sd(), data: { bundleId: A.BUNDLE, appAppleId: A.APP_ID, environment: 'Production', signedTransactionInfo: A.sign(tx, pki.chains.good) } };
    const jws = A.sign(payload, pki.chains.good, { alg });
    assert.match(await appleSays(jws), /^refused/, alg);
    const r = await post(env, JSON.stringify({ signedPayload: jws }));
    assert.ok(r.status === 401 || (alg === 'none' && r.status === 400), `${alg}: ${r.status} ${r.text}`);
    assert.strictEqual(env.user(user), null, alg);
  }
});

test('refused: missing or malformed x5c', async (env) => {
  const g = pki.chains.good;
  const headers = [
    { alg: 'ES256' },
    { alg: 'ES256', x5c: [] },
    { alg: 'ES256', x5c: [g.x5c[0], g.x5c[1]] },
    { alg: 'ES256', x5c: 'MIIB' },
    { alg: 'ES256', x5c: ['not base64!', g.x5c[1], g.x5c[2]] },
    { alg: 'ES256', x5c: [Buffer.from('garbage').toString('base64'), g.x5c[1], g.x5c[2]] },
    { alg: 'ES256', x5c: [g.x5c[1], g.x5c[0], g.x5c[2]] },
  ];
  for (const header of headers) {
    const payload = { notificationType: 'TEST', notificationUUID: crypto.randomUUID(), signedDate: sd(), data: { bundleId: A.BUNDLE, appAppleId: A.APP_ID, environment: 'Production' } };
    const jws = A.sign(payload, g, { header });
    assert.match(await appleSays(jws), /^refused/, JSON.stringify(header).slice(0, 60));
    await refused(env, JSON.stringify({ signedPayload: jws }), 401, 'bad_signature');
  }
});

test('refused: a notification for another bundle id or app id, or with another app\'s transaction (403)', async (env) => {
  await refused(env, note(pki.chains.good, { bundleId: 'com.example.other' }).body, 403, 'wrong_app');
  await refused(env, note(pki.chains.good, { appAppleId: 999 }).body, 403, 'wrong_app');
  await refused(env, note(pki.chains.good, { tx: { bundleId: 'com.example.other' } }).body, 403, 'wrong_app');
  await refused(env, note(pki.chains.good, { environment: 'Production', tx: { environment: 'Sandbox' } }).body, 403, 'wrong_app');
});

test('refused: malformed bodies (400) and an oversized one (413); GET is 405', async (env) => {
  for (const body of ['', 'not json', '[]', '{}', '{"signedPayload": 42}', '{"signedPayload": "a.b.c"}',
    '{"signedPayload": "a.b.c.d"}', '{"signedPayload": "..."}', JSON.stringify({ signedPayload: 'x'.repeat(1000) })]) {
    const r = await refused(env, body, 400);
    assert.strictEqual(r.json.error.code, 'malformed_notification', `${body.slice(0, 30)}: ${r.text}`);
  }
  await refused(env, JSON.stringify({ signedPayload: 'a'.repeat(2 * 1024 * 1024) }), 413);
  const g = await env.request('GET', '/webhooks/appstore');
  assert.strictEqual(g.status, 405);
});

test('production notifications are refused while apple.app_apple_id is not configured', async () => {
  const env = await startApple(pki, { apple: { app_apple_id: undefined } });
  try {
    await refused(env, note(pki.chains.good).body, 403, 'wrong_app');
    const sb = await post(env, note(pki.chains.good, { environment: 'Sandbox', tx: { environment: 'Sandbox' } }).body);
    assert.strictEqual(sb.status, 200, sb.text);
  } finally {
    await env.stop();
  }
});

test('nothing forged reached the database: verify is clean and only the good notification applied', async (env) => {
  assert.strictEqual(env.sql("SELECT count(*) AS n FROM inbox WHERE state = 'applied'")[0].n, 1);
  assert.ok(env.verify().ok);
});

run({
  before: async () => {
    pki = A.makePki();
    apple = new SignedDataVerifier([pki.root.der], false, Environment.PRODUCTION, A.BUNDLE, A.APP_ID);
    return startApple(pki);
  },
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
