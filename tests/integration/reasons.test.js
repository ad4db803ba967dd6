'use strict';
// What tally stores (and answers) when it refuses something must tell support what was received
// AND what was expected, in the provider's own words, money in major units with its currency:
// the stored reason of each failed event is read back with `tally events show --json`. And the
// checkout answer (CLI and API, every provider) says what was made: a subscription the provider
// renews, or one payment. One tally with every provider's handler, each provider a fake.
const crypto = require('crypto');
const { test, run, assert } = require('../lib/t');
const { startApi } = require('../lib/api');
const D = require('../lib/direct');
const S = require('../lib/stripe-events');
const { FakeCryptoPay, post: postCb } = require('../fakes/cryptobot');
const { FakeRazorpay, post: postRzp, rid } = require('../fakes/razorpay');
const { FakeTelegram, post: postTg } = require('../fakes/telegram');
const { FakeStripe } = require('../fakes/stripe');

const CB_TOKEN = `${Math.floor(Math.random() * 1e6)}:AA${crypto.randomBytes(16).toString('base64url')}`;
const RZP_KEY_ID = 'rzp_test_Reasons000001';
const RZP_KEY_SECRET = `ks_${crypto.randomBytes(12).toString('hex')}`;
const RZP_SECRET = `whsec_${crypto.randomBytes(12).toString('hex')}`;
const TG_TOKEN = `7${Math.floor(Math.random() * 1e8)}:AAH${crypto.randomBytes(16).toString('base64url')}`;
const TG_SECRET = `tg_${crypto.randomBytes(16).toString('hex')}`;
const STRIPE_KEY = 'sk_test_fake_reasons_0123456789';
let cb;
let rzp;
let tg;
let stripe;

