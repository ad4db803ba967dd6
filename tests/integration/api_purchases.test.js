'use strict';
// POST /v1/users/{id}/purchases through nginx: the app hands in the
// StoreKit 2 signed transaction it was just given; tally verifies it as it
// verifies the App Store's notifications (the test chain of tests/lib/apple.js,
// Apple's marker OIDs, the bundle id, the environment), applies it at once and
// answers the user document. The webhook about the same transaction later is
// a duplicate of its payment, never a second grant (and the other way round);
// every forged, tampered, mis-addressed or stolen transaction is refused and
// changes nothing; a user token hands in its own user's purchases only.
const crypto = require('crypto');
const { test, run, assert } = require('../lib/t');
const A = require('../lib/apple');
const { appleConfig, post, sd, userId, txId, PRO, PACK } = require('../lib/apple-env');
const { startApi, jwt, nowS } = require('../lib/api');

const DAY = 86400e3;
let pki;

const KEYS = { admin: 'read,spend,admin', read: 'read', spend: 'spend', purchase: 'purchase' };

function start(apple = {}) {
  return startApi({ config: appleConfig(pki, apple), handlers: ['api', 'appstore'], keys: KEYS });
}

async function register(env, user) {
  const r = await env.api('POST', `/v1/users/${user}`);
  assert.strictEqual(r.status, 200, r.text);
}

// A transaction of the test chain (signed now, a 30-day subscription of PRO unless o says otherwise).
function tx(o = {}) {
  return A.transaction({ productId: PRO, signedDate: sd(), ...o });
}

const jws = (t, chain = pki.chains.good, opts) => A.sign(t, chain, opts);

function handIn(env, user, signed, key = env.keys.purchase) {
  return env.api('POST', `/v1/users/${user}/purchases`, { store: 'apple', signedTransaction: signed }, key);
}

// The App Store's notification about transaction t (for the same user).
async function webhook(env, type, subtype, t) {
  const n = A.notification(type, subtype, { chain: pki.chains.good, tx: t, renewal: A.renewalInfo(t), signedDate: sd() });
  const r = await post(env, n.body);
  assert.strictEqual(r.status, 200, r.text);
  return r.json;
}

// Send, expect the status and code, and that no table changed.
async function refused(env, send, status, code) {
  const before = env.counts();
  const r = await send();
  assert.strictEqual(r.status, status, `${r.status} ${r.text}`);
  if (code) assert.strictEqual(r.json && r.json.error && r.json.error.code, code, r.text);
  assert.deepStrictEqual(env.counts(), before, 'the database changed');
  return r;
}

const pro = (doc) => doc.entitlements.some((e) => e.name === 'pro');
const payments = (env, user) => env.sql(`SELECT amount, currency, kind FROM payments WHERE user_id = '${user}' ORDER BY id`);

function swapPayload(signed, edit) {
  const [h, p, s] = signed.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  edit(payload);
  return `${h}.${A.b64url(JSON.stringify(payload))}.${s}`;
}

