'use strict';
// Razorpay end to end: `tally checkout` against a fake Razorpay (tests/fakes/razorpay.js) makes
// tally's order first and Razorpay's second; the fake "pays"; its webhooks, signed as Razorpay
// signs them and checked with the razorpay npm package's validateWebhookSignature, go through
// nginx to bin/tally-razorpay on a real SQLite file. And Checkout's callback (`tally razorpay
// verify`, what the API does with it). Every refusal is checked to grant nothing.
const crypto = require('crypto');
const { test, run, assert } = require('../lib/t');
const { Env } = require('../lib/harness');
const D = require('../lib/direct');
const { FakeRazorpay, post, rid, validateWebhookSignature } = require('../fakes/razorpay');

const KEY_ID = 'rzp_test_T4lly0000001';
const KEY_SECRET = `ks_${crypto.randomBytes(12).toString('hex')}`;
const OLD_SECRET = `whsec_old_${crypto.randomBytes(8).toString('hex')}`;
const SECRET = `whsec_${crypto.randomBytes(12).toString('hex')}`;
let fake;

function config(extra = {}) {
  return D.catalog({ razorpay: { key_id: KEY_ID, api_base: fake.url, test_mode: true, ...extra } });
}

const envVars = { RAZORPAY_WEBHOOK_SECRET: `${OLD_SECRET},${SECRET}`, RAZORPAY_KEY_SECRET: KEY_SECRET };

async function applied(env, evt, opts) {
  const r = await post(env, fake, evt, opts);
  assert.strictEqual(r.status, 200, r.text);
  return r.json;
}

// A user's checkout of product, paid at Razorpay (not yet told to tally).
async function bought(env, user, product = 'credits_100', opts = {}) {
  D.addUser(env, user);
  const co = await D.checkout(env, user, 'razorpay', product);
  const payment = fake.pay(co.provider_ref, opts);
  return { co, payment };
}

async function refusedWebhook(env, evt, opts, status, code) {
  const before = D.counts(env);
  const r = await post(env, fake, evt, opts);
  assert.strictEqual(r.status, status, r.text);
  assert.strictEqual(r.json.error.code, code, r.text);
  assert.deepStrictEqual(D.counts(env), before, 'the database changed');
  return r;
}

function verify(env, user, ref, paymentId, sig) {
  return D.tally(env, ['razorpay', 'verify', user, ref, paymentId, sig, '--json']);
}

test('rzp-checkout-makes-tallys-order-first-then-razorpays', async (env) => {
  D.addUser(env, 'rz_ann');
  fake.reset();
  const co = await D.checkout(env, 'rz_ann', 'razorpay', 'credits_100');
  assert.match(co.order_id, /^ord_[0-9a-f]{24}$/);
  assert.strictEqual(co.amount, 49900);
  assert.strictEqual(co.currency, 'INR');
  assert.strictEqual(co.key_id, KEY_ID);
  assert.match(co.provider_ref, /^order_/);
  const rq = fake.requests.find((q) => q.method === 'POST' && q.url === '/v1/orders');
  const sent = JSON.parse(rq.body);
  assert.deepStrictEqual(sent, { amount: 49900, currency: 'INR', receipt: co.order_id, notes: { tally_order: co.order_id, user_id: 'rz_ann' } });
  assert.strictEqual(rq.authorization, `Basic ${Buffer.from(`${KEY_ID}:${KEY_SECRET}`).toString('base64')}`);
  const o = D.order(env, co.order_id);
  assert.strictEqual(o.state, 'pending');
  assert.strictEqual(o.provider, 'razorpay');
  assert.strictEqual(o.provider_ref, co.provider_ref);
  assert.strictEqual(o.amount, 49900);
  assert.strictEqual(o.user_id, 'rz_ann');
  const show = await D.tally(env, ['orders', 'show', co.order_id, '--json']);
  assert.strictEqual(show.code, 0, show.stderr);
  assert.strictEqual(JSON.parse(show.stdout).state, 'pending');
  assert.strictEqual(D.balance(env, 'rz_ann'), 0, 'nothing granted before money');
});

