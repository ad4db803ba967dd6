'use strict';
// The API's checkout through the direct providers (Razorpay against its fake)
// and referral rewards: the referrer earns a percentage of the credits a
// referred user's purchase grants, by level, up to a cap, once per (buyer,
// payment), taken back with a refund, never blocking the purchase; two
// referred users' first purchases at once count both.
const crypto = require('crypto');
const { test, run, assert } = require('../lib/t');
const { startApi } = require('../lib/api');
const D = require('../lib/direct');
const S = require('../lib/stripe-events');
const { FakeRazorpay, post } = require('../fakes/razorpay');

const KEY_ID = 'rzp_test_ApiDirect0001';
const KEY_SECRET = `ks_${crypto.randomBytes(12).toString('hex')}`;
const SECRET = `whsec_${crypto.randomBytes(12).toString('hex')}`;
let fake;

const bal = (env, u) => env.user(u).balance.available;

async function buy(env, user, product = 'credits_100') {
  const co = await env.api('POST', `/v1/users/${user}/checkout`, { provider: 'razorpay', product });
  assert.strictEqual(co.status, 200, co.text);
  return co.json;
}

test('checkout through Razorpay from the API: tally\'s order, Razorpay\'s order, paid by the webhook', async (env) => {
  await env.api('POST', '/v1/users/d_ann');
  const co = await buy(env, 'd_ann');
  assert.match(co.order_id, /^ord_[0-9a-f]{24}$/);
  assert.strictEqual(co.amount, 49900);
  assert.strictEqual(co.currency, 'INR');
  assert.strictEqual(co.key_id, KEY_ID);
  assert.match(co.provider_ref, /^order_/);
  const o = D.order(env, co.order_id);
  assert.deepStrictEqual([o.state, o.user_id, o.provider_ref], ['pending', 'd_ann', co.provider_ref]);
  const payment = fake.pay(co.provider_ref);
  const r = await post(env, fake, fake.paymentCaptured(payment));
  assert.strictEqual(r.json.state, 'applied', r.text);
  assert.strictEqual(bal(env, 'd_ann'), 100);
  assert.strictEqual((await env.api('POST', '/v1/users/d_nobody/checkout', { provider: 'razorpay', product: 'credits_100' })).status, 404);
  assert.strictEqual((await env.api('POST', '/v1/users/d_ann/checkout', { provider: 'razorpay', product: 'free_only' })).status, 400);
});

test('the Checkout callback from the API: verified with Razorpay, applied once, refusals with their status', async (env) => {
  await env.api('POST', '/v1/users/d_cb');
  await env.api('POST', '/v1/users/d_other');
  const co = await buy(env, 'd_cb');
  const payment = fake.pay(co.provider_ref);
  const sig = fake.checkoutSignature({ orderId: co.provider_ref, paymentId: payment.id });
  const body = { provider: 'razorpay', razorpay_order_id: co.provider_ref, razorpay_payment_id: payment.id, razorpay_signature: sig };
  const bad = await env.api('POST', '/v1/users/d_cb/checkout/verify', { ...body, razorpay_signature: '0'.repeat(64) });
  assert.strictEqual(bad.status, 401, bad.text);
  const theirs = await env.api('POST', '/v1/users/d_other/checkout/verify', body);
  assert.strictEqual(theirs.status, 403, theirs.text);
  assert.strictEqual(bal(env, 'd_cb'), 0);
  const r = await env.api('POST', '/v1/users/d_cb/checkout/verify', body);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.balance.available, 100);
  const again = await env.api('POST', '/v1/users/d_cb/checkout/verify', body);
  assert.strictEqual(again.status, 200);
  await post(env, fake, fake.paymentCaptured(payment));
  assert.strictEqual(bal(env, 'd_cb'), 100, 'callback, callback again, webhook: one grant');
  assert.strictEqual((await env.api('POST', '/v1/users/d_cb/checkout/verify', { provider: 'stripe' })).status, 400);
});

test('referral: the referrer earns its level\'s percentage of each referred purchase\'s credits', async (env) => {
  await env.api('POST', '/v1/users/ref_a');
  for (const u of ['ref_b1', 'ref_b2', 'ref_b3']) {
    await env.api('POST', `/v1/users/${u}`);
    assert.strictEqual((await env.api('POST', `/v1/users/${u}/referrer`, { referrer: 'ref_a' })).status, 200);
  }
  // First paying referral: level 0 (10 %) of a 100-credit pack.
  const c1 = await buy(env, 'ref_b1');
  await post(env, fake, fake.paymentCaptured(fake.pay(c1.provider_ref)));
  assert.strictEqual(bal(env, 'ref_a'), 10);
  // A second purchase of the same buyer: the level still counts one paying referral.
  const c2 = await buy(env, 'ref_b1');
  await post(env, fake, fake.paymentCaptured(fake.pay(c2.provider_ref)));
  assert.strictEqual(bal(env, 'ref_a'), 20);
  // The second paying referral reaches level 2 (25 %).
  const c3 = await buy(env, 'ref_b2');
  await post(env, fake, fake.paymentCaptured(fake.pay(c3.provider_ref)));
  assert.strictEqual(bal(env, 'ref_a'), 45);
  // A Stripe purchase of a referred user counts too.
  await env.stripe(S.event('checkout.session.completed', S.checkoutSession({ mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: 'ref_b3', metadata: { product: 'credits_500' }, amountTotal: 500 })));
  assert.strictEqual(bal(env, 'ref_a'), 45 + 125, 'level 3 paying referrals: 25 % of 500');
  const rows = env.sql("SELECT buyer_id, percent, credits FROM referral_rewards WHERE referrer_id = 'ref_a' ORDER BY created_at, credits");
  assert.deepStrictEqual(rows.map((r) => r.credits).sort((x, y) => x - y), [10, 10, 25, 125]);
  assert.ok(env.verify().ok);
});

