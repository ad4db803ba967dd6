'use strict';
// Smaller defects a hostile review found, each through nginx and the real
// handlers:
// - an Apple-signed price too large for tally's amounts is stored failed with
//   what was received and what fits, never recorded as a wrong amount;
// - App Store verification and mapping read the same part of a notification
//   (data / summary / externalPurchaseToken / appData, its nested JWS, its
//   environment): a notification where two rules would disagree is refused;
// - every App Store refusal says why, in the answer and in the log line;
// - a body that begins with a UTF-8 byte order mark gets the same answer from
//   every endpoint (400 bad_body, saying so), even when correctly signed over
//   those very bytes, and changes nothing.
// (An answer whose headers pass the response buffer is tests/unit/test_http.c:
// no endpoint can produce one today.)
const crypto = require('crypto');
const { test, run, assert } = require('../lib/t');
const { Env, DEFAULT_CATALOG } = require('../lib/harness');
const A = require('../lib/apple');
const { appleConfig, post, sd, userId, txId, PACK, PRO } = require('../lib/apple-env');
const S = require('../lib/stripe-events');
const R = require('../lib/revenuecat-events');
const C = require('../lib/console');

const SECRETS = {
  stripe: `whsec_${crypto.randomBytes(12).toString('hex')}`,
  razorpay: `rzp_whsec_${crypto.randomBytes(8).toString('hex')}`,
  telegram: `tg_${crypto.randomBytes(12).toString('hex')}`,
  cryptobot: `12345:${crypto.randomBytes(16).toString('hex')}`,
  revenuecat: `Bearer rc_${crypto.randomBytes(12).toString('hex')}`,
};
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
let pki;
let adminKey;

const hmacHex = (key, body) => crypto.createHmac('sha256', key).update(body).digest('hex');

async function unchanged(env, fn) {
  const before = env.counts();
  const r = await fn();
  assert.deepStrictEqual(env.counts(), before, `the database changed (${r.status} ${r.text.slice(0, 200)})`);
  return r;
}

function inboxRow(env, eventId) {
  return env.sql(`SELECT i.*, length(b.body) AS body_len FROM inbox i LEFT JOIN inbox_bodies b ON b.inbox_id = i.id
    WHERE i.provider = 'apple' AND i.event_id = '${eventId}'`)[0] || null;
}

const paymentOf = (env, key) => env.sql(`SELECT p.* FROM payments p JOIN payment_keys k ON k.payment_id = p.id
  WHERE k.provider = 'apple' AND k.key = '${key}'`)[0] || null;

// ---------------------------------------------------------------- 1. Apple's price

// A signed ONE_TIME_CHARGE (or SUBSCRIBED) of `price` milliunits of `currency`.
function priced(type, subtype, productId, price, currency) {
  const user = userId();
  const tx = A.transaction({ appAccountToken: user, productId, price, currency, transactionId: txId() });
  const n = A.notification(type, subtype, { chain: pki.chains.good, tx, signedDate: sd() });
  return { ...n, user, tx };
}

for (const [currency, price, max] of [
  // 2^53 - 1 milliunits times 10^5 (BTC counts 10^-8) passes INT64_MAX: it was a wrapped amount.
  ['BTC', 9007199254740991, 10000000000],
  // KWD counts thousandths: 2^53 - 1 of them is past the 10^15 minor units tally records.
  ['KWD', 9007199254740991, 1000000000000000],
]) {
  test(`a price past what tally records (${price} milliunits of ${currency}) is stored failed with its reason, answered 200, nothing applied`, async (env) => {
    const n = priced('ONE_TIME_CHARGE', null, PACK, price, currency);
    const r = await post(env, n.body);
    assert.strictEqual(r.status, 200, r.text);
    assert.strictEqual(r.json.state, 'failed', r.text);
    // What was received, and what was expected.
    assert.ok(r.json.reason.includes(`price ${price} milliunits of ${currency}`), r.json.reason);
    assert.ok(r.json.reason.includes(`at most ${max} milliunits`), r.json.reason);
    assert.ok(r.json.reason.includes(n.tx.transactionId), r.json.reason);
    // The inbox keeps it (raw body, state, reason), an alert goes out, no money is recorded.
    const row = inboxRow(env, n.payload.notificationUUID);
    assert.ok(row && row.state === 'failed' && row.reason === r.json.reason && row.body_len === Buffer.byteLength(n.body), JSON.stringify(row));
    assert.strictEqual(env.sql(`SELECT count(*) AS n FROM outbox WHERE kind = 'alert' AND dedup_key LIKE 'alert:inbox:${row.id}:%'`)[0].n, 1);
    assert.strictEqual(paymentOf(env, n.tx.transactionId), null);
    assert.strictEqual(env.user(n.user), null);
    // A retry is the same answer, not a second row.
    const again = await post(env, n.body);
    assert.strictEqual(again.json.inbox_id, r.json.inbox_id, again.text);
  });
}

