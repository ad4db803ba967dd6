'use strict';
// The app-facing API on users, through nginx: registration and the free tier,
// spending (atomic, idempotent, never below zero, 100 at once), the trial,
// promotions, links that replay orphans, the referrer, plans bought from the
// balance, and the free tier under and after a paid plan.
const { test, run, assert } = require('../lib/t');
const { startApi } = require('../lib/api');
const S = require('../lib/stripe-events');

const bal = (env, u) => env.user(u).balance.available;
const ents = (env, u) => env.user(u).entitlements.map((e) => e.name).sort();

async function register(env, u) {
  const r = await env.api('POST', `/v1/users/${u}`);
  assert.strictEqual(r.status, 200, r.text);
  return r.json;
}

async function grant(env, u, credits) {
  const r = await env.api('POST', `/v1/users/${u}/promotions`, { credits, reason: 'test balance' });
  assert.strictEqual(r.status, 200, r.text);
}

test('registration applies the free tier once: signup credits, the allowance, free entitlements', async (env) => {
  const doc = await register(env, 'u_reg');
  assert.strictEqual(doc.balance.available, 70);
  assert.deepStrictEqual(doc.entitlements.map((e) => e.name), ['basic']);
  const allowance = doc.balance.grants.find((g) => g.expires_at);
  assert.strictEqual(allowance.granted, 20);
  const again = await register(env, 'u_reg');
  assert.strictEqual(again.balance.available, 70, 'registering twice grants nothing twice');
  assert.strictEqual(env.sql("SELECT count(*) AS n FROM inbox WHERE event_id = 'register:u_reg'")[0].n, 1);
  assert.strictEqual((await env.api('GET', '/v1/users/u_never')).status, 404);
});

test('spend: draws the balance, the same key answers the same, another request under it is 409', async (env) => {
  await register(env, 'u_spend');
  const r1 = await env.api('POST', '/v1/users/u_spend/spend', { amount: 30, idempotency_key: 'k1', reason: 'chat' });
  assert.strictEqual(r1.status, 200, r1.text);
  assert.deepStrictEqual(r1.json, { ok: true, spent: 30, balance: 40 });
  const r2 = await env.api('POST', '/v1/users/u_spend/spend', { amount: 30, idempotency_key: 'k1', reason: 'chat' });
  assert.strictEqual(r2.status, 200);
  assert.deepStrictEqual(r2.json, r1.json, 'the first answer again');
  assert.strictEqual(bal(env, 'u_spend'), 40);
  const r3 = await env.api('POST', '/v1/users/u_spend/spend', { amount: 31, idempotency_key: 'k1', reason: 'chat' });
  assert.strictEqual(r3.status, 409);
  assert.strictEqual(r3.json.error.code, 'idempotency_conflict');
  assert.strictEqual(bal(env, 'u_spend'), 40);
  // The allowance (expiring) is spent before the signup credits (never expiring).
  const grants = env.user('u_spend').balance.grants;
  assert.deepStrictEqual(grants.map((g) => [g.source, g.remaining, g.expires_at]), [['free', 40, null]]);
});

test('spend past the balance is 402 with the balance, draws nothing, and answers the same again', async (env) => {
  await register(env, 'u_short');
  const before = env.sql("SELECT count(*) AS n FROM ledger WHERE user_id = 'u_short'")[0].n;
  const r = await env.api('POST', '/v1/users/u_short/spend', { amount: 71, idempotency_key: 'big' });
  assert.strictEqual(r.status, 402, r.text);
  assert.strictEqual(r.json.error.code, 'insufficient_credits');
  assert.strictEqual(r.json.balance, 70);
  assert.strictEqual(env.sql("SELECT count(*) AS n FROM ledger WHERE user_id = 'u_short'")[0].n, before);
  await grant(env, 'u_short', 100);
  const again = await env.api('POST', '/v1/users/u_short/spend', { amount: 71, idempotency_key: 'big' });
  assert.strictEqual(again.status, 402, 'a key answers as it first did');
  const fresh = await env.api('POST', '/v1/users/u_short/spend', { amount: 71, idempotency_key: 'big2' });
  assert.strictEqual(fresh.status, 200);
  assert.strictEqual(fresh.json.balance, 99);
});