test('a signed transaction handed in entitles at once; the webhook after it is a duplicate, no second grant', async (env) => {
  const user = userId();
  await register(env, user);
  const t = tx({ appAccountToken: user, transactionId: txId() });
  t.originalTransactionId = t.transactionId;
  const r = await handIn(env, user, jws(t));
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.user_id, user);
  assert.ok(pro(r.json), 'entitled in the answer itself');
  assert.strictEqual(r.json.balance.available, 1000);
  assert.strictEqual(r.json.subscriptions[0].state, 'active');
  assert.ok(Array.isArray(r.json.audit), 'a key gets the whole document');
  const row = env.sql(`SELECT provider, event_id, state FROM inbox WHERE event_id LIKE 'purchase:%'`);
  assert.deepStrictEqual(row, [{ provider: 'apple', event_id: `purchase:${t.transactionId}`, state: 'applied' }]);

  // Spend some: a second grant would show as a reset to 1000.
  const sp = await env.api('POST', `/v1/users/${user}/spend`, { amount: 300, idempotency_key: 'k1' }, env.keys.spend);
  assert.strictEqual(sp.status, 200, sp.text);
  const w = await webhook(env, 'SUBSCRIBED', 'INITIAL_BUY', t);
  assert.strictEqual(w.state, 'applied', w.reason);
  assert.match(w.reason, /already recorded/);
  assert.strictEqual(env.user(user).balance.available, 700);
  assert.deepStrictEqual(payments(env, user), [{ amount: 999, currency: 'USD', kind: 'initial' }]);

  // The same transaction handed in again (Apple re-signs it each time): the first answer, nothing again.
  const again = await handIn(env, user, jws({ ...t, signedDate: sd() }));
  assert.strictEqual(again.status, 200, again.text);
  assert.strictEqual(again.json.balance.available, 700);
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM inbox WHERE event_id = 'purchase:${t.transactionId}'`)[0].n, 1);
});

test('handed in after the webhook: a duplicate of the payment, nothing granted again', async (env) => {
  const user = userId();
  await register(env, user);
  const t = tx({ appAccountToken: user });
  await webhook(env, 'SUBSCRIBED', 'INITIAL_BUY', t);
  await env.api('POST', `/v1/users/${user}/spend`, { amount: 250, idempotency_key: 'k1' }, env.keys.spend);
  const r = await handIn(env, user, jws({ ...t, signedDate: sd() }));
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.balance.available, 750);
  assert.strictEqual(payments(env, user).length, 1);
  const ev = env.sql(`SELECT state, reason FROM inbox WHERE event_id = 'purchase:${t.transactionId}'`)[0];
  assert.strictEqual(ev.state, 'applied');
  assert.match(ev.reason, /already recorded/);
});

test('a renewal handed in resets the credits once; its DID_RENEW after it grants nothing again', async (env) => {
  const user = userId();
  await register(env, user);
  const otid = txId();
  const first = tx({ appAccountToken: user, originalTransactionId: otid, transactionId: otid });
  assert.strictEqual((await handIn(env, user, jws(first))).status, 200);
  await env.api('POST', `/v1/users/${user}/spend`, { amount: 400, idempotency_key: 'k1' }, env.keys.spend);
  const renewal = tx({
    appAccountToken: user, originalTransactionId: otid, transactionReason: 'RENEWAL',
    purchaseDate: Date.now() + DAY, expiresDate: Date.now() + 31 * DAY,
  });
  const r = await handIn(env, user, jws(renewal));
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.balance.available, 1000);
  await env.api('POST', `/v1/users/${user}/spend`, { amount: 100, idempotency_key: 'k2' }, env.keys.spend);
  await webhook(env, 'DID_RENEW', undefined, renewal);
  assert.strictEqual(env.user(user).balance.available, 900);
  assert.deepStrictEqual(payments(env, user).map((p) => p.kind), ['initial', 'renewal']);
});

test('a consumable pack handed in adds its credits once; ONE_TIME_CHARGE after it adds nothing', async (env) => {
  const user = userId();
  await register(env, user);
  const t = tx({ appAccountToken: user, productId: PACK, type: 'Consumable', expiresDate: null, price: 1990 });
  const r = await handIn(env, user, jws(t));
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.balance.available, 100);
  assert.strictEqual((await handIn(env, user, jws({ ...t, signedDate: sd() }))).json.balance.available, 100);
  const w = await webhook(env, 'ONE_TIME_CHARGE', undefined, t);
  assert.strictEqual(w.state, 'applied', w.reason);
  assert.strictEqual(env.user(user).balance.available, 100);
  assert.deepStrictEqual(payments(env, user), [{ amount: 199, currency: 'USD', kind: 'one_off' }]);
});

test('an expired subscription\'s transaction is recorded and grants nothing', async (env) => {
  const user = userId();
  await register(env, user);
  const t = tx({ appAccountToken: user, purchaseDate: Date.now() - 40 * DAY, expiresDate: Date.now() - 10 * DAY });
  const r = await handIn(env, user, jws(t));
  assert.strictEqual(r.status, 200, r.text);
  assert.ok(!pro(r.json));
  assert.strictEqual(r.json.balance.available, 0);
  assert.strictEqual(r.json.subscriptions[0].state, 'expired');
  assert.strictEqual(payments(env, user).length, 0);
});

test('refused, nothing stored: tampered, forged chains, expired chain, another app, Sandbox while off, unknown product', async (env) => {
  const user = userId();
  await register(env, user);
  const t = tx({ appAccountToken: user });
  const good = jws(t);
  const tampered = swapPayload(good, (p) => { p.quantity = 100; p.price = 0; });
  await refused(env, () => handIn(env, user, tampered), 400, 'bad_signature');
  for (const chain of ['leafNoOid', 'interNoOid', 'otherRoot', 'claimsOurRoot']) {
    await refused(env, () => handIn(env, user, jws(tx({ appAccountToken: user }), pki.chains[chain])), 400, 'bad_signature');
  }
  for (const alg of ['none', 'HS256', 'RS256']) {
    const r = await refused(env, () => handIn(env, user, jws(tx({ appAccountToken: user }), pki.chains.good, { alg })), 400);
    assert.match(r.json.error.code, /^(bad_signature|malformed_transaction)$/, alg);
  }
  // A chain not valid at the transaction's signedDate (the one-day leaf, three days on).
  await refused(env, () => handIn(env, user, jws(tx({ appAccountToken: user, signedDate: Date.now() + 3 * DAY }), pki.chains.short)), 400, 'certificate_not_valid');
  await refused(env, () => handIn(env, user, jws(tx({ appAccountToken: user, bundleId: 'com.example.other' }))), 403, 'wrong_app');
  await refused(env, () => handIn(env, user, jws(tx({ appAccountToken: user, environment: 'Xcode' }))), 403, 'wrong_app');
  await refused(env, () => handIn(env, user, jws(tx({ appAccountToken: user, environment: 'Sandbox' }))), 403, 'test_purchase_refused');
  await refused(env, () => handIn(env, user, jws(tx({ appAccountToken: user, productId: 'com.example.unknown' }))), 400, 'unknown_product');
  // Its transactionId, not its signature, is the payment: the good one still applies afterwards.
  const r = await handIn(env, user, good);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.balance.available, 1000);
});

test('refused: malformed and oversized bodies, wrong fields, unknown users', async (env) => {
  const user = userId();
  await register(env, user);
  const g = jws(tx({ appAccountToken: user }));
  const send = (body) => env.api('POST', `/v1/users/${user}/purchases`, body, env.keys.purchase);
  await refused(env, () => send('not json'), 400, 'malformed_json');
  await refused(env, () => send('[]'), 400, 'malformed_json');
  await refused(env, () => send({}), 400, 'bad_request');
  await refused(env, () => send({ store: 'apple' }), 400, 'bad_request');
  await refused(env, () => send({ store: 'apple', signedTransaction: 42 }), 400, 'bad_request');
  await refused(env, () => send({ store: 'apple', signedTransaction: '' }), 400, 'bad_request');
  await refused(env, () => send({ store: 'paypal', signedTransaction: g }), 400, 'bad_request');
  await refused(env, () => send({ signedTransaction: g }), 400, 'bad_request');
  for (const s of ['a.b.c', 'a.b', '...', 'x'.repeat(9000), `${g}.x`, g.replace(/\./g, '')]) {
    await refused(env, () => send({ store: 'apple', signedTransaction: s }), 400);
  }
  await refused(env, () => send({ store: 'apple', signedTransaction: 'x'.repeat(17 * 1024) }), 413, 'body_too_large');
  await refused(env, () => env.api('POST', `/v1/users/${userId()}/purchases`, { store: 'apple', signedTransaction: g }, env.keys.purchase), 404, 'unknown_user');
  assert.strictEqual((await env.api('GET', `/v1/users/${user}/purchases`)).status, 405);
});

test('theft: a transaction whose appAccountToken names user B, handed in for A, is 409', async (env) => {
  const a = userId();
  const b = userId();
  await register(env, a);
  await register(env, b);
  await refused(env, () => handIn(env, a, jws(tx({ appAccountToken: b }))), 409, 'not_your_purchase');
  assert.strictEqual(env.user(b).balance.available, 0);
});

test('theft: handed in by A after B owns it (by hand-in, by webhook, a renewal of B\'s subscription) is 409', async (env) => {
  const a = userId();
  const b = userId();
  await register(env, a);
  await register(env, b);
  // No appAccountToken: only who held it first says whose it is.
  const t = tx({});
  assert.strictEqual((await handIn(env, b, jws(t))).status, 200);
  await refused(env, () => handIn(env, a, jws(t)), 409, 'not_your_purchase');
  await refused(env, () => handIn(env, a, jws({ ...t, signedDate: sd() })), 409, 'not_your_purchase');
  const renewal = tx({ originalTransactionId: t.originalTransactionId, transactionReason: 'RENEWAL', expiresDate: Date.now() + 60 * DAY });
  await refused(env, () => handIn(env, a, jws(renewal)), 409, 'not_your_purchase');
  // B's subscription known from the webhook only.
  const w = tx({ appAccountToken: b });
  await webhook(env, 'SUBSCRIBED', 'INITIAL_BUY', w);
  const stolen = tx({ originalTransactionId: w.originalTransactionId, transactionReason: 'RENEWAL' });
  await refused(env, () => handIn(env, a, jws(stolen)), 409, 'not_your_purchase');
  // A's own user token cannot take it either.
  const tok = (await env.api('POST', `/v1/users/${a}/token`, {}, env.keys.spend)).json.token;
  await refused(env, () => handIn(env, a, jws(t), tok), 409, 'not_your_purchase');
  assert.ok(!pro(env.user(a)));
  assert.strictEqual(payments(env, a).length, 0);
  assert.strictEqual(payments(env, b).length, 2);
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM subscriptions WHERE user_id = '${a}'`)[0].n, 0);
});