test('a subscription priced past the bound changes no state either', async (env) => {
  const n = priced('SUBSCRIBED', 'INITIAL_BUY', PRO, 9007199254740991, 'BTC');
  const before = env.counts();
  const r = await post(env, n.body);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.state, 'failed', r.text);
  assert.match(r.json.reason, /price 9007199254740991 milliunits of BTC .*at most 10000000000 milliunits/);
  const after = env.counts();
  for (const t of ['users', 'subscriptions', 'entitlements', 'payments', 'grants', 'ledger']) assert.strictEqual(after[t], before[t], t);
});

test('a price exactly at the bound is recorded exactly (10^10 milliunits of BTC = 10^15 minor units)', async (env) => {
  const n = priced('ONE_TIME_CHARGE', null, PACK, 10000000000, 'BTC');
  const r = await post(env, n.body);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.state, 'applied', r.text);
  const p = paymentOf(env, n.tx.transactionId);
  assert.ok(p, 'no payment recorded');
  assert.strictEqual(String(p.amount), '1000000000000000');
  assert.strictEqual(p.currency, 'BTC');
  // An ordinary price still converts as before: 9.99 USD.
  const usd = priced('ONE_TIME_CHARGE', null, PACK, 9990, 'USD');
  assert.strictEqual((await post(env, usd.body)).json.state, 'applied');
  assert.strictEqual(paymentOf(env, usd.tx.transactionId).amount, 999);
});

// ---------------------------------------------------------------- 2. one rule for what a notification is about

function signedNote(payload) {
  const signedPayload = A.sign(payload, pki.chains.good);
  return { payload, body: JSON.stringify({ signedPayload }) };
}

test('appData and externalPurchaseToken together: refused, not verified by one and mapped from the other', async (env) => {
  const victim = userId();
  // A transaction no Apple key signed, where the verifier of old never looked (appData came first there).
  const forged = A.sign(A.transaction({ appAccountToken: victim, productId: PACK, quantity: 50 }), pki.chains.otherRoot);
  const n = signedNote({
    notificationType: 'ONE_TIME_CHARGE', notificationUUID: crypto.randomUUID(), version: '2.0', signedDate: sd(),
    appData: { appAppleId: A.APP_ID, bundleId: A.BUNDLE, environment: 'Production' },
    externalPurchaseToken: { externalPurchaseId: crypto.randomUUID(), tokenCreationDate: Date.now(), appAppleId: A.APP_ID, bundleId: A.BUNDLE, signedTransactionInfo: forged },
  });
  const r = await unchanged(env, () => post(env, n.body));
  assert.strictEqual(r.status, 400, r.text);
  assert.strictEqual(r.json.error.code, 'malformed_notification');
  assert.match(r.json.error.message, /both (appData and externalPurchaseToken|externalPurchaseToken and appData)/);
  assert.strictEqual(env.user(victim), null);
  assert.ok(env.log('appstore').includes(r.json.error.message), 'the log line says why');
});

test('data and summary together, a data that is not an object, a nested JWS that is not a string: each refused with its reason', async (env) => {
  const base = () => ({ notificationType: 'TEST', notificationUUID: crypto.randomUUID(), version: '2.0', signedDate: sd() });
  const d = { appAppleId: A.APP_ID, bundleId: A.BUNDLE, environment: 'Production' };
  const cases = [
    [{ ...base(), data: d, summary: { ...d, requestIdentifier: 'x' } }, /both data and summary/],
    [{ ...base(), data: 'x', appData: d }, /field data: expected an object/],
    [{ ...base(), data: { ...d, signedTransactionInfo: 42 } }, /data\.signedTransactionInfo: expected a JWS string/],
    [{ ...base() }, /without data, summary, externalPurchaseToken or appData/],
  ];
  for (const [payload, why] of cases) {
    const r = await unchanged(env, () => post(env, signedNote(payload).body));
    assert.strictEqual(r.status, 400, r.text);
    assert.match(r.json.error.message, why);
  }
});

