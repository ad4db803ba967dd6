'use strict';
// Telegram Payments and Stars end to end: `tally checkout` asks a fake Bot API
// (tests/fakes/telegram.js) for an invoice link; the bot's webhook (nginx -> bin/tally-telegram,
// real SQLite) gets the pre_checkout_query, which tally answers through answerPreCheckoutQuery,
// then successful_payment, Stars subscription renewals and refunds; `tally telegram refund`
// refunds through refundStarPayment. Every refusal is checked to grant nothing.
const crypto = require('crypto');
const { test, run, assert } = require('../lib/t');
const { Env } = require('../lib/harness');
const D = require('../lib/direct');
const { FakeTelegram, post, DAY } = require('../fakes/telegram');

const TOKEN = `7${Math.floor(Math.random() * 1e8)}:AAH${crypto.randomBytes(16).toString('base64url')}`;
const SECRET = `tg_${crypto.randomBytes(16).toString('hex')}`;
let fake;

const config = () => D.catalog({ telegram: { api_base: fake.url } });
const envVars = { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: SECRET };

async function applied(env, update) {
  const r = await post(env, update, SECRET);
  assert.strictEqual(r.status, 200, r.text);
  return r.json;
}

async function invoice(env, user, product = 'credits_100') {
  D.addUser(env, user);
  return D.checkout(env, user, 'telegram', product);
}

// A pre-checkout query answered: Telegram's record of the answer; nothing stored.
async function precheckout(env, q) {
  const before = D.counts(env);
  const n = fake.answers.length;
  const r = await post(env, q, SECRET);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.stored, false);
  assert.deepStrictEqual(D.counts(env), before, 'a pre-checkout query is not stored');
  assert.strictEqual(fake.answers.length, n + 1, 'answered once');
  const a = fake.answers[n];
  assert.strictEqual(a.pre_checkout_query_id, q.pre_checkout_query.id);
  return { r: r.json, a };
}

test('tg-checkout-makes-an-invoice-link-for-the-catalog-price', async (env) => {
  const co = await invoice(env, 'tg_ann');
  assert.strictEqual(co.amount, 250);
  assert.strictEqual(co.currency, 'XTR');
  assert.strictEqual(co.provider_ref, null);
  assert.match(co.url, /^https:\/\/t\.me\/\$/);
  const inv = fake.invoices.get(co.order_id);
  assert.strictEqual(inv.currency, 'XTR');
  assert.strictEqual(inv.provider_token, '');
  assert.deepStrictEqual(inv.prices.map((p) => p.amount), [250]);
  assert.strictEqual(inv.subscription_period, undefined);
  assert.strictEqual(D.order(env, co.order_id).state, 'pending');
  const rq = fake.requests.find((q) => q.method === 'createInvoiceLink');
  assert.strictEqual(rq.tokenOk, true);
  assert.strictEqual(rq.contentType, 'application/json');
});

test('tg-precheckout-accepts-a-pending-order', async (env) => {
  const co = await invoice(env, 'tg_pre');
  const t0 = Date.now();
  const { r, a } = await precheckout(env, fake.preCheckout({ payload: co.order_id }));
  assert.ok(Date.now() - t0 < 5000);
  assert.strictEqual(a.ok, true);
  assert.strictEqual(r.accepted, true);
  assert.strictEqual(a.error_message, undefined);
});

test('tg-precheckout-refusals-answer-with-a-message', async (env) => {
  const co = await invoice(env, 'tg_pre2');
  const cases = [
    fake.preCheckout({ payload: 'ord_000000000000000000000000' }), // unknown
    fake.preCheckout({ payload: co.order_id, amount: 1 }), // another amount
    fake.preCheckout({ payload: co.order_id, currency: 'USD' }), // another currency
  ];
  cases[2].pre_checkout_query.currency = 'USD';
  for (const q of cases) {
    const { a, r } = await precheckout(env, q);
    assert.strictEqual(a.ok, false, JSON.stringify(q));
    assert.strictEqual(r.accepted, false);
    assert.ok(a.error_message.length > 0 && a.error_message.length <= 200);
  }
  // Expired, then paid: refused too.
  const late = await invoice(env, 'tg_pre3');
  D.expire(env, late.order_id);
  let x = await precheckout(env, fake.preCheckout({ payload: late.order_id }));
  assert.strictEqual(x.a.ok, false);
  assert.match(x.a.error_message, /expired/);
  const done = await invoice(env, 'tg_pre4');
  await applied(env, fake.paid({ payload: done.order_id, from: 4444 }));
  x = await precheckout(env, fake.preCheckout({ payload: done.order_id, from: 4444 }));
  assert.strictEqual(x.a.ok, false);
  assert.match(x.a.error_message, /paid/);
});