test('spend refusals: unknown user 404 (no trace), malformed bodies 400', async (env) => {
  const before = env.counts();
  const u = await env.api('POST', '/v1/users/u_ghost/spend', { amount: 1, idempotency_key: 'g' });
  assert.strictEqual(u.status, 404, u.text);
  assert.strictEqual(u.json.error.code, 'unknown_user');
  assert.deepStrictEqual(env.counts(), before);
  await register(env, 'u_bad');
  const after = env.counts();
  for (const body of [{}, { amount: 1 }, { idempotency_key: 'x' }, { amount: 0, idempotency_key: 'x' },
    { amount: -5, idempotency_key: 'x' }, { amount: 1.5, idempotency_key: 'x' }, { amount: '5', idempotency_key: 'x' },
    { amount: 1e12, idempotency_key: 'x' }, { amount: 1, idempotency_key: '' }, { amount: 1, idempotency_key: 'x'.repeat(200) },
    { amount: 1, idempotency_key: 5 }]) {
    const r = await env.api('POST', '/v1/users/u_bad/spend', body);
    assert.strictEqual(r.status, 400, JSON.stringify(body));
  }
  for (const raw of ['not json', '[1,2]', '{"amount":1,"amount":2,"idempotency_key":"d"}', `{"a":${'['.repeat(40)}${']'.repeat(40)}}`]) {
    const r = await env.api('POST', '/v1/users/u_bad/spend', raw);
    assert.strictEqual(r.status, 400, raw.slice(0, 30));
  }
  const big = await env.api('POST', '/v1/users/u_bad/spend', JSON.stringify({ amount: 1, idempotency_key: 'x', reason: 'r'.repeat(20000) }));
  assert.strictEqual(big.status, 413);
  assert.deepStrictEqual(env.counts(), after);
});

test('100 concurrent spends on one balance: never below zero, each success in the ledger once', async (env) => {
  await register(env, 'u_race');
  await grant(env, 'u_race', 930); // 1000 in all
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) =>
    env.api('POST', '/v1/users/u_race/spend', { amount: 15, idempotency_key: `race-${i}` })));
  const okN = results.filter((r) => r.status === 200).length;
  const short = results.filter((r) => r.status === 402).length;
  assert.strictEqual(okN + short, 100, results.map((r) => r.status).join(','));
  assert.strictEqual(okN, 66);
  assert.strictEqual(bal(env, 'u_race'), 10);
  // One spend may draw from two grants (two entries of one event): count events.
  const spent = env.sql("SELECT count(DISTINCT inbox_id) AS n, -sum(amount) AS s FROM ledger WHERE user_id = 'u_race' AND kind = 'spend'")[0];
  assert.deepStrictEqual(spent, { n: 66, s: 990 });
  assert.ok(results.every((r) => r.status !== 200 || r.json.balance >= 0));
  // The same 100 again: the same answers, nothing spent twice.
  const again = await Promise.all(Array.from({ length: 100 }, (_, i) =>
    env.api('POST', '/v1/users/u_race/spend', { amount: 15, idempotency_key: `race-${i}` })));
  assert.deepStrictEqual(again.map((r) => r.status), results.map((r) => r.status));
  assert.strictEqual(bal(env, 'u_race'), 10);
  assert.ok(env.verify().ok);
});

test('the trial: once per user, trial credits and the plan entitlement; a second is 409', async (env) => {
  await register(env, 'u_trial');
  const t = await env.api('POST', '/v1/users/u_trial/trial');
  assert.strictEqual(t.status, 200, t.text);
  const sub = t.json.subscriptions.find((s) => s.provider === 'app');
  assert.strictEqual(sub.state, 'trialing');
  assert.ok(Date.parse(sub.trial_end) - Date.now() > 6.9 * 86400e3);
  assert.deepStrictEqual(ents(env, 'u_trial'), ['basic', 'pro']);
  assert.strictEqual(bal(env, 'u_trial'), 150, 'signup 50 kept, the allowance replaced by 100 trial credits');
  const again = await env.api('POST', '/v1/users/u_trial/trial');
  assert.strictEqual(again.status, 409);
  assert.strictEqual(again.json.error.code, 'trial_used');
  assert.strictEqual((await env.api('POST', '/v1/users/u_nobody/trial')).status, 404);
});