// The stored event, as support reads it.
function shown(env, inboxId) {
  const r = env.tally(['events', 'show', String(inboxId), '--json']);
  assert.strictEqual(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function checkout(env, user, provider, product) {
  D.addUser(env, user);
  return D.checkout(env, user, provider, product);
}

async function cbPaid(env, update) {
  const r = await postCb(env, cb, update);
  assert.strictEqual(r.status, 200, r.text);
  return r.json;
}

async function rzpPaid(env, evt) {
  const r = await postRzp(env, rzp, evt);
  assert.strictEqual(r.status, 200, r.text);
  return r.json;
}

async function tgPaid(env, update) {
  const r = await postTg(env, update, TG_SECRET);
  assert.strictEqual(r.status, 200, r.text);
  return r.json;
}

// A failed event: stored, failed, alerted, its reason what support reads.
function failed(env, j) {
  assert.strictEqual(j.state, 'failed', JSON.stringify(j));
  const ev = shown(env, j.inbox_id);
  assert.strictEqual(ev.state, 'failed');
  assert.strictEqual(ev.reason, j.reason, 'the answer and the stored event say the same');
  assert.strictEqual(D.alerts(env, j.inbox_id), 1, 'alerted');
  return ev;
}

// --- 1a: an amount with more decimals than the asset has ---

test('cb-amount-with-more-decimals-than-the-asset-is-refused-as-malformed-and-quoted', async (env) => {
  const co = await checkout(env, 'rs_cb_dec', 'cryptobot', 'credits_100');
  const ev = failed(env, await cbPaid(env, cb.paid(co.provider_ref, { amount: '4.990000001' })));
  assert.match(ev.reason, /^malformed amount: amount "4\.990000001" has more decimals than USDT's 8/);
  // What was expected: the order and its price, in USDT.
  assert.ok(ev.reason.includes(`order ${co.order_id} is 4.99000000 USDT`), ev.reason);
  assert.ok(!/0\.00000000/.test(ev.reason), `never a number it was not: ${ev.reason}`);
  assert.strictEqual(ev.user_id, 'rs_cb_dec');
  const neg = await checkout(env, 'rs_cb_neg', 'cryptobot', 'credits_100');
  const ev2 = failed(env, await cbPaid(env, cb.paid(neg.provider_ref, { amount: '-4.99' })));
  assert.match(ev2.reason, /^malformed amount: amount "-4\.99" is negative; order ord_\w+ is 4\.99000000 USDT/);
  assert.strictEqual(D.balance(env, 'rs_cb_dec') + D.balance(env, 'rs_cb_neg'), 0);
});

// --- 1b: a payment naming an existing order through another invoice ---

test('cb-invoice-naming-another-invoices-order-names-both-and-the-users', async (env) => {
  const a = await checkout(env, 'rs_cb_alice', 'cryptobot', 'credits_100');
  const b = await checkout(env, 'rs_cb_carl', 'cryptobot', 'credits_100');
  const ev = failed(env, await cbPaid(env, cb.paid(b.provider_ref, { invoicePayload: a.order_id })));
  assert.strictEqual(ev.reason,
    `order mismatch: cryptobot invoice ${b.provider_ref} names order ${a.order_id} (user rs_cb_alice), ` +
    `which was made with invoice ${a.provider_ref}; invoice ${b.provider_ref} is order ${b.order_id}'s ` +
    '(user rs_cb_carl): nothing granted');
  assert.strictEqual(ev.user_id, 'rs_cb_alice', 'filed under the user of the order it names');
  assert.strictEqual(D.balance(env, 'rs_cb_alice') + D.balance(env, 'rs_cb_carl'), 0);
});

test('cb-invoice-naming-an-order-tally-never-issued-says-whose-invoice-it-is', async (env) => {
  const co = await checkout(env, 'rs_cb_ghost', 'cryptobot', 'credits_100');
  const ghost = 'ord_000000000000000000000000';
  const ev = failed(env, await cbPaid(env, cb.paid(co.provider_ref, { invoicePayload: ghost })));
  assert.strictEqual(ev.reason,
    `unknown order: cryptobot invoice ${co.provider_ref} names order ${ghost}, which tally never issued; ` +
    `invoice ${co.provider_ref} is order ${co.order_id}'s (user rs_cb_ghost): nothing granted`);
  assert.strictEqual(ev.user_id, 'rs_cb_ghost');
});

test('rzp-order-paid-whose-notes-name-another-order-names-both-refs', async (env) => {
  const a = await checkout(env, 'rs_rz_ann', 'razorpay', 'credits_100');
  const b = await checkout(env, 'rs_rz_ben', 'razorpay', 'credits_100');
  const payment = rzp.pay(b.provider_ref);
  const evt = JSON.parse(JSON.stringify(rzp.orderPaid(b.provider_ref, payment)));
  evt.payload.order.entity.notes.tally_order = a.order_id;
  const ev = failed(env, await rzpPaid(env, evt));
  assert.strictEqual(ev.reason,
    `order mismatch: razorpay order ${b.provider_ref} names order ${a.order_id} (user rs_rz_ann), ` +
    `which was made with order ${a.provider_ref}; order ${b.provider_ref} is order ${b.order_id}'s ` +
    '(user rs_rz_ben): nothing granted');
  assert.strictEqual(D.balance(env, 'rs_rz_ann') + D.balance(env, 'rs_rz_ben'), 0);
});

test('rzp-payment-of-an-order-tally-never-made-says-so', async (env) => {
  const foreign = rid('order_');
  rzp.orders.set(foreign, { id: foreign, entity: 'order', amount: 49900, currency: 'INR', notes: [], status: 'created', attempts: 0 });
  const ev = failed(env, await rzpPaid(env, rzp.paymentCaptured(rzp.pay(foreign))));
  assert.strictEqual(ev.reason,
    `unknown order: razorpay order ${foreign} is not one tally issued (no order of tally's was made with it): nothing granted`);
});

test('rzp-expired-order-says-when-it-expired-and-when-it-was-paid', async (env) => {
  const co = await checkout(env, 'rs_rz_late', 'razorpay', 'credits_100');
  D.expire(env, co.order_id);
  const ev = failed(env, await rzpPaid(env, rzp.paymentCaptured(rzp.pay(co.provider_ref))));
  assert.match(ev.reason, new RegExp(`^order ${co.order_id} expired at \\d{4}-\\d\\d-\\d\\dT[^,]+, before it was paid at \\d{4}-\\d\\d-\\d\\dT\\S+: refund it$`));
});

test('tg-payment-naming-another-providers-order-or-none-says-which', async (env) => {
  const co = await checkout(env, 'rs_tg_cross', 'cryptobot', 'credits_100');
  const u = tg.paid({ payload: co.order_id, from: 5151, amount: 250, currency: 'XTR' });
  const ev = failed(env, await tgPaid(env, u));
  assert.strictEqual(ev.reason,
    `order mismatch: a telegram payment names order ${co.order_id} (user rs_tg_cross), which was made for cryptobot: nothing granted`);
  const ghost = 'ord_111111111111111111111111';
  const g = tg.paid({ payload: ghost, from: 5152, amount: 250, currency: 'XTR' });
  const ev2 = failed(env, await tgPaid(env, g));
  assert.strictEqual(ev2.reason,
    `unknown order: telegram payment ${g.message.successful_payment.telegram_payment_charge_id} names order ${ghost}, which tally never issued: nothing granted`);
});

// --- the same class elsewhere: money in major units, both sides named ---

test('stripe-partial-refund-names-both-amounts-in-major-units', async (env) => {
  const pi = S.rid('pi');
  const buy = await env.stripe(S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: pi, clientReferenceId: 'rs_st_part', metadata: { product: 'credits_500' }, amountTotal: 500,
  })));
  assert.strictEqual(buy.json.state, 'applied', buy.text);
  const r = await env.stripe(S.event('charge.refunded', S.charge({ paymentIntent: pi, amount: 500, amountRefunded: 120, refunded: false })));
  assert.strictEqual(r.json.state, 'applied', r.text);
  const ev = shown(env, r.json.inbox_id);
  // Money for people: major units and the ISO 4217 code in capitals (Stripe writes "usd").
  assert.match(ev.reason, /^partial refund of 1\.20 USD on payment \d+ of 5\.00 USD: nothing revoked/);
  // A currency without minor units, in Stripe's lower case: yen stay yen.
  const piY = S.rid('pi');
  const cs = S.checkoutSession({
    mode: 'payment', paymentIntent: piY, clientReferenceId: 'rs_st_yen', metadata: { product: 'credits_500' }, amountTotal: 500,
  });
  cs.currency = 'jpy';
  assert.strictEqual((await env.stripe(S.event('checkout.session.completed', cs))).json.state, 'applied');
  const ch = S.charge({ paymentIntent: piY, amount: 500, amountRefunded: 120, refunded: false });
  ch.currency = 'jpy';
  const y = await env.stripe(S.event('charge.refunded', ch));
  assert.match(shown(env, y.json.inbox_id).reason, /^partial refund of 120 JPY on payment \d+ of 500 JPY: nothing revoked/);
});