test('user tokens: minted by a spend key, read and hand in for their own user only; another user\'s is 403', async (env) => {
  const a = userId();
  const b = userId();
  await register(env, a);
  await register(env, b);
  const m = await env.api('POST', `/v1/users/${a}/token`, { ttl: 600 }, env.keys.spend);
  assert.strictEqual(m.status, 200, m.text);
  assert.strictEqual(m.json.user_id, a);
  assert.strictEqual(m.json.token_type, 'Bearer');
  const exp = Date.parse(m.json.expires_at);
  assert.ok(Math.abs(exp - (Date.now() + 600e3)) < 5000, m.json.expires_at);
  const tok = m.json.token;
  const claims = JSON.parse(Buffer.from(tok.split('.')[1], 'base64url').toString());
  assert.strictEqual(claims.sub, a);
  assert.strictEqual(claims.exp - claims.iat, 600);
  assert.ok(!env.log('api').includes(tok.split('.')[2]), 'a token reached the log');

  const g = await env.api('GET', `/v1/users/${a}`, undefined, tok);
  assert.strictEqual(g.status, 200, g.text);
  const r = await handIn(env, a, jws(tx({ appAccountToken: a })), tok);
  assert.strictEqual(r.status, 200, r.text);
  assert.ok(pro(r.json));
  assert.strictEqual(r.json.audit, undefined, 'a user token gets the user view');
  assert.strictEqual(r.json.links, undefined);

  // A's token on B: 403, nothing changed; a transaction for B handed in with A's token too.
  await refused(env, () => env.api('GET', `/v1/users/${b}`, undefined, tok), 403, 'forbidden');
  await refused(env, () => handIn(env, b, jws(tx({ appAccountToken: b })), tok), 403, 'forbidden');
  await refused(env, () => handIn(env, b, jws(tx({})), tok), 403, 'forbidden');
  assert.ok(!pro(env.user(b)));
  // A user token does nothing else; expired or forged ones are 401.
  await refused(env, () => env.api('POST', `/v1/users/${a}/spend`, { amount: 1, idempotency_key: 'x' }, tok), 401, 'unauthorized');
  await refused(env, () => env.api('POST', `/v1/users/${a}/token`, {}, tok), 401, 'unauthorized');
  await refused(env, () => handIn(env, a, jws(tx({ appAccountToken: a })), jwt({ sub: a, exp: nowS() - 1 })), 401, 'unauthorized');
  await refused(env, () => handIn(env, a, jws(tx({ appAccountToken: a })), `${tok.slice(0, -2)}AA`), 401, 'unauthorized');
});