test('rzp-payment-captured-grants-the-pack-once-whatever-else-arrives', async (env) => {
  const { co, payment } = await bought(env, 'rz_bob');
  const first = await applied(env, fake.paymentCaptured(payment));
  assert.strictEqual(first.state, 'applied', first.reason);
  assert.strictEqual(D.balance(env, 'rz_bob'), 100);
  const o = D.order(env, co.order_id);
  assert.strictEqual(o.state, 'paid');
  assert.strictEqual(o.charge_id, payment.id);
  // The same notification twice (Razorpay retries with the same X-Razorpay-Event-Id).
  const before = D.counts(env);
  const again = await post(env, fake, fake.paymentCaptured(payment), { id: first.event_id });
  assert.strictEqual(again.status, 200);
  assert.strictEqual(again.json.duplicate, true);
  assert.deepStrictEqual(D.counts(env), before);
  // order.paid about the same payment: a second event, the same money.
  const op = await applied(env, fake.orderPaid(co.provider_ref, payment));
  assert.strictEqual(op.duplicate, false);
  assert.strictEqual(D.balance(env, 'rz_bob'), 100, 'one payment grants once');
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = 'rz_bob'`)[0].n, 1);
  assert.ok(env.verify().ok);
});

test('rzp-a-plan-bought-through-an-order-runs-its-period', async (env) => {
  const { co, payment } = await bought(env, 'rz_plan', 'pro_month');
  assert.strictEqual(co.amount, 99900);
  const r = await applied(env, fake.orderPaid(co.provider_ref, payment));
  assert.strictEqual(r.state, 'applied', r.reason);
  const doc = env.user('rz_plan');
  assert.strictEqual(doc.balance.available, 1000);
  assert.ok(doc.entitlements.some((e) => e.name === 'pro'));
  const end = Date.parse(doc.subscriptions[0].period_end);
  assert.ok(Math.abs(end - (Date.now() + 30 * D.DAY)) < 120e3, doc.subscriptions[0].period_end);
});

test('rzp-forged-signature-changes-nothing', async (env) => {
  const { payment } = await bought(env, 'rz_forged');
  const evt = fake.paymentCaptured(payment);
  const body = JSON.stringify(evt);
  const forged = crypto.createHmac('sha256', 'whsec_guess').update(body).digest('hex');
  assert.strictEqual(validateWebhookSignature(body, forged, SECRET), false, 'the SDK refuses it too');
  await refusedWebhook(env, evt, { signature: forged }, 401, 'bad_signature');
  await refusedWebhook(env, evt, { signature: null }, 401, 'bad_signature');
  await refusedWebhook(env, evt, { signature: forged.toUpperCase().slice(0, 63) }, 401, 'bad_signature');
  // Signed with the key secret instead of the webhook secret.
  await refusedWebhook(env, evt, { secret: KEY_SECRET }, 401, 'bad_signature');
  assert.strictEqual(D.balance(env, 'rz_forged'), 0);
  const log = env.log('razorpay');
  assert.ok(!log.includes(SECRET) && !log.includes(forged), 'no secret or signature in the log');
});

test('rzp-tampered-amount-after-signing-is-refused', async (env) => {
  const { payment } = await bought(env, 'rz_tamper');
  const body = JSON.stringify(fake.paymentCaptured({ ...payment, amount: 100 }));
  const sig = fake.sign(body);
  const tampered = body.replace('"amount":100,', '"amount":49900,');
  assert.notStrictEqual(tampered, body);
  assert.strictEqual(validateWebhookSignature(tampered, sig, SECRET), false);
  await refusedWebhook(env, null, { body: tampered, signature: sig }, 401, 'bad_signature');
  assert.strictEqual(D.balance(env, 'rz_tamper'), 0);
});

test('rzp-a-payment-of-another-amount-is-kept-failed-and-alerted', async (env) => {
  const { co } = await bought(env, 'rz_short', 'credits_100');
  const cheap = fake.pay(co.provider_ref, { amount: 100 });
  const r = await applied(env, fake.paymentCaptured(cheap));
  assert.strictEqual(r.state, 'failed');
  assert.match(r.reason, /amount/);
  assert.strictEqual(D.alerts(env, r.inbox_id), 1);
  assert.strictEqual(D.balance(env, 'rz_short'), 0);
  assert.strictEqual(D.order(env, co.order_id).state, 'pending');
});

test('rzp-another-currency-is-refused', async (env) => {
  const { co } = await bought(env, 'rz_usd');
  const usd = fake.pay(co.provider_ref, { amount: 49900, currency: 'USD' });
  const r = await applied(env, fake.paymentCaptured(usd));
  assert.strictEqual(r.state, 'failed');
  assert.strictEqual(D.balance(env, 'rz_usd'), 0);
});

test('rzp-an-uncaptured-payment-grants-nothing', async (env) => {
  const { co } = await bought(env, 'rz_auth');
  const p = fake.pay(co.provider_ref, { status: 'authorized' });
  const a = await applied(env, fake.event('payment.authorized', { payment: { entity: p } }, ['payment']));
  assert.strictEqual(a.state, 'ignored');
  const r = await applied(env, fake.orderPaid(co.provider_ref, p));
  assert.notStrictEqual(r.state, 'applied', r.reason);
  assert.strictEqual(D.balance(env, 'rz_auth'), 0);
  assert.strictEqual(D.order(env, co.order_id).state, 'pending');
  const f = await applied(env, fake.event('payment.failed', { payment: { entity: { ...p, status: 'failed' } } }, ['payment']));
  assert.strictEqual(f.state, 'ignored');
});

test('rzp-an-expired-order-is-refused-and-alerted', async (env) => {
  const { co, payment } = await bought(env, 'rz_late');
  D.expire(env, co.order_id);
  const r = await applied(env, fake.paymentCaptured(payment));
  assert.strictEqual(r.state, 'failed');
  assert.match(r.reason, /expired/);
  assert.strictEqual(D.alerts(env, r.inbox_id), 1);
  assert.strictEqual(D.balance(env, 'rz_late'), 0);
});

test('rzp-an-order-tally-never-issued-grants-nothing', async (env) => {
  const before = D.counts(env);
  const stranger = fake.pay(null, { amount: 49900 });
  stranger.order_id = rid('order_');
  const r = await applied(env, fake.paymentCaptured(stranger));
  assert.ok(r.state === 'failed' || r.state === 'orphaned', r.state);
  assert.strictEqual(D.alerts(env, r.inbox_id), 1);
  const after = D.counts(env);
  assert.strictEqual(after.grants, before.grants);
  assert.strictEqual(after.payments, before.payments);
  // A payment with no order at all (a payment link, the dashboard): not tally's, ignored.
  const loose = fake.pay(null, { amount: 100 });
  const l = await applied(env, fake.paymentCaptured(loose));
  assert.strictEqual(l.state, 'ignored');
});

test('rzp-two-payments-racing-for-one-order-grant-once', async (env) => {
  const { co, payment } = await bought(env, 'rz_race');
  const second = fake.pay(co.provider_ref);
  const [a, b] = await Promise.all([
    post(env, fake, fake.paymentCaptured(payment)),
    post(env, fake, fake.paymentCaptured(second)),
  ]);
  const states = [a.json.state, b.json.state].sort();
  assert.deepStrictEqual(states, ['applied', 'failed'], `${a.text} ${b.text}`);
  const loser = a.json.state === 'failed' ? a.json : b.json;
  assert.match(loser.reason, /already paid/);
  assert.strictEqual(D.alerts(env, loser.inbox_id), 1);
  assert.strictEqual(D.balance(env, 'rz_race'), 100);
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = 'rz_race'`)[0].n, 1);
});

