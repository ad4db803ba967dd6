'use strict';
// POST /v1/users/{id}/checkout against a fake Stripe API: a Checkout Session
// for a catalog product (the catalog's price, the user as
// client_reference_id and metadata), the customer portal for a linked
// customer, and Stripe's errors as clear 502/503 answers with nothing made.
const { test, run, assert } = require('../lib/t');
const { startApi, apiCatalog } = require('../lib/api');
const { FakeStripe } = require('../fakes/stripe');

const KEY = 'sk_test_fake_0123456789';
let fake;

test('a subscription checkout: the catalog price, the user in client_reference_id and metadata', async (env) => {
  await env.api('POST', '/v1/users/u_co');
  const r = await env.api('POST', '/v1/users/u_co/checkout', { provider: 'stripe', product: 'pro_monthly' });
  assert.strictEqual(r.status, 200, r.text);
  assert.match(r.json.url, /^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
  assert.match(r.json.id, /^cs_test_/);
  const f = fake.requests[fake.requests.length - 1].form;
  assert.strictEqual(f.mode, 'subscription');
  assert.strictEqual(f['line_items[0][price]'], 'price_pro_monthly');
  assert.strictEqual(f['line_items[0][quantity]'], '1');
  assert.strictEqual(f.client_reference_id, 'u_co');
  assert.strictEqual(f['metadata[user_id]'], 'u_co');
  assert.strictEqual(f['metadata[product]'], 'pro_monthly');
  assert.strictEqual(f['subscription_data[metadata][user_id]'], 'u_co');
  assert.strictEqual(f.success_url, 'https://app.example.com/paid');
  assert.strictEqual(f.customer, undefined);
});

test('a pack checkout is mode payment; a linked customer is reused; the portal needs one', async (env) => {
  const noPortal = await env.api('POST', '/v1/users/u_co/checkout', { provider: 'stripe', portal: true });
  assert.strictEqual(noPortal.status, 409);
  assert.strictEqual(noPortal.json.error.code, 'no_customer');
  await env.api('POST', '/v1/users/u_co/links', { provider: 'stripe', kind: 'customer', id: 'cus_linked1' });
  const r = await env.api('POST', '/v1/users/u_co/checkout', { provider: 'stripe', product: 'credits_500' });
  assert.strictEqual(r.status, 200, r.text);
  const f = fake.requests[fake.requests.length - 1].form;
  assert.strictEqual(f.mode, 'payment');
  assert.strictEqual(f['line_items[0][price]'], 'price_credits_500');
  assert.strictEqual(f['payment_intent_data[metadata][user_id]'], 'u_co');
  assert.strictEqual(f.customer, 'cus_linked1');
  const p = await env.api('POST', '/v1/users/u_co/checkout', { provider: 'stripe', portal: true });
  assert.strictEqual(p.status, 200, p.text);
  assert.match(p.json.url, /^https:\/\/billing\.stripe\.com\//);
  assert.strictEqual(fake.requests[fake.requests.length - 1].form.return_url, 'https://app.example.com/account');
});

test('Stripe down, refusing or rate limiting: 502 with why, nothing stored; a retry succeeds', async (env) => {
  const before = env.counts();
  fake.failures.push({ status: 500 });
  const down = await env.api('POST', '/v1/users/u_co/checkout', { provider: 'stripe', product: 'pro_monthly' });
  assert.strictEqual(down.status, 502);
  assert.strictEqual(down.json.error.code, 'provider_unavailable');
  fake.failures.push({ status: 400, message: 'No such price: price_pro_monthly' });
  const refused = await env.api('POST', '/v1/users/u_co/checkout', { provider: 'stripe', product: 'pro_monthly' });
  assert.strictEqual(refused.status, 502);
  assert.strictEqual(refused.json.error.code, 'provider_refused');
  assert.match(refused.json.error.message, /No such price/);
  fake.failures.push({ status: 429 });
  assert.strictEqual((await env.api('POST', '/v1/users/u_co/checkout', { provider: 'stripe', product: 'pro_monthly' })).json.error.code, 'provider_unavailable');
  fake.failures.push({ status: 200, body: 'not json' });
  assert.strictEqual((await env.api('POST', '/v1/users/u_co/checkout', { provider: 'stripe', product: 'pro_monthly' })).status, 502);
  fake.delayMs = 1500;
  const slow = await env.api('POST', '/v1/users/u_co/checkout', { provider: 'stripe', product: 'pro_monthly' });
  fake.delayMs = 0;
  assert.strictEqual(slow.status, 502);
  assert.match(slow.json.error.message, /did not answer/);
  assert.deepStrictEqual(env.counts(), before);
  const ok = await env.api('POST', '/v1/users/u_co/checkout', { provider: 'stripe', product: 'pro_monthly' });
  assert.strictEqual(ok.status, 200);
});

test('bad checkout requests: unknown product, unknown user, no provider, unknown provider', async (env) => {
  assert.strictEqual((await env.api('POST', '/v1/users/u_co/checkout', { provider: 'stripe', product: 'nope' })).json.error.code, 'unknown_product');
  assert.strictEqual((await env.api('POST', '/v1/users/u_nobody/checkout', { provider: 'stripe', product: 'pro_monthly' })).status, 404);
  assert.strictEqual((await env.api('POST', '/v1/users/u_co/checkout', { product: 'pro_monthly' })).status, 400);
  assert.strictEqual((await env.api('POST', '/v1/users/u_co/checkout', { provider: 'paypal', product: 'pro_monthly' })).status, 400);
  assert.strictEqual((await env.api('POST', '/v1/users/u_co/checkout', { provider: 'stripe', product: 'pro_monthly' }, env.keys.spend)).status, 403);
});

test('without STRIPE_API_KEY a checkout is 503 not_configured', async () => {
  const cfg = apiCatalog({ checkout: { success_url: 'https://app.example.com/paid', cancel_url: 'https://app.example.com/cancel' } });
  cfg.stripe.api_base = fake.url;
  const env = await startApi({ config: cfg });
  try {
    await env.api('POST', '/v1/users/u_nokey');
    const r = await env.api('POST', '/v1/users/u_nokey/checkout', { provider: 'stripe', product: 'pro_monthly' });
    assert.strictEqual(r.status, 503);
    assert.strictEqual(r.json.error.code, 'not_configured');
  } finally {
    await env.stop();
  }
});

run({
  before: async () => {
    fake = await new FakeStripe({ key: KEY }).start();
    const cfg = apiCatalog({
      checkout: { success_url: 'https://app.example.com/paid', cancel_url: 'https://app.example.com/cancel', portal_return_url: 'https://app.example.com/account' },
      http: { timeout: '1s', connect_timeout: '1s' },
    });
    cfg.stripe.api_base = fake.url;
    return startApi({ config: cfg, env: { STRIPE_API_KEY: KEY } });
  },
  after: async (env, failed) => {
    await fake.stop();
    await env.stop(failed > 0 && process.env.KEEP);
  },
});
