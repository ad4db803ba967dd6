'use strict';
// bin/tally-reconcile over the direct providers, against fakes in this process (Razorpay:
// tests/fakes/razorpay.js, CryptoBot: tests/fakes/cryptobot.js) with their real webhook handlers
// behind nginx: a payment the webhook missed is applied once through the webhook's path (same
// keys: a second run, or the webhook arriving after, grants nothing), an amount that is not the
// order's is refused and reported, a subscription's state drift applied (the same state twice is
// one event), an expired invoice reported, --dry-run, and a provider down (its error, exit 1,
// nothing of it changed, the other still reconciled).
const crypto = require('crypto');
const { test, assert } = require('../lib/t');
const { Env } = require('../lib/harness');
const D = require('../lib/direct');
const J = require('../lib/jobs');
const { FakeRazorpay, post: rzpPost } = require('../fakes/razorpay');
const { FakeCryptoPay, post: cbPost } = require('../fakes/cryptobot');

const KEY_ID = 'rzp_test_T4lly0000002';
const KEY_SECRET = `ks_${crypto.randomBytes(12).toString('hex')}`;
const WH_SECRET = `whsec_${crypto.randomBytes(12).toString('hex')}`;
const CB_TOKEN = `${Math.floor(Math.random() * 1e6)}:AA${crypto.randomBytes(16).toString('base64url')}`;
const { DAY } = J;
let rzp;
let cb;

const reconcile = (env, args = []) => J.jobAsync(env, 'reconcile', ['--json', ...args]);
const items = (r, action, provider) => r.json.items.filter((i) => i.action === action && (!provider || i.provider === provider));
const about = (r, order) => r.json.items.filter((i) => (i.subject || '').includes(order));

async function cbOrder(env, user, product = 'credits_100') {
  D.addUser(env, user);
  return D.checkout(env, user, 'cryptobot', product);
}

async function rzpOrder(env, user, product = 'credits_100') {
  D.addUser(env, user);
  return D.checkout(env, user, 'razorpay', product);
}

// The invoice paid at Crypto Pay; its webhook lost.
function cbPaid(co, opts) {
  return cb.paid(co.provider_ref, opts);
}

test('cryptobot: an invoice paid that the webhook missed is applied once; a second run and the late webhook grant nothing', async (env) => {
  const co = await cbOrder(env, 'rd_cb1');
  const u = cbPaid(co);
  const r = await reconcile(env, ['--provider', 'cryptobot']);
  assert.strictEqual(r.code, 0, r.stdout + r.stderr);
  const d = about(r, co.order_id);
  assert.ok(d.some((i) => i.action === 'drift' && i.result === 'found' && /^paid 4\.99/.test(i.theirs) && /^pending/.test(i.tally)), JSON.stringify(d));
  const a = d.find((i) => i.action === 'cryptobot invoice');
  assert.strictEqual(a.result, 'applied', JSON.stringify(a));
  assert.strictEqual(a.event_id, `invoice_paid:${co.provider_ref}`);
  assert.strictEqual(D.balance(env, 'rd_cb1'), 100);
  assert.strictEqual(D.order(env, co.order_id).state, 'paid');
  assert.strictEqual(items(r, 'provider', 'cryptobot')[0].result, 'ok');
  // Paid now: not pending, not looked at again.
  const before = D.counts(env);
  const again = await reconcile(env, ['--provider', 'cryptobot']);
  assert.strictEqual(again.code, 0, again.stdout);
  assert.deepStrictEqual(about(again, co.order_id), []);
  // The webhook arrives late: the same event, a duplicate.
  const w = await cbPost(env, cb, u);
  assert.strictEqual(w.status, 200, w.text);
  assert.strictEqual(w.json.duplicate, true, w.text);
  assert.deepStrictEqual(D.counts(env), before);
  assert.strictEqual(D.balance(env, 'rd_cb1'), 100);
});