test('rzp-refund-processed-claws-back-full-not-partial', async (env) => {
  const { co, payment } = await bought(env, 'rz_refund');
  await applied(env, fake.paymentCaptured(payment));
  assert.strictEqual(D.balance(env, 'rz_refund'), 100);
  const part = await applied(env, fake.refundProcessed(fake.refund(payment.id, 10000)));
  assert.strictEqual(part.state, 'applied', part.reason);
  assert.strictEqual(D.balance(env, 'rz_refund'), 100, 'a partial refund revokes nothing');
  const full = await applied(env, fake.refundProcessed(fake.refund(payment.id, 39900)));
  assert.strictEqual(full.state, 'applied', full.reason);
  assert.strictEqual(D.balance(env, 'rz_refund'), 0);
  assert.strictEqual(D.order(env, co.order_id).state, 'refunded');
  assert.ok(env.verify().ok);
});

test('rzp-down-during-checkout-cancels-the-order-and-a-retry-succeeds', async (env) => {
  D.addUser(env, 'rz_down');
  fake.reset();
  fake.failNext(/^POST \/v1\/orders$/, 503);
  const r = await D.tally(env, ['checkout', 'rz_down', 'razorpay', 'credits_100']);
  assert.strictEqual(r.code, 1);
  assert.match(r.stderr, /Razorpay answered 503/);
  const rows = env.sql(`SELECT state FROM orders WHERE user_id = 'rz_down'`);
  assert.deepStrictEqual(rows.map((x) => x.state), ['canceled'], 'nothing half-made');
  const ok = await D.checkout(env, 'rz_down', 'razorpay', 'credits_100');
  assert.strictEqual(D.order(env, ok.order_id).state, 'pending');
});