test('an externalPurchaseToken\'s environment is the one verification checked: a SANDBOX token is recorded as Sandbox', async (env) => {
  const n = signedNote({
    notificationType: 'EXTERNAL_PURCHASE_TOKEN', subtype: 'UNREPORTED', notificationUUID: crypto.randomUUID(), version: '2.0', signedDate: sd(),
    externalPurchaseToken: { externalPurchaseId: `SANDBOX_${crypto.randomUUID()}`, tokenCreationDate: Date.now(), appAppleId: A.APP_ID, bundleId: A.BUNDLE },
  });
  const r = await post(env, n.body);
  assert.strictEqual(r.status, 200, r.text);
  const row = inboxRow(env, n.payload.notificationUUID);
  assert.strictEqual(row.live, 0, 'a Sandbox token was recorded as Production');
  assert.strictEqual(r.json.state, 'ignored');
  assert.match(r.json.reason, /test-mode event refused/);
});

// ---------------------------------------------------------------- 3. every refusal says why

test('an App Store 400 from the mapping says which field and why, in the answer and the log line', async (env) => {
  const user = userId();
  const tx = A.transaction({ appAccountToken: user, productId: 42 });
  const n = A.notification('SUBSCRIBED', 'INITIAL_BUY', { chain: pki.chains.good, tx, signedDate: sd() });
  const r = await unchanged(env, () => post(env, n.body));
  assert.strictEqual(r.status, 400, r.text);
  assert.strictEqual(r.json.error.code, 'malformed_notification');
  assert.strictEqual(r.json.error.message, 'field productId: expected a string');
  const line = env.log('appstore').split('\n').filter((l) => l.includes(n.payload.notificationUUID)).pop() || '';
  assert.strictEqual(JSON.parse(line).error, 'field productId: expected a string', line);
  // A price that is not an integer (Apple sends milliunits), the same way.
  const tx2 = A.transaction({ appAccountToken: userId(), productId: PACK, price: 4.99 });
  const r2 = await unchanged(env, () => post(env, A.notification('ONE_TIME_CHARGE', null, { chain: pki.chains.good, tx: tx2, signedDate: sd() }).body));
  assert.strictEqual(r2.status, 400, r2.text);
  assert.match(r2.json.error.message, /^field price: expected an integer/);
});

// ---------------------------------------------------------------- 5. the byte order mark

// Each endpoint: a valid body (text) and how to send bytes signed over exactly those bytes.
function endpoints() {
  const now = Math.floor(Date.now() / 1000);
  const stripeSig = (body) => {
    const t = Math.floor(Date.now() / 1000);
    return `t=${t},v1=${hmacHex(SECRETS.stripe, Buffer.concat([Buffer.from(`${t}.`), body]))}`;
  };
  const json = { 'Content-Type': 'application/json' };
  return {
    stripe: {
      body: () => JSON.stringify(S.event('customer.created', { id: 'cus_bom', object: 'customer' })),
      send: (env, b) => env.request('POST', '/webhooks/stripe', b, { ...json, 'Stripe-Signature': stripeSig(b) }),
    },
    appstore: {
      body: () => A.notification('TEST', null, { chain: pki.chains.good, signedDate: sd() }).body,
      send: (env, b) => env.request('POST', '/webhooks/appstore', b, json),
    },
    revenuecat: {
      body: () => JSON.stringify(R.testEvent()),
      send: (env, b) => env.request('POST', '/webhooks/revenuecat', b, { ...json, Authorization: SECRETS.revenuecat }),
    },
    razorpay: {
      body: () => JSON.stringify({ entity: 'event', account_id: 'acc_b', event: 'payment.captured', contains: ['payment'], created_at: now, payload: { payment: { entity: { id: `pay_${crypto.randomBytes(4).toString('hex')}`, entity: 'payment', amount: 100, currency: 'INR', status: 'captured', order_id: 'order_b', notes: {} } } } }),
      send: (env, b) => env.request('POST', '/webhooks/razorpay', b, { ...json, 'X-Razorpay-Signature': hmacHex(SECRETS.razorpay, b), 'X-Razorpay-Event-Id': `evt_${crypto.randomBytes(6).toString('hex')}` }),
    },
    telegram: {
      body: () => JSON.stringify({ update_id: 1000 + Math.floor(Math.random() * 1e6), message: { message_id: 1, date: now, chat: { id: 7, type: 'private' }, from: { id: 7, is_bot: false, first_name: 'b' }, successful_payment: { currency: 'XTR', total_amount: 250, invoice_payload: 'ord_000000000000000000000000', telegram_payment_charge_id: `tg_${crypto.randomBytes(4).toString('hex')}`, provider_payment_charge_id: '' } } }),
      send: (env, b) => env.request('POST', '/webhooks/telegram', b, { ...json, 'X-Telegram-Bot-Api-Secret-Token': SECRETS.telegram }),
    },
    cryptobot: {
      body: () => JSON.stringify({ update_id: 1, update_type: 'invoice_paid', request_date: new Date().toISOString(), payload: { invoice_id: Math.floor(Math.random() * 1e6), status: 'paid', currency_type: 'crypto', asset: 'USDT', amount: '4.99', payload: 'ord_000000000000000000000000', paid_at: new Date().toISOString() } }),
      send: (env, b) => env.request('POST', '/webhooks/cryptobot', b, { ...json, 'crypto-pay-api-signature': hmacHex(crypto.createHash('sha256').update(SECRETS.cryptobot).digest(), b) }),
    },
    api: {
      body: () => JSON.stringify({ credits: 1, reason: 'bom test' }),
      send: (env, b) => env.request('POST', '/v1/users/b_user/promotions', b, { ...json, Authorization: `Bearer ${adminKey}` }),
    },
  };
}