test('cryptobot: a paid invoice of another amount is refused and reported, nothing granted; a rerun is a duplicate', async (env) => {
  const co = await cbOrder(env, 'rd_cb2');
  cbPaid(co);
  cb.invoices.get(Number(co.provider_ref)).amount = '0.99';
  const r = await reconcile(env, ['--provider', 'cryptobot']);
  const a = about(r, co.order_id).find((i) => i.action === 'cryptobot invoice');
  assert.strictEqual(a.result, 'failed', JSON.stringify(a));
  assert.match(a.reason, /amount mismatch/);
  assert.ok(about(r, co.order_id).some((i) => i.action === 'drift' && /^paid 0\.99/.test(i.theirs)));
  assert.strictEqual(D.balance(env, 'rd_cb2'), 0);
  assert.strictEqual(D.order(env, co.order_id).state, 'pending');
  const before = D.counts(env);
  const again = await reconcile(env, ['--provider', 'cryptobot']);
  assert.strictEqual(about(again, co.order_id).find((i) => i.action === 'cryptobot invoice').result, 'duplicate');
  assert.deepStrictEqual(D.counts(env), before);
});

test('cryptobot: an invoice expired there is reported; the order is left to the grace-expiry job', async (env) => {
  const co = await cbOrder(env, 'rd_cb3');
  cb.invoices.get(Number(co.provider_ref)).status = 'expired';
  const before = D.counts(env);
  const r = await reconcile(env, ['--provider', 'cryptobot']);
  assert.strictEqual(r.code, 0, r.stdout);
  const d = about(r, co.order_id);
  assert.strictEqual(d.length, 1, JSON.stringify(d));
  assert.strictEqual(d[0].theirs, 'expired');
  assert.strictEqual(d[0].result, 'reported');
  assert.match(d[0].reason, /grace-expiry/);
  assert.deepStrictEqual(D.counts(env), before);
  assert.strictEqual(D.order(env, co.order_id).state, 'pending');
  cb.invoices.get(Number(co.provider_ref)).status = 'active';
});

test('razorpay: a captured payment the webhook missed is applied once; the late webhook and a rerun grant nothing', async (env) => {
  const co = await rzpOrder(env, 'rd_rz1');
  const p = rzp.pay(co.provider_ref);
  const r = await reconcile(env, ['--provider', 'razorpay']);
  assert.strictEqual(r.code, 0, r.stdout + r.stderr);
  const d = about(r, co.order_id);
  assert.ok(d.some((i) => i.action === 'drift' && i.result === 'found' && i.theirs.includes(p.id)), JSON.stringify(d));
  const a = d.find((i) => i.action === 'razorpay payment');
  assert.strictEqual(a.result, 'applied', JSON.stringify(a));
  assert.strictEqual(a.event_id, `checkout:${p.id}`);
  assert.strictEqual(D.balance(env, 'rd_rz1'), 100);
  assert.strictEqual(D.order(env, co.order_id).state, 'paid');
  assert.strictEqual(D.order(env, co.order_id).charge_id, p.id);
  const pays = env.sql("SELECT count(*) AS n FROM payments WHERE user_id = 'rd_rz1'")[0].n;
  assert.strictEqual(pays, 1);
  // The webhooks Razorpay sends late: stored, nothing granted again (the payment id is the key).
  for (const evt of [rzp.paymentCaptured(p), rzp.orderPaid(co.provider_ref, p)]) {
    const w = await rzpPost(env, rzp, evt);
    assert.strictEqual(w.status, 200, w.text);
  }
  assert.strictEqual(D.balance(env, 'rd_rz1'), 100);
  assert.strictEqual(env.sql("SELECT count(*) AS n FROM payments WHERE user_id = 'rd_rz1'")[0].n, 1);
  assert.strictEqual(env.sql("SELECT count(*) AS n FROM grants WHERE user_id = 'rd_rz1'")[0].n, 1);
  const before = D.counts(env);
  const again = await reconcile(env, ['--provider', 'razorpay']);
  assert.deepStrictEqual(about(again, co.order_id), []);
  assert.deepStrictEqual(D.counts(env), before);
});