test('a paid plan converts the trial: the trial ends, the plan grants, free entitlements stay', async (env) => {
  await register(env, 'u_conv');
  await env.api('POST', '/v1/users/u_conv/trial');
  const cus = S.rid('cus');
  const sub = S.rid('sub');
  const inv = S.rid('in');
  await env.stripe(S.event('checkout.session.completed', S.checkoutSession({ mode: 'subscription', customer: cus, subscription: sub, clientReferenceId: 'u_conv', invoice: inv })));
  await env.stripe(S.event('customer.subscription.created', S.subscription({ id: sub, customer: cus, price: 'price_pro_monthly' })));
  const r = await env.stripe(S.event('invoice.paid', S.invoice({ id: inv, customer: cus, subscription: sub, price: 'price_pro_monthly', paymentIntent: S.rid('pi') })));
  assert.strictEqual(r.json.state, 'applied', r.json.reason);
  const doc = env.user('u_conv');
  assert.strictEqual(doc.subscriptions.find((s) => s.provider === 'app').state, 'expired');
  assert.strictEqual(doc.subscriptions.find((s) => s.provider === 'stripe').state, 'active');
  assert.strictEqual(doc.balance.available, 1050, 'signup 50 + plan 1000; trial credits gone');
  assert.deepStrictEqual(ents(env, 'u_conv'), ['basic', 'pro']);
});

test('the free tier under a paid plan and after it: the plan ends, the free tier stays', async (env) => {
  await register(env, 'u_back');
  const cus = S.rid('cus');
  const sub = S.rid('sub');
  await env.stripe(S.event('customer.subscription.created', S.subscription({ id: sub, customer: cus, price: 'price_pro_monthly', metadata: { user_id: 'u_back' } })));
  await env.stripe(S.event('invoice.paid', S.invoice({ id: S.rid('in'), customer: cus, subscription: sub, price: 'price_pro_monthly', subMetadata: { user_id: 'u_back' }, paymentIntent: S.rid('pi') })));
  assert.deepStrictEqual(ents(env, 'u_back'), ['basic', 'pro']);
  assert.strictEqual(bal(env, 'u_back'), 1050, 'the allowance gives way to the plan');
  await env.stripe(S.event('customer.subscription.deleted', S.subscription({ id: sub, customer: cus, price: 'price_pro_monthly', status: 'canceled', endedAt: S.nowS() }), { created: S.nowS() + 1 }));
  assert.deepStrictEqual(ents(env, 'u_back'), ['basic'], 'back to the free tier, never to nothing');
  assert.strictEqual(bal(env, 'u_back'), 50, 'the signup credits remain');
});

test('promotions: credits with an expiry and an entitlement for a period; bad requests 400', async (env) => {
  await register(env, 'u_promo');
  const exp = new Date(Date.now() + 10 * 86400e3).toISOString();
  const c = await env.api('POST', '/v1/users/u_promo/promotions', { credits: 25, expires_at: exp, reason: 'launch' });
  assert.strictEqual(c.status, 200, c.text);
  const g = c.json.balance.grants.find((x) => x.source === 'promo');
  assert.strictEqual(g.granted, 25);
  assert.strictEqual(Date.parse(g.expires_at), Date.parse(exp));
  const e = await env.api('POST', '/v1/users/u_promo/promotions', { entitlement: 'pro', ends_at: exp, reason: 'influencer' });
  assert.strictEqual(e.status, 200, e.text);
  const pro = e.json.entitlements.find((x) => x.name === 'pro');
  assert.match(pro.source, /^promo:/);
  assert.strictEqual(Date.parse(pro.ends_at), Date.parse(exp));
  const audit = env.sql("SELECT action, reason FROM audit WHERE user_id = 'u_promo' AND (action = 'entitlement.grant' OR action = 'credits.grant') ORDER BY id");
  assert.ok(audit.some((a) => a.action === 'entitlement.grant' && a.reason === 'influencer'));
  for (const body of [{ credits: 5 }, { entitlement: 'pro', credits: 5, reason: 'x' }, { reason: 'x' },
    { credits: 5, reason: 'x', expires_at: '2001-01-01T00:00:00Z' }, { entitlement: 'pro', reason: 'x', ends_at: 'soon' }]) {
    const r = await env.api('POST', '/v1/users/u_promo/promotions', body);
    assert.strictEqual(r.status, 400, JSON.stringify(body));
  }
});

