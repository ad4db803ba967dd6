'use strict';
// CryptoBot (Crypto Pay) end to end: `tally checkout` creates an invoice at a fake Crypto Pay API
// (tests/fakes/cryptobot.js) for the catalog's crypto price, expiring with the order; the fake
// marks it paid and sends invoice_paid, signed with HMAC-SHA256 keyed by SHA-256 of the token,
// through nginx to bin/tally-cryptobot on a real SQLite file. Every refusal grants nothing.
const crypto = require('crypto');
const { test, run, assert } = require('../lib/t');
const { Env } = require('../lib/harness');
const D = require('../lib/direct');
const { FakeCryptoPay, post } = require('../fakes/cryptobot');

const TOKEN = `${Math.floor(Math.random() * 1e6)}:AA${crypto.randomBytes(16).toString('base64url')}`;
let fake;

const config = (extra = {}) => D.catalog({ cryptobot: { api_base: fake.url, tolerance: '5m', ...extra } });
const envVars = { CRYPTOBOT_TOKEN: TOKEN };

async function applied(env, update, opts) {
  const r = await post(env, fake, update, opts);
  assert.strictEqual(r.status, 200, r.text);
  return r.json;
}

async function invoice(env, user, product = 'credits_100') {
  D.addUser(env, user);
  return D.checkout(env, user, 'cryptobot', product);
}

async function refused(env, update, opts, status, code) {
  const before = D.counts(env);
  const r = await post(env, fake, update, opts);
  assert.strictEqual(r.status, status, r.text);
  assert.strictEqual(r.json.error.code, code, r.text);
  assert.deepStrictEqual(D.counts(env), before);
}

test('cb-checkout-creates-an-invoice-for-the-catalog-price', async (env) => {
  fake.reset();
  const co = await invoice(env, 'cb_ann');
  assert.strictEqual(co.currency, 'USDT');
  assert.strictEqual(co.amount, 499000000);
  assert.match(co.url, /^https:\/\/t\.me\/CryptoBot\?start=/);
  const sent = fake.lastCreate;
  assert.strictEqual(sent.currency_type, 'crypto');
  assert.strictEqual(sent.asset, 'USDT');
  assert.strictEqual(sent.amount, '4.99');
  assert.strictEqual(sent.payload, co.order_id);
  assert.ok(sent.expires_in > 3500 && sent.expires_in <= 3600, 'expires with the order');
  assert.strictEqual(fake.requests[0].token, TOKEN);
  const o = D.order(env, co.order_id);
  assert.strictEqual(o.state, 'pending');
  assert.strictEqual(o.provider_ref, co.provider_ref);
  assert.strictEqual(String(o.provider_ref), co.provider_ref);
});

test('cb-invoice-paid-grants-once', async (env) => {
  const co = await invoice(env, 'cb_bob');
  const u = fake.paid(co.provider_ref);
  const r = await applied(env, u);
  assert.strictEqual(r.state, 'applied', r.reason);
  assert.strictEqual(r.event_id, `invoice_paid:${co.provider_ref}`);
  assert.strictEqual(D.balance(env, 'cb_bob'), 100);
  assert.strictEqual(D.order(env, co.order_id).state, 'paid');
  assert.strictEqual(D.order(env, co.order_id).charge_id, co.provider_ref);
  // Sent again, even as another update_id: the invoice is the key.
  const before = D.counts(env);
  const again = await applied(env, { ...u, update_id: u.update_id + 1000 });
  assert.strictEqual(again.duplicate, true);
  assert.deepStrictEqual(D.counts(env), before);
});

test('cb-a-plan-in-ton', async (env) => {
  const co = await invoice(env, 'cb_plan', 'pro_month');
  assert.strictEqual(co.currency, 'TON');
  assert.strictEqual(fake.lastCreate.amount, '2.5');
  const r = await applied(env, fake.paid(co.provider_ref));
  assert.strictEqual(r.state, 'applied', r.reason);
  const doc = env.user('cb_plan');
  assert.strictEqual(doc.balance.available, 1000);
  assert.ok(doc.entitlements.some((e) => e.name === 'pro'));
});