test('tg-successful-payment-grants-once', async (env) => {
  const co = await invoice(env, 'tg_bob');
  const u = fake.paid({ payload: co.order_id, from: 2222 });
  const r = await applied(env, u);
  assert.strictEqual(r.state, 'applied', r.reason);
  assert.strictEqual(r.event_id, `update:${u.update_id}`);
  assert.strictEqual(D.balance(env, 'tg_bob'), 100);
  const o = D.order(env, co.order_id);
  assert.strictEqual(o.state, 'paid');
  assert.strictEqual(o.charge_id, u.message.successful_payment.telegram_payment_charge_id);
  const doc = env.user('tg_bob');
  assert.ok(doc.links.some((l) => l.provider === 'telegram' && l.kind === 'user' && l.id === '2222'));
  // Telegram repeats the update: nothing more.
  const before = D.counts(env);
  const again = await applied(env, u);
  assert.strictEqual(again.duplicate, true);
  assert.deepStrictEqual(D.counts(env), before);
  assert.ok(env.verify().ok);
});

test('tg-wrong-or-missing-secret-token-changes-nothing', async (env) => {
  const co = await invoice(env, 'tg_forged');
  const u = fake.paid({ payload: co.order_id });
  const before = D.counts(env);
  for (const s of [null, 'tg_wrong', SECRET.slice(0, -1), `${SECRET}x`, SECRET.toUpperCase()]) {
    const r = await post(env, u, s);
    assert.strictEqual(r.status, 401, `${s}: ${r.text}`);
    assert.strictEqual(r.json.error.code, 'bad_secret_token');
  }
  assert.deepStrictEqual(D.counts(env), before);
  assert.ok(!env.log('telegram').includes(SECRET), 'the secret is not logged');
});

test('tg-an-amount-other-than-the-orders-is-refused-and-alerted', async (env) => {
  const co = await invoice(env, 'tg_cheap');
  const r = await applied(env, fake.paid({ payload: co.order_id, amount: 1 }));
  assert.strictEqual(r.state, 'failed');
  assert.match(r.reason, /amount/);
  assert.strictEqual(D.alerts(env, r.inbox_id), 1);
  assert.strictEqual(D.balance(env, 'tg_cheap'), 0);
});

test('tg-another-tally-users-telegram-account-cannot-pay-an-order', async (env) => {
  const mine = await invoice(env, 'tg_mallory');
  await applied(env, fake.paid({ payload: mine.order_id, from: 6666 }));
  const theirs = await invoice(env, 'tg_victim');
  const r = await applied(env, fake.paid({ payload: theirs.order_id, from: 6666 }));
  assert.notStrictEqual(r.state, 'applied', r.reason);
  assert.strictEqual(D.balance(env, 'tg_victim'), 0);
  assert.strictEqual(D.balance(env, 'tg_mallory'), 100);
});

test('tg-an-expired-or-unknown-order-grants-nothing', async (env) => {
  const co = await invoice(env, 'tg_late');
  D.expire(env, co.order_id);
  const r = await applied(env, fake.paid({ payload: co.order_id, from: 7777 }));
  assert.strictEqual(r.state, 'failed');
  assert.match(r.reason, /expired/);
  assert.strictEqual(D.balance(env, 'tg_late'), 0);
  const before = D.counts(env);
  const u = await applied(env, fake.paid({ payload: 'ord_ffffffffffffffffffffffff', from: 7777 }));
  assert.notStrictEqual(u.state, 'applied');
  assert.strictEqual(D.alerts(env, u.inbox_id), 1);
  assert.strictEqual(D.counts(env).grants, before.grants);
});

test('tg-two-charges-racing-for-one-order-grant-once', async (env) => {
  const co = await invoice(env, 'tg_race');
  const [a, b] = await Promise.all([
    post(env, fake.paid({ payload: co.order_id, from: 8888 }), SECRET),
    post(env, fake.paid({ payload: co.order_id, from: 8888 }), SECRET),
  ]);
  assert.deepStrictEqual([a.json.state, b.json.state].sort(), ['applied', 'failed'], `${a.text} ${b.text}`);
  const loser = a.json.state === 'failed' ? a.json : b.json;
  assert.strictEqual(D.alerts(env, loser.inbox_id), 1);
  assert.strictEqual(D.balance(env, 'tg_race'), 100);
});