test('referral: the cap stops the rewards, never the purchase; a refund takes the reward back', async () => {
  const cfg = { stripe: { test_mode: true }, referrals: { levels: [{ referrals: 0, percent: 10 }], cap: 120 },
    products: { credits_500: { kind: 'pack', credits: 500, match: { stripe: ['price_credits_500'] } } } };
  const env = await startApi({ config: cfg });
  try {
    await env.api('POST', '/v1/users/cap_a');
    await env.api('POST', '/v1/users/cap_b');
    await env.api('POST', '/v1/users/cap_b/referrer', { referrer: 'cap_a' });
    const pis = [];
    for (let i = 0; i < 4; i++) {
      const pi = S.rid('pi');
      pis.push(pi);
      const r = await env.stripe(S.event('checkout.session.completed', S.checkoutSession({ mode: 'payment', paymentIntent: pi, clientReferenceId: 'cap_b', metadata: { product: 'credits_500' }, amountTotal: 500 })));
      assert.strictEqual(r.json.state, 'applied', r.text);
    }
    assert.strictEqual(bal(env, 'cap_b'), 2000, 'every purchase granted');
    assert.strictEqual(bal(env, 'cap_a'), 120, 'cap 120: 50 + 50 + 20 + 0');
    assert.deepStrictEqual(env.sql("SELECT credits FROM referral_rewards WHERE referrer_id = 'cap_a' ORDER BY credits DESC").map((r) => r.credits), [50, 50, 20, 0]);
    await env.stripe(S.event('charge.refunded', S.charge({ amount: 500, paymentIntent: pis[0] })));
    assert.strictEqual(bal(env, 'cap_b'), 1500);
    assert.strictEqual(bal(env, 'cap_a'), 70, 'the refunded purchase\'s reward taken back');
    assert.ok(env.verify().ok);
  } finally {
    await env.stop();
  }
});

test('referral: two referred users\' first purchases at once both count, each rewarded once', async (env) => {
  await env.api('POST', '/v1/users/con_a');
  for (const u of ['con_b', 'con_c']) {
    await env.api('POST', `/v1/users/${u}`);
    await env.api('POST', `/v1/users/${u}/referrer`, { referrer: 'con_a' });
  }
  const [b, c] = await Promise.all([buy(env, 'con_b'), buy(env, 'con_c')]);
  const [pb, pc] = [fake.pay(b.provider_ref), fake.pay(c.provider_ref)];
  const sent = await Promise.all([post(env, fake, fake.paymentCaptured(pb)), post(env, fake, fake.paymentCaptured(pc)),
    post(env, fake, fake.orderPaid(b.provider_ref, pb)), post(env, fake, fake.orderPaid(c.provider_ref, pc))]);
  assert.ok(sent.every((r) => r.status === 200));
  const rows = env.sql("SELECT buyer_id, percent, credits FROM referral_rewards WHERE referrer_id = 'con_a' ORDER BY percent");
  assert.deepStrictEqual(rows.map((r) => [r.percent, r.credits]), [[10, 10], [25, 25]], 'the first is level 0, the second level 2');
  assert.strictEqual(bal(env, 'con_a'), 35);
});

run({
  before: async () => {
    fake = await new FakeRazorpay({ keyId: KEY_ID, keySecret: KEY_SECRET, webhookSecret: SECRET }).start();
    const cfg = D.catalog({
      razorpay: { key_id: KEY_ID, api_base: fake.url, test_mode: true },
      referrals: { levels: [{ referrals: 0, percent: 10 }, { referrals: 2, percent: 25 }], cap: 0 },
    });
    cfg.stripe = { test_mode: true };
    cfg.products.credits_500 = { kind: 'pack', credits: 500, match: { stripe: ['price_credits_500'] } };
    const env = await startApi({ config: cfg, handlers: ['api', 'stripe', 'razorpay'], env: { RAZORPAY_WEBHOOK_SECRET: SECRET, RAZORPAY_KEY_SECRET: KEY_SECRET } });
    return env;
  },
  after: async (env, failed) => {
    await env.stop(failed > 0 && process.env.KEEP);
    await fake.close();
  },
});