test('links attach a provider id and apply the orphaned events waiting for it', async (env) => {
  await register(env, 'u_link');
  const cus = S.rid('cus');
  const orphan = await env.stripe(S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', customer: cus, paymentIntent: S.rid('pi'), metadata: { product: 'credits_500' }, amountTotal: 500,
  })));
  assert.strictEqual(orphan.json.state, 'orphaned', orphan.text);
  const r = await env.api('POST', '/v1/users/u_link/links', { provider: 'stripe', kind: 'customer', id: cus });
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(env.sql(`SELECT state FROM inbox WHERE id = ${orphan.json.inbox_id}`)[0].state, 'applied');
  assert.strictEqual(bal(env, 'u_link'), 570);
  const taken = await env.api('POST', '/v1/users/u_spend/links', { provider: 'stripe', kind: 'customer', id: cus });
  assert.strictEqual(taken.status, 409, 'a provider id belongs to one user');
  assert.strictEqual((await env.api('POST', '/v1/users/u_link/links', { provider: 'paypal', kind: 'x', id: 'y' })).status, 400);
});

test('the referrer: set once; self, loops, unknown and a second one refused; the same again is a retry', async (env) => {
  for (const u of ['r_a', 'r_b', 'r_c']) await register(env, u);
  assert.strictEqual((await env.api('POST', '/v1/users/r_b/referrer', { referrer: 'r_a' })).status, 200);
  assert.strictEqual((await env.api('POST', '/v1/users/r_b/referrer', { referrer: 'r_a' })).status, 200, 'a retry');
  const second = await env.api('POST', '/v1/users/r_b/referrer', { referrer: 'r_c' });
  assert.strictEqual(second.status, 409);
  assert.strictEqual(second.json.error.code, 'referrer_set');
  const self = await env.api('POST', '/v1/users/r_c/referrer', { referrer: 'r_c' });
  assert.strictEqual(self.status, 400);
  assert.strictEqual((await env.api('POST', '/v1/users/r_c/referrer', { referrer: 'r_b' })).status, 200);
  const loop = await env.api('POST', '/v1/users/r_a/referrer', { referrer: 'r_c' });
  assert.strictEqual(loop.status, 409);
  assert.strictEqual(loop.json.error.code, 'referral_loop');
  assert.strictEqual((await env.api('POST', '/v1/users/r_a/referrer', { referrer: 'r_nobody' })).status, 404);
  assert.deepStrictEqual(env.sql("SELECT id, referrer_id FROM users WHERE id LIKE 'r\\_%' ESCAPE '\\' ORDER BY id"),
    [{ id: 'r_a', referrer_id: null }, { id: 'r_b', referrer_id: 'r_a' }, { id: 'r_c', referrer_id: 'r_b' }]);
});

test('a plan bought from the balance: credits spent, access for its period, bought again it extends', async (env) => {
  await register(env, 'u_plan');
  await grant(env, 'u_plan', 1000);
  const r = await env.api('POST', '/v1/users/u_plan/plans', { product: 'plan_balance', idempotency_key: 'p1' });
  assert.strictEqual(r.status, 200, r.text);
  const s1 = r.json.subscriptions.find((s) => s.provider === 'balance');
  assert.strictEqual(s1.state, 'active');
  assert.strictEqual(bal(env, 'u_plan'), 670);
  assert.ok(ents(env, 'u_plan').includes('plus'));
  const retry = await env.api('POST', '/v1/users/u_plan/plans', { product: 'plan_balance', idempotency_key: 'p1' });
  assert.strictEqual(retry.status, 200);
  assert.strictEqual(bal(env, 'u_plan'), 670, 'a retry buys nothing twice');
  await env.api('POST', '/v1/users/u_plan/plans', { product: 'plan_balance', idempotency_key: 'p2' });
  const s2 = env.user('u_plan').subscriptions.find((s) => s.provider === 'balance');
  assert.strictEqual(s2.period_start, s1.period_end, 'the second period starts where the first ends');
  assert.strictEqual(bal(env, 'u_plan'), 270);
  const short = await env.api('POST', '/v1/users/u_plan/plans', { product: 'plan_balance', idempotency_key: 'p3' });
  assert.strictEqual(short.status, 402);
  assert.strictEqual((await env.api('POST', '/v1/users/u_plan/plans', { product: 'pro_monthly' })).status, 400);
});

test('verify is clean after everything above', async (env) => {
  const v = env.verify();
  assert.ok(v.ok, JSON.stringify(v.doc));
});

run({
  before: () => startApi(),
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