test('tg-stars-subscription-renewal-extends-the-plan', async (env) => {
  const co = await invoice(env, 'tg_sub', 'pro_month');
  assert.strictEqual(co.amount, 500);
  const inv = fake.invoices.get(co.order_id);
  assert.strictEqual(inv.subscription_period, 2592000);
  const end1 = Date.now() + 30 * DAY;
  const first = await applied(env, fake.paid({ payload: co.order_id, from: 5555, expiration: end1, recurring: true, first: true }));
  assert.strictEqual(first.state, 'applied', first.reason);
  let doc = env.user('tg_sub');
  assert.strictEqual(doc.balance.available, 1000);
  assert.ok(doc.entitlements.some((e) => e.name === 'pro'));
  assert.strictEqual(Date.parse(doc.subscriptions[0].period_end), Math.floor(end1 / 1000) * 1000);
  assert.strictEqual(env.tally(['credits', 'revoke', 'tg_sub', '300', '--reason', 'use', '--operator', 't']).code, 0);
  const end2 = end1 + 30 * DAY;
  const renewal = fake.paid({ payload: co.order_id, from: 5555, expiration: end2, recurring: true });
  const r = await applied(env, renewal);
  assert.strictEqual(r.state, 'applied', r.reason);
  doc = env.user('tg_sub');
  assert.strictEqual(Date.parse(doc.subscriptions[0].period_end), Math.floor(end2 / 1000) * 1000);
  assert.strictEqual(doc.balance.available, 1000, 'the renewal resets the credits');
  assert.strictEqual(doc.subscriptions.length, 1, 'the same plan, extended');
  // The renewal's update again: nothing more.
  const before = D.counts(env);
  await applied(env, renewal);
  assert.deepStrictEqual(D.counts(env), before);
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = 'tg_sub'`)[0].n, 2);
});

test('tg-refund-through-the-cli-claws-back-once', async (env) => {
  const co = await invoice(env, 'tg_ref');
  const u = fake.paid({ payload: co.order_id, from: 3333 });
  const charge = u.message.successful_payment.telegram_payment_charge_id;
  await applied(env, u);
  assert.strictEqual(D.balance(env, 'tg_ref'), 100);
  const r = await D.tally(env, ['telegram', 'refund', charge, '--reason', 'asked for it', '--operator', 'ops_ann']);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  assert.deepStrictEqual(fake.refunds.pop(), { user_id: 3333, telegram_payment_charge_id: charge });
  assert.strictEqual(D.balance(env, 'tg_ref'), 0);
  assert.strictEqual(D.order(env, co.order_id).state, 'refunded');
  const ev = env.sql(`SELECT event_id, state FROM inbox WHERE provider = 'telegram' AND event_id = 'refund:${charge}'`);
  assert.deepStrictEqual(ev, [{ event_id: `refund:${charge}`, state: 'applied' }]);
  const doc = env.user('tg_ref');
  assert.ok(doc.audit.some((a) => a.actor === 'operator:ops_ann' && a.action === 'payment.refunded'), JSON.stringify(doc.audit));
  // Telegram's own refunded_payment follows: nothing more.
  const before = D.counts(env);
  const tr = await applied(env, fake.refundedUpdate({ payload: co.order_id, from: 3333, amount: 250, charge }));
  assert.notStrictEqual(tr.state, 'failed', tr.reason);
  assert.strictEqual(D.counts(env).ledger, before.ledger);
  assert.strictEqual(D.balance(env, 'tg_ref'), 0);
  // Again from the CLI: already refunded, Telegram not asked.
  const n = fake.requests.length;
  const again = await D.tally(env, ['telegram', 'refund', charge, '--reason', 'again']);
  assert.strictEqual(again.code, 0, again.stderr);
  assert.match(again.stdout, /already refunded/);
  assert.strictEqual(fake.requests.length, n);
  assert.ok(env.verify().ok);
});

test('tg-refund-from-telegram-alone-claws-back', async (env) => {
  const co = await invoice(env, 'tg_ref2');
  const u = fake.paid({ payload: co.order_id, from: 3334 });
  const charge = u.message.successful_payment.telegram_payment_charge_id;
  await applied(env, u);
  const r = await applied(env, fake.refundedUpdate({ payload: co.order_id, from: 3334, amount: 250, charge }));
  assert.strictEqual(r.state, 'applied', r.reason);
  assert.strictEqual(D.balance(env, 'tg_ref2'), 0);
});

test('tg-refund-telegram-refuses-changes-nothing', async (env) => {
  const co = await invoice(env, 'tg_ref3');
  const u = fake.paid({ payload: co.order_id, from: 3335 });
  const charge = u.message.successful_payment.telegram_payment_charge_id;
  await applied(env, u);
  fake.charges.delete(`3335:${charge}`); // Telegram does not know it: CHARGE_NOT_FOUND
  const before = D.counts(env);
  const r = await D.tally(env, ['telegram', 'refund', charge, '--reason', 'x']);
  assert.strictEqual(r.code, 1);
  assert.match(r.stderr, /CHARGE_NOT_FOUND/);
  assert.deepStrictEqual(D.counts(env), before);
  assert.strictEqual(D.balance(env, 'tg_ref3'), 100);
  const no = await D.tally(env, ['telegram', 'refund', 'stx_unknown', '--reason', 'x']);
  assert.strictEqual(no.code, 1);
  assert.strictEqual((await D.tally(env, ['telegram', 'refund', charge])).code, 2, 'a reason is required');
});

test('tg-other-updates-are-acknowledged-not-stored', async (env) => {
  const before = D.counts(env);
  const r = await post(env, fake.chat(1111, 'hi bot'), SECRET);
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.json.stored, false);
  assert.deepStrictEqual(D.counts(env), before);
  const bad = await post(env, null, SECRET, { body: '{"message":{}}' });
  assert.strictEqual(bad.status, 400);
  const mine = await post(env, null, SECRET, { body: JSON.stringify({ tally_refund: { operator: 'x' }, message: { date: 1 } }) });
  assert.strictEqual(mine.status, 400, 'only tally writes tally_refund');
  assert.deepStrictEqual(D.counts(env), before);
});

test('tg-bot-api-down-during-checkout-cancels-and-a-retry-succeeds', async (env) => {
  D.addUser(env, 'tg_down');
  fake.failNext('createInvoiceLink', 502);
  const r = await D.tally(env, ['checkout', 'tg_down', 'telegram', 'credits_100']);
  assert.strictEqual(r.code, 1);
  assert.match(r.stderr, /Telegram answered 502/);
  assert.deepStrictEqual(env.sql(`SELECT state FROM orders WHERE user_id = 'tg_down'`).map((x) => x.state), ['canceled']);
  fake.delay('createInvoiceLink', 3500);
  const slow = await D.tally(env, ['checkout', 'tg_down', 'telegram', 'credits_100']);
  fake.delay('createInvoiceLink', 0);
  assert.strictEqual(slow.code, 1);
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM orders WHERE user_id = 'tg_down' AND state = 'canceled'`)[0].n, 2);
  const ok = await D.checkout(env, 'tg_down', 'telegram', 'credits_100');
  assert.strictEqual(D.order(env, ok.order_id).state, 'pending');
  for (const out of [r.stderr, slow.stderr, JSON.stringify(ok)]) assert.ok(!out.includes(TOKEN.split(':')[1]), 'no token in the output');
});