test('razorpay: a payment of another amount or currency is refused and reported, not granted', async (env) => {
  const co = await rzpOrder(env, 'rd_rz2');
  rzp.pay(co.provider_ref, { amount: 100 });
  const co2 = await rzpOrder(env, 'rd_rz3');
  rzp.pay(co2.provider_ref, { currency: 'USD' });
  const r = await reconcile(env, ['--provider', 'razorpay']);
  for (const c of [co, co2]) {
    const a = about(r, c.order_id).find((i) => i.action === 'razorpay payment');
    assert.strictEqual(a.result, 'failed', JSON.stringify(a));
    assert.match(a.reason, /amount mismatch/);
    assert.strictEqual(D.order(env, c.order_id).state, 'pending');
  }
  assert.strictEqual(D.balance(env, 'rd_rz2'), 0);
  assert.strictEqual(D.balance(env, 'rd_rz3'), 0);
});

test('razorpay: a stale subscription whose status changed there is applied and reported; the same state twice is one event', async (env) => {
  const now = Date.now();
  J.seedSubs(env, 1, { prefix: 'rd_rzs', provider: 'razorpay', product: 'pro_plan', start: now - 33 * DAY, end: now - 3 * DAY });
  const cs = Math.floor((now - 33 * DAY) / 1000);
  const ce = Math.floor((now - 3 * DAY) / 1000);
  rzp.subscriptions.set('sub_rd_rzs0', {
    id: 'sub_rd_rzs0', entity: 'subscription', plan_id: 'plan_pro_monthly', customer_id: null, status: 'cancelled',
    current_start: cs, current_end: ce, ended_at: ce, quantity: 1, notes: { user_id: 'rd_rzs0' }, charge_at: null,
    start_at: cs, end_at: ce, auth_attempts: 0, total_count: 12, paid_count: 1, customer_notify: true, created_at: cs,
    expire_by: null, short_url: 'https://rzp.io/i/abc', has_scheduled_changes: false, change_scheduled_at: null, source: 'api', remaining_count: 11,
  });
  const r = await reconcile(env, ['--provider', 'razorpay']);
  assert.strictEqual(r.code, 0, r.stdout + r.stderr);
  const d = about(r, 'sub_rd_rzs0');
  const drift = d.find((i) => i.action === 'drift');
  assert.ok(drift && /^active/.test(drift.tally) && /^expired/.test(drift.theirs), JSON.stringify(d));
  const a = d.find((i) => i.action === 'razorpay subscription');
  assert.strictEqual(a.result, 'applied', JSON.stringify(a));
  assert.match(a.event_id, /^reconcile:sub_rd_rzs0:[0-9a-f]{32}$/);
  assert.strictEqual(env.sql("SELECT state FROM subscriptions WHERE ext_id = 'sub_rd_rzs0'")[0].state, 'expired');
  // Back to active in tally (as if an old event won): the same state at Razorpay is the same event.
  env.sql("UPDATE subscriptions SET state = 'active', state_rank = 3 WHERE ext_id = 'sub_rd_rzs0'");
  const again = await reconcile(env, ['--provider', 'razorpay']);
  const b = about(again, 'sub_rd_rzs0').find((i) => i.action === 'razorpay subscription');
  assert.strictEqual(b.result, 'duplicate', JSON.stringify(b));
  assert.strictEqual(b.event_id, a.event_id);
  env.sql("UPDATE subscriptions SET state = 'expired', state_rank = 7 WHERE ext_id = 'sub_rd_rzs0'");
});