test('rzp-slow-during-checkout-times-out-cleanly', async (env) => {
  D.addUser(env, 'rz_slow');
  fake.reset();
  fake.delayMs = 3500;
  const t0 = Date.now();
  const r = await D.tally(env, ['checkout', 'rz_slow', 'razorpay', 'credits_100']);
  fake.delayMs = 0;
  assert.strictEqual(r.code, 1);
  assert.ok(Date.now() - t0 < 3400, 'bounded by http.timeout');
  assert.match(r.stderr, /razorpay: .*(timed out|Timeout)/i);
  assert.deepStrictEqual(env.sql(`SELECT state FROM orders WHERE user_id = 'rz_slow'`).map((x) => x.state), ['canceled']);
  assert.strictEqual(D.balance(env, 'rz_slow'), 0);
  const ok = await D.checkout(env, 'rz_slow', 'razorpay', 'credits_100');
  assert.ok(ok.provider_ref);
});

test('rzp-verify-callback-applies-and-the-webhook-after-it-changes-nothing', async (env) => {
  const { co, payment } = await bought(env, 'rz_cb');
  const sig = fake.checkoutSignature({ orderId: co.provider_ref, paymentId: payment.id });
  const r = await verify(env, 'rz_cb', co.provider_ref, payment.id, sig);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  const doc = JSON.parse(r.stdout);
  assert.strictEqual(doc.event_id, `checkout:${payment.id}`);
  assert.strictEqual(doc.state, 'applied');
  assert.strictEqual(D.balance(env, 'rz_cb'), 100);
  // The same callback again, then the webhooks of the same payment: nothing more.
  const again = await verify(env, 'rz_cb', co.provider_ref, payment.id, sig);
  assert.strictEqual(JSON.parse(again.stdout).duplicate, true);
  await applied(env, fake.paymentCaptured(payment));
  await applied(env, fake.orderPaid(co.provider_ref, payment));
  assert.strictEqual(D.balance(env, 'rz_cb'), 100);
});

test('rzp-verify-refusals-have-their-own-status', async (env) => {
  const { co, payment } = await bought(env, 'rz_v1');
  D.addUser(env, 'rz_v2');
  const good = fake.checkoutSignature({ orderId: co.provider_ref, paymentId: payment.id });
  const before = D.counts(env);
  const expect = async (args, status, code) => {
    const r = await verify(env, ...args);
    assert.strictEqual(r.code, 1, r.stdout);
    const doc = JSON.parse(r.stdout);
    assert.strictEqual(doc.status, status, r.stdout);
    assert.strictEqual(doc.code, code, r.stdout);
  };
  // 401: a forged signature, one made with the webhook secret, or over other ids.
  await expect(['rz_v1', co.provider_ref, payment.id, 'a'.repeat(64)], 401, 'bad_signature');
  await expect(['rz_v1', co.provider_ref, payment.id, fake.checkoutSignature({ orderId: co.provider_ref, paymentId: payment.id }, SECRET)], 401, 'bad_signature');
  // 403: someone else's order, with a valid signature.
  await expect(['rz_v2', co.provider_ref, payment.id, good], 403, 'not_your_order');
  // 400: not ids at all.
  await expect(['rz_v1', 'nonsense', payment.id, good], 400, 'malformed');
  // 404: an order tally never issued.
  const other = fake.pay(null, { amount: 100 });
  const stray = rid('order_');
  await expect(['rz_v1', stray, other.id, fake.checkoutSignature({ orderId: stray, paymentId: other.id })], 404, 'unknown_order');
  assert.deepStrictEqual(D.counts(env), before);
  assert.strictEqual(D.balance(env, 'rz_v1'), 0);
});