test('cb-forged-signature-and-tampered-body-change-nothing', async (env) => {
  const co = await invoice(env, 'cb_forged');
  const u = fake.paid(co.provider_ref);
  await refused(env, u, { token: 'not-the-token' }, 401, 'bad_signature');
  await refused(env, u, { signature: null }, 401, 'bad_signature');
  // HMAC keyed with the token itself rather than its SHA-256: refused.
  const body = JSON.stringify(u);
  await refused(env, u, { signature: crypto.createHmac('sha256', TOKEN).update(body).digest('hex') }, 401, 'bad_signature');
  const sig = fake.sign(body);
  await refused(env, null, { body: body.replace('"amount":"4.99"', '"amount":"499"'), signature: sig }, 401, 'bad_signature');
  assert.strictEqual(D.balance(env, 'cb_forged'), 0);
  assert.ok(!env.log('cryptobot').includes(TOKEN), 'the token is not logged');
});

test('cb-stale-request-date-is-refused', async (env) => {
  const co = await invoice(env, 'cb_stale');
  await refused(env, fake.paid(co.provider_ref, { requestDate: Date.now() - 6 * 60e3 }), {}, 401, 'stale_request_date');
  await refused(env, fake.paid(co.provider_ref, { requestDate: Date.now() + 6 * 60e3 }), {}, 401, 'stale_request_date');
  const u = fake.paid(co.provider_ref);
  u.request_date = 'today';
  await refused(env, u, {}, 400, 'bad_request_date');
  assert.strictEqual(D.balance(env, 'cb_stale'), 0);
});

test('cb-another-amount-or-asset-is-refused-and-alerted', async (env) => {
  const co = await invoice(env, 'cb_cheap');
  const r = await applied(env, fake.paid(co.provider_ref, { amount: '0.99' }));
  assert.strictEqual(r.state, 'failed');
  assert.match(r.reason, /amount/);
  assert.strictEqual(D.alerts(env, r.inbox_id), 1);
  const co2 = await invoice(env, 'cb_cheap2');
  const t = await applied(env, fake.paid(co2.provider_ref, { asset: 'TON' }));
  assert.strictEqual(t.state, 'failed');
  // More decimals than the asset has: not read as a number near it, refused.
  const co3 = await invoice(env, 'cb_cheap3');
  const x = await applied(env, fake.paid(co3.provider_ref, { amount: '4.990000001' }));
  assert.strictEqual(x.state, 'failed');
  for (const u of ['cb_cheap', 'cb_cheap2', 'cb_cheap3']) assert.strictEqual(D.balance(env, u), 0);
});

test('cb-an-unpaid-invoice-grants-nothing', async (env) => {
  const co = await invoice(env, 'cb_active');
  const r = await applied(env, fake.paid(co.provider_ref, { status: 'active' }));
  assert.notStrictEqual(r.state, 'applied');
  assert.strictEqual(D.balance(env, 'cb_active'), 0);
  assert.strictEqual(D.order(env, co.order_id).state, 'pending');
});

test('cb-expired-and-unknown-orders-grant-nothing', async (env) => {
  const co = await invoice(env, 'cb_late');
  D.expire(env, co.order_id);
  const r = await applied(env, fake.paid(co.provider_ref));
  assert.strictEqual(r.state, 'failed');
  assert.match(r.reason, /expired/);
  assert.strictEqual(D.alerts(env, r.inbox_id), 1);
  const co2 = await invoice(env, 'cb_unknown');
  const before = D.counts(env);
  const u = await applied(env, fake.paid(co2.provider_ref, { invoicePayload: 'ord_000000000000000000000000' }));
  assert.strictEqual(u.state, 'failed');
  assert.strictEqual(D.counts(env).grants, before.grants);
  assert.strictEqual(D.balance(env, 'cb_late') + D.balance(env, 'cb_unknown'), 0);
});

