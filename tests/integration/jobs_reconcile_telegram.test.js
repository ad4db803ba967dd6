'use strict';
// bin/tally-reconcile over Telegram Stars, against the fake Bot API (tests/fakes/telegram.js:
// getStarTransactions answered newest first in the Bot API's format) and the real webhook
// handler behind nginx: a Stars payment the webhook missed is applied once, as the
// successful_payment it would have carried (event "stars:<charge id>"; the charge the business
// key: a second run, or the webhook arriving after, grants nothing); an amount that is not the
// order's is refused and reported; unknown payloads, outgoing and other partners' transactions
// are ignored, a refunded payment reported; pages read until past the oldest pending order;
// --dry-run; Telegram down or answering garbage (its error, exit 1, nothing of it changed,
// CryptoBot still reconciled); orders not in Stars counted as not reconcilable; a Stars
// subscription's renewal whose webhook was missed applied once to the stale subscription (a
// rerun and the late webhook grant nothing; renewals of other orders or payloads ignored).
const crypto = require('crypto');
const { test, assert } = require('../lib/t');
const { Env } = require('../lib/harness');
const D = require('../lib/direct');
const J = require('../lib/jobs');
const { FakeTelegram, post: tgPost } = require('../fakes/telegram');
const { FakeCryptoPay } = require('../fakes/cryptobot');

const TOKEN = `7${Math.floor(Math.random() * 1e8)}:AAH${crypto.randomBytes(16).toString('base64url')}`;
const SECRET = `tg_${crypto.randomBytes(16).toString('hex')}`;
const CB_TOKEN = `${Math.floor(Math.random() * 1e6)}:AA${crypto.randomBytes(16).toString('base64url')}`;
const { DAY } = J;
let tg;
let cb;