test('--dry-run changes nothing and says what it would apply', async (env) => {
  const co = await cbOrder(env, 'rd_dry1');
  cbPaid(co);
  const co2 = await rzpOrder(env, 'rd_dry2');
  rzp.pay(co2.provider_ref);
  const before = D.counts(env);
  const r = await reconcile(env, ['--dry-run']);
  assert.strictEqual(r.code, 0, r.stdout + r.stderr);
  assert.strictEqual(about(r, co.order_id).find((i) => i.action === 'cryptobot invoice').result, 'would apply');
  assert.strictEqual(about(r, co2.order_id).find((i) => i.action === 'razorpay payment').result, 'would apply');
  assert.deepStrictEqual(D.counts(env), before);
  // --limit 1: one order checked in all.
  const one = await reconcile(env, ['--dry-run', '--limit', '1', '--provider', 'cryptobot']);
  assert.ok(items(one, 'drift').length <= 1, JSON.stringify(one.json.items));
  // Then applied for real, so that later tests start clean.
  const real = await reconcile(env);
  assert.strictEqual(real.code, 0, real.stdout);
  assert.strictEqual(D.balance(env, 'rd_dry1'), 100);
  assert.strictEqual(D.balance(env, 'rd_dry2'), 100);
});

test('razorpay down or answering garbage: its error, exit 1, nothing of it changed; cryptobot still reconciled', async (env) => {
  const co = await rzpOrder(env, 'rd_down1');
  rzp.pay(co.provider_ref);
  const cbo = await cbOrder(env, 'rd_down2');
  cbPaid(cbo);
  rzp.failNext(/^GET \/v1\/orders\/.*\/payments$/, 503, 1);
  const r = await reconcile(env);
  assert.strictEqual(r.code, 1, r.stdout);
  const p = items(r, 'provider', 'razorpay')[0];
  assert.strictEqual(p.result, 'error');
  assert.match(p.reason, /Razorpay/);
  assert.strictEqual(D.balance(env, 'rd_down1'), 0);
  assert.strictEqual(D.order(env, co.order_id).state, 'pending');
  assert.strictEqual(items(r, 'provider', 'cryptobot')[0].result, 'ok');
  assert.strictEqual(D.balance(env, 'rd_down2'), 100);
  // Garbage: an answer that is not a collection.
  const orig = rzp.route.bind(rzp);
  rzp.route = (req, res, body) => (/\/payments$/.test(req.url) ? rzp.send(res, 200, { entity: 'order', id: 'x' }) : orig(req, res, body));
  const before = D.counts(env);
  const g = await reconcile(env, ['--provider', 'razorpay']);
  rzp.route = orig;
  assert.strictEqual(g.code, 1, g.stdout);
  assert.match(items(g, 'provider', 'razorpay')[0].reason, /Razorpay/);
  assert.deepStrictEqual(D.counts(env), before);
  // CryptoBot down: its error; Razorpay, back, reconciled.
  const cbo2 = await cbOrder(env, 'rd_down3');
  cbPaid(cbo2);
  cb.failNext('getInvoices', 500, 1);
  const b = await reconcile(env);
  assert.strictEqual(b.code, 1, b.stdout);
  const q = items(b, 'provider', 'cryptobot')[0];
  assert.strictEqual(q.result, 'error');
  assert.match(q.reason, /Crypto Pay/);
  assert.strictEqual(D.balance(env, 'rd_down3'), 0);
  assert.strictEqual(items(b, 'provider', 'razorpay')[0].result, 'ok');
  assert.strictEqual(D.balance(env, 'rd_down1'), 100);
  const c = await reconcile(env, ['--provider', 'cryptobot']);
  assert.strictEqual(c.code, 0, c.stdout);
  assert.strictEqual(D.balance(env, 'rd_down3'), 100);
});

J.suite(async () => {
  rzp = await new FakeRazorpay({ keyId: KEY_ID, keySecret: KEY_SECRET, webhookSecret: WH_SECRET }).start();
  cb = await new FakeCryptoPay({ token: CB_TOKEN }).start();
  return Env.start({
    handlers: ['razorpay', 'cryptobot'],
    config: D.catalog({
      razorpay: { key_id: KEY_ID, api_base: rzp.url, test_mode: true },
      cryptobot: { api_base: cb.url, tolerance: '5m' },
    }),
    env: { RAZORPAY_WEBHOOK_SECRET: WH_SECRET, RAZORPAY_KEY_SECRET: KEY_SECRET, CRYPTOBOT_TOKEN: CB_TOKEN },
  });
}, async () => {
  await rzp.close();
  await cb.close();
});