test('cb-a-payment-naming-someone-elses-order-pays-only-that-order', async (env) => {
  // The invoice's payload is the order: whoever pays, the order's user gets it, once.
  const a = await invoice(env, 'cb_alice');
  const b = await invoice(env, 'cb_carl');
  const r = await applied(env, fake.paid(b.provider_ref, { invoicePayload: a.order_id }));
  assert.notStrictEqual(r.state, 'applied', 'invoice b cannot pay order a');
  assert.strictEqual(D.balance(env, 'cb_alice'), 0);
  assert.strictEqual(D.balance(env, 'cb_carl'), 0);
});

test('cb-two-invoices-racing-for-one-order-grant-once', async (env) => {
  const co = await invoice(env, 'cb_race');
  // A second invoice made for the same order (a retried createInvoice at the provider).
  const twin = fake.invoices.get(Number(co.provider_ref));
  const id2 = ++fake.nextId;
  fake.invoices.set(id2, { ...twin, invoice_id: id2, hash: 'IVtwin' });
  const [a, b] = await Promise.all([
    post(env, fake, fake.paid(co.provider_ref)),
    post(env, fake, fake.paid(id2)),
  ]);
  assert.deepStrictEqual([a.json.state, b.json.state].sort(), ['applied', 'failed'], `${a.text} ${b.text}`);
  assert.strictEqual(D.balance(env, 'cb_race'), 100);
});

test('cb-down-or-slow-during-checkout-cancels-and-a-retry-succeeds', async (env) => {
  D.addUser(env, 'cb_down');
  fake.reset();
  fake.failNext('createInvoice', 500);
  const r = await D.tally(env, ['checkout', 'cb_down', 'cryptobot', 'credits_100']);
  assert.strictEqual(r.code, 1);
  assert.match(r.stderr, /Crypto Pay answered 500/);
  fake.delayMs = 3500;
  const slow = await D.tally(env, ['checkout', 'cb_down', 'cryptobot', 'credits_100']);
  fake.delayMs = 0;
  assert.strictEqual(slow.code, 1);
  assert.deepStrictEqual(env.sql(`SELECT state FROM orders WHERE user_id = 'cb_down'`).map((x) => x.state), ['canceled', 'canceled']);
  assert.strictEqual(D.balance(env, 'cb_down'), 0);
  const ok = await D.checkout(env, 'cb_down', 'cryptobot', 'credits_100');
  const paid = await applied(env, fake.paid(ok.provider_ref));
  assert.strictEqual(paid.state, 'applied', paid.reason);
  assert.strictEqual(D.balance(env, 'cb_down'), 100);
  assert.ok(!r.stderr.includes(TOKEN) && !slow.stderr.includes(TOKEN));
});

test('cb-no-crypto-price-no-checkout', async (env) => {
  D.addUser(env, 'cb_none');
  const before = D.counts(env);
  const r = await D.tally(env, ['checkout', 'cb_none', 'cryptobot', 'free_only']);
  assert.strictEqual(r.code, 2);
  assert.match(r.stderr, /no price/);
  const u = await D.tally(env, ['checkout', 'cb_none', 'paypal', 'credits_100']);
  assert.strictEqual(u.code, 2);
  assert.deepStrictEqual(D.counts(env), before, 'nothing made');
});

test('cb-unconfigured-refuses', async () => {
  const bare = await Env.start({ handlers: ['cryptobot'], config: config(), env: {} });
  try {
    const r = await post(bare, fake, { update_id: 1 });
    assert.strictEqual(r.status, 503);
    assert.strictEqual(r.json.error.code, 'not_configured');
  } finally {
    await bare.stop();
  }
});

run({
  before: async () => {
    fake = await new FakeCryptoPay({ token: TOKEN }).start();
    return Env.start({ handlers: ['cryptobot'], config: config(), env: envVars });
  },
  after: async (env, failed) => {
    await env.stop(failed > 0 && process.env.KEEP);
    await fake.close();
  },
});