test('who may mint and hand in: scopes, ttl bounds, unknown users', async (env) => {
  const a = userId();
  await register(env, a);
  for (const k of ['read', 'purchase']) {
    await refused(env, () => env.api('POST', `/v1/users/${a}/token`, {}, env.keys[k]), 403, 'forbidden');
  }
  assert.strictEqual((await env.api('POST', `/v1/users/${a}/token`, {}, env.keys.admin)).status, 200);
  for (const ttl of [0, 59, 86401, '600', 1.5]) {
    await refused(env, () => env.api('POST', `/v1/users/${a}/token`, { ttl }, env.keys.spend), 400, 'bad_request');
  }
  await refused(env, () => env.api('POST', `/v1/users/${userId()}/token`, {}, env.keys.spend), 404, 'unknown_user');
  for (const k of ['read', 'spend']) {
    await refused(env, () => handIn(env, a, jws(tx({ appAccountToken: a })), env.keys[k]), 403, 'forbidden');
  }
  const r = await handIn(env, a, jws(tx({ appAccountToken: a })), env.keys.admin);
  assert.strictEqual(r.status, 200, r.text);
  const keys = env.tallyJson(['keys', 'list']);
  assert.strictEqual(keys.find((x) => x.name === 'purchase').scopes, 'purchase');
});