test('rzp-verify-not-captured-and-paid-by-another', async (env) => {
  const { co } = await bought(env, 'rz_v3', 'credits_100', { status: 'authorized' });
  const auth = [...fake.payments.values()].pop();
  const r = await verify(env, 'rz_v3', co.provider_ref, auth.id, fake.checkoutSignature({ orderId: co.provider_ref, paymentId: auth.id }));
  assert.strictEqual(JSON.parse(r.stdout).status, 402);
  assert.strictEqual(JSON.parse(r.stdout).code, 'not_captured');
  const p1 = fake.pay(co.provider_ref);
  const ok = await verify(env, 'rz_v3', co.provider_ref, p1.id, fake.checkoutSignature({ orderId: co.provider_ref, paymentId: p1.id }));
  assert.strictEqual(ok.code, 0, ok.stdout);
  const p2 = fake.pay(co.provider_ref);
  const dup = await verify(env, 'rz_v3', co.provider_ref, p2.id, fake.checkoutSignature({ orderId: co.provider_ref, paymentId: p2.id }));
  assert.strictEqual(JSON.parse(dup.stdout).status, 409);
  assert.strictEqual(JSON.parse(dup.stdout).code, 'already_paid');
  assert.strictEqual(D.balance(env, 'rz_v3'), 100);
});