test('tg-precheckout-answer-is-bounded-when-the-bot-api-is-slow', async (env) => {
  const co = await invoice(env, 'tg_slow');
  fake.delay('answerPreCheckoutQuery', 8000);
  const t0 = Date.now();
  const r = await post(env, fake.preCheckout({ payload: co.order_id }), SECRET);
  fake.delay('answerPreCheckoutQuery', 0);
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.json.answered, false);
  assert.ok(Date.now() - t0 < 6000, `took ${Date.now() - t0} ms`);
});

test('tg-the-bot-token-is-never-logged', async (env) => {
  const log = env.log('telegram');
  assert.ok(log.includes('pre_checkout_query'), 'queries are logged');
  assert.ok(!log.includes(TOKEN) && !log.includes(TOKEN.split(':')[1]), 'the token is not');
});

test('tg-unconfigured-refuses-everything', async () => {
  const bare = await Env.start({ handlers: ['telegram'], config: config(), env: { TELEGRAM_WEBHOOK_SECRET: SECRET } });
  try {
    const r = await post(bare, fake.chat(), SECRET);
    assert.strictEqual(r.status, 503, 'no bot token: pre-checkout queries could not be answered');
    assert.strictEqual(r.json.error.code, 'not_configured');
  } finally {
    await bare.stop();
  }
});

run({
  before: async () => {
    fake = await new FakeTelegram({ token: TOKEN }).start();
    return Env.start({ handlers: ['telegram'], config: config(), env: envVars });
  },
  after: async (env, failed) => {
    await env.stop(failed > 0 && process.env.KEEP);
    await fake.close();
  },
});