test('tg-precheckout-refusal-logs-both-prices-in-major-units', async (env) => {
  const co = await checkout(env, 'rs_tg_inr', 'telegram', 'inr_pack');
  assert.strictEqual(co.currency, 'INR');
  const q = tg.preCheckout({ payload: co.order_id, amount: 1 });
  const r = await postTg(env, q, TG_SECRET);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.accepted, false);
  const log = env.log('telegram');
  assert.ok(log.includes(`order ${co.order_id} is 499.00 INR, the invoice says 0.01 INR`), log.slice(-600));
});

test('api-refusals-name-what-was-asked-and-what-holds', async (env) => {
  for (const u of ['rs_ref_a', 'rs_ref_b', 'rs_ref_c']) assert.strictEqual((await env.api('POST', `/v1/users/${u}`)).status < 300, true);
  assert.strictEqual((await env.api('POST', '/v1/users/rs_ref_c/referrer', { referrer: 'rs_ref_a' })).status, 200);
  const again = await env.api('POST', '/v1/users/rs_ref_c/referrer', { referrer: 'rs_ref_b' });
  assert.strictEqual(again.status, 409);
  assert.strictEqual(again.json.error.code, 'referrer_set');
  assert.match(again.json.error.message, /rs_ref_c's is rs_ref_a, not rs_ref_b/);
  const pack = await env.api('POST', '/v1/users/rs_ref_a/plans', { product: 'credits_100' });
  assert.strictEqual(pack.json.error.code, 'not_for_sale');
  assert.match(pack.json.error.message, /credits_100 is not a plan sold for credits: the catalog sells it as a pack/);
});

// --- 2: the checkout answer says what was made ---

test('checkout-answer-says-a-stars-plan-is-a-subscription-and-a-pack-is-not', async (env) => {
  const plan = await checkout(env, 'rs_co_tg', 'telegram', 'pro_month');
  assert.strictEqual(tg.invoices.get(plan.order_id).subscription_period, 2592000, 'a Stars subscription was made');
  assert.strictEqual(plan.subscription, true);
  const pack = await checkout(env, 'rs_co_tg', 'telegram', 'credits_100');
  assert.strictEqual(tg.invoices.get(pack.order_id).subscription_period, undefined);
  assert.strictEqual(pack.subscription, false);
  // The human answer says it too.
  const human = await D.tally(env, ['checkout', 'rs_co_tg', 'telegram', 'pro_month', '--operator', 'ops_test']);
  assert.strictEqual(human.code, 0, human.stderr);
  assert.match(human.stdout, /^kind: subscription \(telegram renews it each period\)$/m);
  const once = await D.tally(env, ['checkout', 'rs_co_tg', 'telegram', 'credits_100', '--operator', 'ops_test']);
  assert.match(once.stdout, /^kind: one payment \(telegram does not renew it\)$/m);
  // The API: the same answer.
  const api = await env.api('POST', '/v1/users/rs_co_tg/checkout', { provider: 'telegram', product: 'pro_month' });
  assert.strictEqual(api.status, 200, api.text);
  assert.strictEqual(api.json.subscription, true);
  const apiPack = await env.api('POST', '/v1/users/rs_co_tg/checkout', { provider: 'telegram', product: 'credits_100' });
  assert.strictEqual(apiPack.json.subscription, false);
});

test('checkout-answer-of-every-provider-matches-what-was-made', async (env) => {
  // Razorpay: a plan of Razorpay's is a subscription, a plan bought once is an order.
  assert.strictEqual((await checkout(env, 'rs_co_all', 'razorpay', 'pro_plan')).subscription, true);
  assert.strictEqual((await checkout(env, 'rs_co_all', 'razorpay', 'pro_month')).subscription, false);
  // CryptoBot: one invoice, whatever the product.
  assert.strictEqual((await checkout(env, 'rs_co_all', 'cryptobot', 'pro_month')).subscription, false);
  // Stripe: mode subscription for a subscription product, payment for a pack.
  await env.api('POST', '/v1/users/rs_co_st');
  const sub = await env.api('POST', '/v1/users/rs_co_st/checkout', { provider: 'stripe', product: 'pro_stripe' });
  assert.strictEqual(sub.status, 200, sub.text);
  assert.strictEqual(stripe.requests[stripe.requests.length - 1].form.mode, 'subscription');
  assert.strictEqual(sub.json.subscription, true);
  const one = await env.api('POST', '/v1/users/rs_co_st/checkout', { provider: 'stripe', product: 'credits_500' });
  assert.strictEqual(stripe.requests[stripe.requests.length - 1].form.mode, 'payment');
  assert.strictEqual(one.json.subscription, false);
});

test('cli-checkout-and-orders-show-text-shows-major-units-json-keeps-minor-units', async (env) => {
  // ISO 4217 exponents: INR 2, XTR (Stars) 0; USDT in 10^-8, as CryptoBot counts it.
  const cases = [['razorpay', '499.00 INR', 49900, 'INR'], ['telegram', '250 XTR', 250, 'XTR'],
    ['cryptobot', '4.99000000 USDT', 499000000, 'USDT']];
  D.addUser(env, 'rs_cli_money');
  for (const [provider, text, minor, currency] of cases) {
    const co = await D.tally(env, ['checkout', 'rs_cli_money', provider, 'credits_100', '--operator', 'ops_test']);
    assert.strictEqual(co.code, 0, co.stderr);
    const m = /^order (\S+): credits_100 for user rs_cli_money, (.+) through (\w+), pending until /m.exec(co.stdout);
    assert.ok(m, co.stdout);
    assert.deepStrictEqual([m[2], m[3]], [text, provider]);
    const show = await D.tally(env, ['orders', 'show', m[1]]);
    assert.strictEqual(show.code, 0, show.stderr);
    assert.ok(show.stdout.includes(`product credits_100, ${text} through ${provider}`), show.stdout);
    // The order's audit row says the same.
    const audit = env.sql(`SELECT detail FROM audit WHERE object = 'order:${m[1]}' AND action = 'order.create'`);
    assert.deepStrictEqual(audit.map((x) => x.detail), [`credits_100 for ${text} through ${provider}, pending`]);
    // The machine interface keeps integer minor units and the code.
    const j = JSON.parse((await D.tally(env, ['orders', 'show', m[1], '--json'])).stdout);
    assert.deepStrictEqual([j.amount, j.currency], [minor, currency]);
  }
});

run({
  before: async () => {
    cb = await new FakeCryptoPay({ token: CB_TOKEN }).start();
    rzp = await new FakeRazorpay({ keyId: RZP_KEY_ID, keySecret: RZP_KEY_SECRET, webhookSecret: RZP_SECRET }).start();
    tg = await new FakeTelegram({ token: TG_TOKEN }).start();
    stripe = await new FakeStripe({ key: STRIPE_KEY }).start();
    const cfg = D.catalog({
      cryptobot: { api_base: cb.url, tolerance: '5m' },
      razorpay: { key_id: RZP_KEY_ID, api_base: rzp.url, test_mode: true },
      telegram: { api_base: tg.url },
      stripe: { test_mode: true, api_base: stripe.url },
      checkout: { success_url: 'https://app.example.com/paid', cancel_url: 'https://app.example.com/cancel' },
    });
    cfg.products.inr_pack = { kind: 'pack', credits: 10, prices: { INR: 49900 } };
    cfg.products.credits_500 = { kind: 'pack', credits: 500, match: { stripe: ['price_credits_500'] } };
    cfg.products.pro_stripe = { kind: 'subscription', entitlements: ['pro'], credits: 1000, match: { stripe: ['price_pro_monthly'] } };
    return startApi({
      config: cfg,
      handlers: ['api', 'stripe', 'cryptobot', 'razorpay', 'telegram'],
      env: {
        CRYPTOBOT_TOKEN: CB_TOKEN, RAZORPAY_WEBHOOK_SECRET: RZP_SECRET, RAZORPAY_KEY_SECRET: RZP_KEY_SECRET,
        TELEGRAM_BOT_TOKEN: TG_TOKEN, TELEGRAM_WEBHOOK_SECRET: TG_SECRET, TELEGRAM_PROVIDER_TOKEN: 'prov_test_token',
        STRIPE_API_KEY: STRIPE_KEY,
      },
    });
  },
  after: async (env, nfailed) => {
    await env.stop(nfailed > 0 && process.env.KEEP);
    await cb.close();
    await rzp.close();
    await tg.close();
    await stripe.stop();
  },
});