const reconcile = (env, args = []) => J.jobAsync(env, 'reconcile', ['--json', ...args]);
const items = (r, action, provider) => r.json.items.filter((i) => i.action === action && (!provider || i.provider === provider));
const about = (r, order) => r.json.items.filter((i) => (i.subject || '').includes(order));
const starCalls = () => tg.requests.filter((q) => q.method === 'getStarTransactions');
const payments = (env, user) => env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = '${user}'`)[0].n;

async function tgOrder(env, user, product = 'credits_100') {
  D.addUser(env, user);
  return D.checkout(env, user, 'telegram', product);
}

test('a Stars payment the webhook missed is applied once; a second run and the late webhook grant nothing', async (env) => {
  const co = await tgOrder(env, 'rt_1');
  assert.strictEqual(co.currency, 'XTR');
  const u = tg.paid({ payload: co.order_id, from: 5551 });
  const charge = u.message.successful_payment.telegram_payment_charge_id;
  const r = await reconcile(env, ['--provider', 'telegram']);
  assert.strictEqual(r.code, 0, r.stdout + r.stderr);
  const d = about(r, co.order_id);
  const drift = d.find((i) => i.action === 'drift');
  assert.ok(drift && drift.result === 'found' && /^paid 250 XTR by user 5551/.test(drift.theirs) && /^pending/.test(drift.tally), JSON.stringify(d));
  const a = d.find((i) => i.action === 'telegram payment');
  assert.strictEqual(a.result, 'applied', JSON.stringify(a));
  assert.strictEqual(a.event_id, `stars:${charge}`);
  assert.strictEqual(D.balance(env, 'rt_1'), 100);
  assert.strictEqual(D.order(env, co.order_id).state, 'paid');
  assert.strictEqual(D.order(env, co.order_id).charge_id, charge);
  assert.strictEqual(items(r, 'provider', 'telegram')[0].result, 'ok');
  // The payer's Telegram id is linked, as the webhook would have.
  assert.strictEqual(env.sql(`SELECT user_id FROM links WHERE provider = 'telegram' AND kind = 'user' AND ext_id = '5551'`)[0].user_id, 'rt_1');
  // Paid now: not pending, not looked at again.
  const before = D.counts(env);
  const again = await reconcile(env, ['--provider', 'telegram']);
  assert.strictEqual(again.code, 0, again.stdout + again.stderr);
  assert.deepStrictEqual(about(again, co.order_id), []);
  assert.deepStrictEqual(D.counts(env), before);
  // The webhook arrives late (another update_id): stored, nothing granted again.
  const w = await tgPost(env, u, SECRET);
  assert.strictEqual(w.status, 200, w.text);
  assert.strictEqual(D.balance(env, 'rt_1'), 100);
  assert.strictEqual(payments(env, 'rt_1'), 1);
  assert.strictEqual(env.sql("SELECT count(*) AS n FROM grants WHERE user_id = 'rt_1'")[0].n, 1);
  // A body marked as reconciliation's own is refused by the webhook.
  const forged = { tally_reconcile: {}, message: u.message };
  const f = await tgPost(env, forged, SECRET);
  assert.strictEqual(f.status, 400, f.text);
  assert.strictEqual(D.balance(env, 'rt_1'), 100);
});

test('a Stars subscription paid: the plan runs to the date + subscription_period', async (env) => {
  const co = await tgOrder(env, 'rt_sub', 'pro_month');
  const at = Date.now() - 60e3;
  tg.paid({ payload: co.order_id, from: 5552, expiration: at + 30 * DAY, recurring: true, first: true, date: at });
  const r = await reconcile(env, ['--provider', 'telegram']);
  assert.strictEqual(r.code, 0, r.stdout + r.stderr);
  assert.strictEqual(about(r, co.order_id).find((i) => i.action === 'telegram payment').result, 'applied');
  const s = env.sql("SELECT state, period_end FROM subscriptions WHERE user_id = 'rt_sub'")[0];
  assert.strictEqual(s.state, 'active');
  assert.strictEqual(s.period_end, (Math.floor(at / 1000) + 2592000) * 1000);
  assert.strictEqual(D.balance(env, 'rt_sub'), 1000);
});

test('a Stars payment of another amount is refused and reported, nothing granted; a rerun is a duplicate', async (env) => {
  const co = await tgOrder(env, 'rt_2');
  tg.paid({ payload: co.order_id, from: 5553, amount: 1 });
  const r = await reconcile(env, ['--provider', 'telegram']);
  const a = about(r, co.order_id).find((i) => i.action === 'telegram payment');
  assert.strictEqual(a.result, 'failed', JSON.stringify(a));
  assert.match(a.reason, /amount mismatch/);
  assert.ok(about(r, co.order_id).some((i) => i.action === 'drift' && /^paid 1 XTR/.test(i.theirs)));
  assert.strictEqual(D.balance(env, 'rt_2'), 0);
  assert.strictEqual(D.order(env, co.order_id).state, 'pending');
  const before = D.counts(env);
  const again = await reconcile(env, ['--provider', 'telegram']);
  assert.strictEqual(about(again, co.order_id).find((i) => i.action === 'telegram payment').result, 'duplicate');
  assert.deepStrictEqual(D.counts(env), before);
  // Out of the way of the tests below.
  env.sql(`UPDATE orders SET state = 'expired' WHERE id = '${co.order_id}'`);
});

test('unknown payloads, outgoing and non-user transactions are ignored; a refunded payment is reported; fiat orders not reconcilable', async (env) => {
  const co = await tgOrder(env, 'rt_3');
  const fiat = await tgOrder(env, 'rt_3f', 'inr_pack');
  assert.strictEqual(fiat.currency, 'INR');
  tg.starTx({ amount: 250, from: 5554, payload: 'ord_not_ours' });
  tg.starTx({ amount: 250, from: 5554, payload: co.order_id, outgoing: true, id: 'stxa_outgoing_only' });
  tg.starTx({ amount: 250, payload: co.order_id, type: 'fragment' });
  tg.starTx({ amount: 250, from: 5554, payload: co.order_id, transactionType: 'paid_media_payment' });
  const co2 = await tgOrder(env, 'rt_4');
  const u = tg.paid({ payload: co2.order_id, from: 5555 });
  const charge = u.message.successful_payment.telegram_payment_charge_id;
  tg.charges.add(`5555:${charge}`);
  tg.refunded.add(charge);
  tg.starTx({ id: charge, amount: 250, from: 5555, payload: co2.order_id, outgoing: true });
  const before = D.counts(env);
  const r = await reconcile(env, ['--provider', 'telegram']);
  assert.strictEqual(r.code, 0, r.stdout + r.stderr);
  assert.deepStrictEqual(about(r, co.order_id), []);
  assert.deepStrictEqual(about(r, 'ord_not_ours'), []);
  const d = about(r, co2.order_id);
  assert.strictEqual(d.length, 1, JSON.stringify(d));
  assert.strictEqual(d[0].result, 'reported');
  assert.match(d[0].theirs, /refunded/);
  assert.deepStrictEqual(D.counts(env), before);
  assert.strictEqual(D.order(env, co.order_id).state, 'pending');
  assert.strictEqual(D.order(env, co2.order_id).state, 'pending');
  const p = items(r, 'provider', 'telegram')[0];
  assert.strictEqual(p.result, 'ok');
  assert.match(p.reason, /^1 pending order not in Stars: not reconcilable/);
  assert.deepStrictEqual(about(r, fiat.order_id), []);
  for (const c of [co, co2, fiat]) env.sql(`UPDATE orders SET state = 'expired' WHERE id = '${c.order_id}'`);
});

test('pages read until past the oldest pending order: a payment on the second page applied, the third never asked for', async (env) => {
  const co = await tgOrder(env, 'rt_5');
  env.sql(`UPDATE orders SET created_at = created_at - ${DAY} WHERE id = '${co.order_id}'`);
  const now = Date.now();
  tg.stars = [];
  for (let i = 0; i < 150; i++) tg.starTx({ amount: 10, from: 7000 + i, payload: `ord_other_${i}`, date: now - 1000 * i });
  tg.paid({ payload: co.order_id, from: 5556, date: now - 200e3 });
  for (let i = 0; i < 150; i++) tg.starTx({ amount: 10, from: 8000 + i, payload: `ord_old_${i}`, date: now - 3 * DAY - 1000 * i });
  tg.requests = [];
  const r = await reconcile(env, ['--provider', 'telegram']);
  assert.strictEqual(r.code, 0, r.stdout + r.stderr);
  assert.strictEqual(about(r, co.order_id).find((i) => i.action === 'telegram payment').result, 'applied');
  assert.strictEqual(D.balance(env, 'rt_5'), 100);
  const calls = starCalls().map((q) => JSON.parse(q.body));
  assert.deepStrictEqual(calls, [{ offset: 0, limit: 100 }, { offset: 100, limit: 100 }]);
  assert.ok(starCalls().every((q) => q.tokenOk));
});

test('--dry-run changes nothing and says what it would apply', async (env) => {
  const co = await tgOrder(env, 'rt_dry');
  tg.paid({ payload: co.order_id, from: 5557 });
  const before = D.counts(env);
  const r = await reconcile(env, ['--dry-run', '--provider', 'telegram']);
  assert.strictEqual(r.code, 0, r.stdout + r.stderr);
  assert.strictEqual(about(r, co.order_id).find((i) => i.action === 'telegram payment').result, 'would apply');
  assert.deepStrictEqual(D.counts(env), before);
  const real = await reconcile(env, ['--provider', 'telegram']);
  assert.strictEqual(real.code, 0, real.stdout);
  assert.strictEqual(D.balance(env, 'rt_dry'), 100);
});

test('Telegram down or answering garbage: its error, exit 1, nothing of it changed; CryptoBot still reconciled', async (env) => {
  const co = await tgOrder(env, 'rt_down1');
  tg.paid({ payload: co.order_id, from: 5558 });
  D.addUser(env, 'rt_down2');
  const cbo = await D.checkout(env, 'rt_down2', 'cryptobot', 'credits_100');
  cb.paid(cbo.provider_ref);
  tg.failNext('getStarTransactions', 503, 1);
  const r = await reconcile(env);
  assert.strictEqual(r.code, 1, r.stdout);
  const p = items(r, 'provider', 'telegram')[0];
  assert.strictEqual(p.result, 'error');
  assert.match(p.reason, /Telegram/);
  assert.strictEqual(D.balance(env, 'rt_down1'), 0);
  assert.strictEqual(D.order(env, co.order_id).state, 'pending');
  assert.strictEqual(items(r, 'provider', 'cryptobot')[0].result, 'ok');
  assert.strictEqual(D.balance(env, 'rt_down2'), 100);
  // Garbage: not the shape, not JSON, a transaction without its id; and the second page failing
  // after a first that named the payment: nothing applied.
  const orig = tg.route.bind(tg);
  const answers = [
    (res) => tg.send(res, 200, { ok: true, result: { transactions: 'none' } }),
    (res) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end('{"ok":true,"result":{"transac'); },
    (res) => tg.send(res, 200, { ok: true, result: { transactions: [{ amount: 250, date: 1 }] } }),
    (res) => tg.send(res, 200, { ok: true, result: [] }),
  ];
  for (const answer of answers) {
    tg.route = (req, res, body) => (/getStarTransactions$/.test(req.url) ? answer(res) : orig(req, res, body));
    const before = D.counts(env);
    const g = await reconcile(env, ['--provider', 'telegram']);
    assert.strictEqual(g.code, 1, g.stdout);
    assert.match(items(g, 'provider', 'telegram')[0].reason, /Telegram/);
    assert.deepStrictEqual(D.counts(env), before);
  }
  for (let i = 0; i < 120; i++) tg.starTx({ amount: 10, from: 9000 + i, payload: `ord_noise_${i}` });
  let n = 0;
  tg.route = (req, res, body) => (/getStarTransactions$/.test(req.url) && n++ === 1 ? tg.send(res, 500, { ok: false, error_code: 500, description: 'Internal Server Error' }) : orig(req, res, body));
  const before = D.counts(env);
  const g = await reconcile(env, ['--provider', 'telegram']);
  tg.route = orig;
  assert.strictEqual(g.code, 1, g.stdout);
  assert.strictEqual(n, 2);
  assert.deepStrictEqual(D.counts(env), before);
  assert.strictEqual(D.balance(env, 'rt_down1'), 0);
  // Back: applied.
  const c = await reconcile(env, ['--provider', 'telegram']);
  assert.strictEqual(c.code, 0, c.stdout);
  assert.strictEqual(D.balance(env, 'rt_down1'), 100);
});

test('a Stars subscription renewal the webhook missed: applied once to the stale subscription; a rerun and the late webhook grant nothing', async (env) => {
  const co = await tgOrder(env, 'rt_ren', 'pro_month');
  const at = Date.now() - 60e3;
  const period = 2592000;
  // Bought through the webhook, as usual.
  const first = tg.paid({ payload: co.order_id, from: 5570, expiration: at + 30 * DAY, recurring: true, first: true, date: at });
  const w0 = await tgPost(env, first, SECRET);
  assert.strictEqual(w0.status, 200, w0.text);
  assert.strictEqual(D.order(env, co.order_id).state, 'paid');
  const subOf = () => env.sql("SELECT id, state, period_start, period_end FROM subscriptions WHERE user_id = 'rt_ren'")[0];
  const s0 = subOf();
  assert.strictEqual(s0.period_end, (Math.floor(at / 1000) + period) * 1000);
  // Another user's paid pack order, and an unknown payload: "renewals" of them are ignored.
  const other = await tgOrder(env, 'rt_ren_other');
  const w1 = await tgPost(env, tg.paid({ payload: other.order_id, from: 5571 }), SECRET);
  assert.strictEqual(w1.status, 200, w1.text);
  assert.strictEqual(D.order(env, other.order_id).state, 'paid');
  // Renewed at Telegram past the first period's end; the webhook never sent.
  const renewedAt = at + 30 * DAY + 3600e3;
  const ren = tg.starTx({ amount: 500, from: 5570, payload: co.order_id, period, date: renewedAt });
  tg.starTx({ amount: 250, from: 5571, payload: other.order_id, period, date: renewedAt + 1000 });
  tg.starTx({ amount: 500, from: 5572, payload: 'ord_unknown_renewal', period, date: renewedAt + 2000 });
  const now = at + 32 * DAY; // past the period end and the leeway: the subscription is stale
  const grants = () => env.sql("SELECT count(*) AS n FROM grants WHERE user_id = 'rt_ren'")[0].n;
  const g0 = grants();
  // --dry-run: said, nothing changed.
  const before = D.counts(env);
  const dry = await J.jobAsync(env, 'reconcile', ['--json', '--provider', 'telegram', '--dry-run'], { now });
  assert.strictEqual(dry.code, 0, dry.stdout + dry.stderr);
  assert.strictEqual(about(dry, ren.id).find((i) => i.action === 'telegram renewal').result, 'would apply');
  assert.deepStrictEqual(D.counts(env), before);
  assert.deepStrictEqual(subOf(), s0);
  // The run: applied once, as a renewal.
  const r = await J.jobAsync(env, 'reconcile', ['--json', '--provider', 'telegram'], { now });
  assert.strictEqual(r.code, 0, r.stdout + r.stderr);
  const d = about(r, ren.id);
  const drift = d.find((i) => i.action === 'drift');
  assert.ok(drift && drift.result === 'found' && drift.user_id === 'rt_ren' && /^active until /.test(drift.tally)
    && /^renewed .*: paid 500 XTR by user 5570$/.test(drift.theirs) && drift.subject.includes(co.order_id), JSON.stringify(d));
  const a = d.find((i) => i.action === 'telegram renewal');
  assert.strictEqual(a.result, 'applied', JSON.stringify(a));
  assert.strictEqual(a.event_id, `stars:${ren.id}`);
  assert.strictEqual(d.length, 2, JSON.stringify(d));
  assert.deepStrictEqual(about(r, other.order_id), []);
  assert.deepStrictEqual(about(r, 'ord_unknown_renewal'), []);
  assert.strictEqual(items(r, 'provider', 'telegram')[0].result, 'ok');
  const s1 = subOf();
  assert.strictEqual(s1.id, s0.id);
  assert.strictEqual(s1.state, 'active');
  assert.strictEqual(s1.period_end, (Math.floor(renewedAt / 1000) + period) * 1000);
  const pays = env.sql("SELECT kind, amount FROM payments WHERE user_id = 'rt_ren' ORDER BY id");
  assert.deepStrictEqual(pays.map((p) => [p.kind, p.amount]), [['initial', 500], ['renewal', 500]]);
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM payment_keys WHERE provider = 'telegram' AND key = '${ren.id}'`)[0].n, 1);
  assert.strictEqual(grants(), g0 + 1);
  // The period's credits, granted to the renewal's payment and the subscription.
  const g = env.sql("SELECT g.source, g.amount, g.subscription_id, p.kind FROM grants g JOIN payments p ON p.id = g.payment_id WHERE g.user_id = 'rt_ren' ORDER BY g.id DESC LIMIT 1")[0];
  assert.deepStrictEqual([g.source, g.amount, g.subscription_id, g.kind], ['subscription', 1000, s0.id, 'renewal']);
  assert.strictEqual(payments(env, 'rt_ren_other'), 1);
  // A second run: the subscription is no longer stale, the charge recorded: nothing.
  const after = D.counts(env);
  const again = await J.jobAsync(env, 'reconcile', ['--json', '--provider', 'telegram'], { now });
  assert.strictEqual(again.code, 0, again.stdout + again.stderr);
  assert.deepStrictEqual(about(again, ren.id), []);
  assert.deepStrictEqual(D.counts(env), after);
  // Even stale again (the clock further on), the recorded renewal is not applied again.
  const later = await J.jobAsync(env, 'reconcile', ['--json', '--provider', 'telegram'], { now: renewedAt + 33 * DAY });
  assert.strictEqual(later.code, 0, later.stdout + later.stderr);
  assert.deepStrictEqual(about(later, ren.id), []);
  assert.deepStrictEqual(D.counts(env), after);
  // The renewal's webhook arrives late: stored, nothing granted.
  const late = tg.message(5570, 'successful_payment', {
    currency: 'XTR', total_amount: 500, invoice_payload: co.order_id, telegram_payment_charge_id: ren.id,
    provider_payment_charge_id: '', subscription_expiration_date: Math.floor(renewedAt / 1000) + period, is_recurring: true,
  }, renewedAt);
  const wl = await tgPost(env, late, SECRET);
  assert.strictEqual(wl.status, 200, wl.text);
  assert.strictEqual(payments(env, 'rt_ren'), 2);
  assert.strictEqual(grants(), g0 + 1);
  assert.strictEqual(subOf().period_end, s1.period_end);
  assert.ok(env.verify().ok, JSON.stringify(env.verify().doc));
});

J.suite(async () => {
  tg = await new FakeTelegram({ token: TOKEN }).start();
  cb = await new FakeCryptoPay({ token: CB_TOKEN }).start();
  const config = D.catalog({
    telegram: { api_base: tg.url },
    cryptobot: { api_base: cb.url, tolerance: '5m' },
  });
  // Sold in rupees through a Telegram payment provider: not reconcilable.
  config.products.inr_pack = { kind: 'pack', credits: 10, prices: { INR: 9900 } };
  return Env.start({
    handlers: ['telegram', 'cryptobot'],
    config,
    env: {
      TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: SECRET, TELEGRAM_PROVIDER_TOKEN: 'provider_test_token', CRYPTOBOT_TOKEN: CB_TOKEN,
    },
  });
}, async () => {
  await tg.close();
  await cb.close();
});