test('rzp-verify-while-razorpay-is-down-grants-nothing-and-a-retry-succeeds', async (env) => {
  const { co, payment } = await bought(env, 'rz_v4');
  const sig = fake.checkoutSignature({ orderId: co.provider_ref, paymentId: payment.id });
  fake.reset();
  fake.failNext(/^GET \/v1\/payments\//, 502);
  const r = await verify(env, 'rz_v4', co.provider_ref, payment.id, sig);
  assert.strictEqual(JSON.parse(r.stdout).status, 503);
  assert.strictEqual(JSON.parse(r.stdout).code, 'provider_unavailable');
  assert.strictEqual(D.balance(env, 'rz_v4'), 0);
  fake.delayMs = 3500;
  const slow = await verify(env, 'rz_v4', co.provider_ref, payment.id, sig);
  fake.delayMs = 0;
  assert.strictEqual(JSON.parse(slow.stdout).status, 503);
  assert.strictEqual(D.balance(env, 'rz_v4'), 0);
  const ok = await verify(env, 'rz_v4', co.provider_ref, payment.id, sig);
  assert.strictEqual(ok.code, 0, ok.stdout);
  assert.strictEqual(D.balance(env, 'rz_v4'), 100);
});

test('rzp-subscription-checkout-charges-and-renewals', async (env) => {
  D.addUser(env, 'rz_sub');
  fake.reset();
  const co = await D.checkout(env, 'rz_sub', 'razorpay', 'pro_plan');
  assert.strictEqual(co.subscription, true);
  assert.match(co.provider_ref, /^sub_/);
  assert.match(co.url, /^https:\/\/rzp\.io\//);
  const sent = JSON.parse(fake.requests.find((q) => q.url === '/v1/subscriptions').body);
  assert.strictEqual(sent.plan_id, 'plan_pro_monthly');
  assert.strictEqual(sent.notes.user_id, 'rz_sub');
  assert.strictEqual(sent.notes.tally_order, co.order_id);
  const p1 = fake.charge(co.provider_ref);
  await applied(env, fake.subscriptionEvent('subscription.activated', co.provider_ref));
  const c1 = await applied(env, fake.subscriptionEvent('subscription.charged', co.provider_ref, p1));
  assert.strictEqual(c1.state, 'applied', c1.reason);
  let doc = env.user('rz_sub');
  const sub = doc.subscriptions.find((s) => s.provider === 'razorpay');
  assert.strictEqual(sub.state, 'active');
  assert.strictEqual(sub.product, 'pro_plan');
  assert.strictEqual(doc.balance.available, 1000);
  assert.ok(doc.entitlements.some((e) => e.name === 'pro'));
  // The same charge again: nothing more.
  await applied(env, fake.subscriptionEvent('subscription.charged', co.provider_ref, p1));
  assert.strictEqual(D.balance(env, 'rz_sub'), 1000);
  assert.strictEqual(env.tally(['credits', 'revoke', 'rz_sub', '400', '--reason', 'use', '--operator', 't']).code, 0);
  // A renewal resets the credits and moves the period.
  const s = fake.subscriptions.get(co.provider_ref);
  const p2 = fake.charge(co.provider_ref, { start: s.current_end, end: s.current_end + 30 * 86400 });
  const c2 = await applied(env, fake.subscriptionEvent('subscription.charged', co.provider_ref, p2));
  assert.strictEqual(c2.state, 'applied', c2.reason);
  doc = env.user('rz_sub');
  assert.strictEqual(doc.balance.available, 1000);
  assert.strictEqual(Date.parse(doc.subscriptions[0].period_end), (s.current_end) * 1000);
  // Retries exhausted: halted, no access.
  s.status = 'halted';
  await applied(env, fake.subscriptionEvent('subscription.halted', co.provider_ref));
  doc = env.user('rz_sub');
  assert.strictEqual(doc.subscriptions[0].state, 'past_due');
  assert.strictEqual(doc.subscriptions[0].access, false);
});

test('rzp-verify-subscription-callback-activates-and-the-charge-webhook-adds-nothing', async (env) => {
  D.addUser(env, 'rz_subcb');
  D.addUser(env, 'rz_subcb2');
  const co = await D.checkout(env, 'rz_subcb', 'razorpay', 'pro_plan');
  const p1 = fake.charge(co.provider_ref);
  const sig = fake.checkoutSignature({ subscriptionId: co.provider_ref, paymentId: p1.id });
  // Subscriptions sign payment_id|subscription_id: the order order is refused.
  const wrong = crypto.createHmac('sha256', KEY_SECRET).update(`${co.provider_ref}|${p1.id}`).digest('hex');
  const bad = await verify(env, 'rz_subcb', co.provider_ref, p1.id, wrong);
  assert.strictEqual(JSON.parse(bad.stdout).status, 401);
  const other = await verify(env, 'rz_subcb2', co.provider_ref, p1.id, sig);
  assert.strictEqual(JSON.parse(other.stdout).status, 403);
  const r = await verify(env, 'rz_subcb', co.provider_ref, p1.id, sig);
  assert.strictEqual(r.code, 0, r.stdout + r.stderr);
  let doc = env.user('rz_subcb');
  assert.strictEqual(doc.subscriptions[0].state, 'active');
  assert.strictEqual(doc.balance.available, 1000);
  const c1 = await applied(env, fake.subscriptionEvent('subscription.charged', co.provider_ref, p1));
  assert.strictEqual(c1.state, 'applied', c1.reason);
  doc = env.user('rz_subcb');
  assert.strictEqual(doc.balance.available, 1000, 'one charge, one grant');
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = 'rz_subcb'`)[0].n, 1);
});

test('rzp-webhook-without-event-id-is-malformed', async (env) => {
  const { payment } = await bought(env, 'rz_noid');
  await refusedWebhook(env, fake.paymentCaptured(payment), { id: null }, 400, 'missing_event_id');
  await refusedWebhook(env, null, { body: '{"entity":"event","event":' }, 400, 'malformed_event');
  await refusedWebhook(env, { entity: 'event', event: 'payment.captured', payload: { payment: { entity: { id: 'pay_x', amount: '1' } } }, created_at: 1 }, {}, 400, 'malformed_event');
});

test('rzp-old-secret-still-accepted-during-rotation', async (env) => {
  const { payment } = await bought(env, 'rz_rot');
  const r = await applied(env, fake.paymentCaptured(payment), { secret: OLD_SECRET });
  assert.strictEqual(r.state, 'applied', r.reason);
});

test('rzp-unconfigured-refuses-and-test-events-need-test-mode', async () => {
  const bare = await Env.start({ handlers: ['razorpay'], config: config(), env: { RAZORPAY_WEBHOOK_SECRET: '' } });
  try {
    const r = await post(bare, fake, fake.event('payment.failed', {}, []));
    assert.strictEqual(r.status, 503);
    assert.strictEqual(r.json.error.code, 'not_configured');
  } finally {
    await bare.stop();
  }
  const live = await Env.start({ handlers: ['razorpay'], config: config({ test_mode: false }), env: envVars });
  try {
    D.addUser(live, 'rz_tm');
    const co = await D.checkout(live, 'rz_tm', 'razorpay', 'credits_100');
    const p = fake.pay(co.provider_ref);
    const r = await post(live, fake, fake.paymentCaptured(p));
    assert.strictEqual(r.json.state, 'ignored');
    assert.match(r.json.reason, /test-mode/);
    assert.strictEqual(D.balance(live, 'rz_tm'), 0);
  } finally {
    await live.stop();
  }
});

run({
  before: async () => {
    fake = await new FakeRazorpay({ keyId: KEY_ID, keySecret: KEY_SECRET, webhookSecret: SECRET }).start();
    return Env.start({ handlers: ['razorpay'], config: config(), env: envVars });
  },
  after: async (env, failed) => {
    await env.stop(failed > 0 && process.env.KEEP);
    await fake.close();
  },
});