test('a stored purchase is rebuilt from its envelope, and the webhook refuses the envelope', async (env) => {
  const user = userId();
  const t = tx({});
  const before = env.counts();
  // The envelope with its user is tally's own: posted to the webhook it is refused.
  const body = JSON.stringify({ tally_purchase: { user }, signedTransactionInfo: jws(t) });
  const r = await post(env, body);
  assert.strictEqual(r.status, 400, r.text);
  const both = JSON.stringify({ signedPayload: A.notification('TEST', undefined, { chain: pki.chains.good, signedDate: sd() }).signedPayload, tally_purchase: { user } });
  assert.strictEqual((await post(env, both)).status, 400);
  assert.deepStrictEqual(env.counts(), before);
  const rb = env.tally(['rebuild', '--json']);
  assert.strictEqual(rb.code, 0, rb.stdout + rb.stderr);
  assert.ok(env.verify().ok);
});

test('an appAccountToken linked to user B (apple.account_token_is_user_id false) is B\'s: 409 for A', async () => {
  const env = await start({ account_token_is_user_id: false });
  try {
    const a = 'alice';
    const b = 'bob';
    await register(env, a);
    await register(env, b);
    const tb = crypto.randomUUID();
    const l = await env.api('POST', `/v1/users/${b}/links`, { provider: 'apple', kind: 'app_account_token', id: tb });
    assert.strictEqual(l.status, 200, l.text);
    await refused(env, () => handIn(env, a, jws(tx({ appAccountToken: tb }))), 409, 'not_your_purchase');
    // A token nobody holds yet becomes A's.
    const ta = crypto.randomUUID();
    const r = await handIn(env, a, jws(tx({ appAccountToken: ta })));
    assert.strictEqual(r.status, 200, r.text);
    assert.ok(pro(r.json));
    assert.ok(env.user(a).links.some((x) => x.kind === 'app_account_token' && x.id === ta));
    // Its webhook later finds A by that link and grants nothing again.
    assert.ok(env.verify().ok);
  } finally {
    await env.stop();
  }
});

run({
  before: async () => {
    pki = A.makePki();
    return start();
  },
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