for (const name of ['stripe', 'appstore', 'revenuecat', 'razorpay', 'telegram', 'cryptobot', 'api']) {
  test(`${name}: a body that begins with a byte order mark, signed over those bytes, is 400 bad_body saying so; the same body without it is taken`, async (env) => {
    const ep = endpoints()[name];
    const text = ep.body();
    const r = await unchanged(env, () => ep.send(env, Buffer.concat([BOM, Buffer.from(text)])));
    assert.strictEqual(r.status, 400, r.text.slice(0, 200));
    assert.strictEqual(r.json && r.json.error && r.json.error.code, 'bad_body', r.text.slice(0, 200));
    assert.match(r.json.error.message, /byte order mark/);
    // The signature was right: without the mark, the same bytes are taken.
    const ok = await ep.send(env, Buffer.from(text));
    assert.ok(ok.status >= 200 && ok.status < 300, `${ok.status} ${ok.text.slice(0, 200)}`);
  });
}

test('the console: a form that begins with a byte order mark is a 400 page saying so; the same form without it is taken', async (env) => {
  const c = new C.Client(env);
  assert.strictEqual((await c.login()).status, 303);
  const f = await c.form('/admin/user?id=b_user', 'credits.grant');
  const form = new URLSearchParams({ ...f.fields, amount: '5', reason: 'bom test' }).toString();
  const send = (b) => env.request('POST', f.action, b, c.headers({ 'Content-Type': 'application/x-www-form-urlencoded' }));
  const r = await unchanged(env, () => send(Buffer.concat([BOM, Buffer.from(form)])));
  assert.strictEqual(r.status, 400, r.text.slice(0, 200));
  assert.match(r.text, /byte order mark/);
  const ok = await send(Buffer.from(form));
  assert.strictEqual(ok.status, 303, ok.text.slice(0, 200));
});

test('a refused byte order mark is in the handler\'s log line', async (env) => {
  const lines = env.log('stripe').split('\n').filter((l) => l.includes('byte order mark'));
  assert.ok(lines.length > 0, 'no log line names the byte order mark');
  assert.strictEqual(JSON.parse(lines[0]).status, 400);
});

test('nothing refused reached the ledger: verify is clean', async (env) => {
  assert.ok(env.verify().ok);
});

run({
  before: async () => {
    pki = A.makePki();
    const cfg = appleConfig(pki);
    cfg.stripe = { test_mode: true };
    cfg.razorpay = { key_id: 'rzp_live_Small0000001' };
    cfg.products = { ...JSON.parse(JSON.stringify(DEFAULT_CATALOG.products)), ...cfg.products };
    const env = await Env.start({
      config: cfg,
      secret: SECRETS.stripe,
      handlers: ['stripe', 'appstore', 'revenuecat', 'razorpay', 'telegram', 'cryptobot', 'api', 'console'],
      env: {
        RAZORPAY_WEBHOOK_SECRET: SECRETS.razorpay, TELEGRAM_WEBHOOK_SECRET: SECRETS.telegram, TELEGRAM_BOT_TOKEN: '1:test',
        CRYPTOBOT_TOKEN: SECRETS.cryptobot, REVENUECAT_WEBHOOK_AUTH: SECRETS.revenuecat,
      },
    });
    adminKey = env.tallyJson(['keys', 'create', '--name', 'b', '--scopes', 'admin']).key;
    if (C.adminSet(env, C.ADMIN, C.PASSWORD).code !== 0) throw new Error('admin create failed');
    await env.request('POST', '/v1/users/b_user', '', { Authorization: `Bearer ${adminKey}` });
    return env;
  },
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
