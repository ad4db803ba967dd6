'use strict';
// The operator's tools: rebuild (every stored event replayed into a fresh
// database equals the live one; a corrupted live row is reported), user
// history, subscription set, promotions, the outbox and the ledger export.
const { test, run, assert } = require('../lib/t');
const { startApi } = require('../lib/api');
const S = require('../lib/stripe-events');

async function ok(env, evt) {
  const r = await env.stripe(evt);
  assert.strictEqual(r.status, 200, r.text);
  return r.json;
}

// A mixed history: webhooks, the API, the operator.
async function history(env) {
  await env.api('POST', '/v1/users/h_a');
  await env.api('POST', '/v1/users/h_b');
  await env.api('POST', '/v1/users/h_b/referrer', { referrer: 'h_a' });
  const cus = S.rid('cus');
  const sub = S.rid('sub');
  const inv = S.rid('in');
  const pi = S.rid('pi');
  await ok(env, S.event('checkout.session.completed', S.checkoutSession({ mode: 'subscription', customer: cus, subscription: sub, clientReferenceId: 'h_b', invoice: inv })));
  await ok(env, S.event('customer.subscription.created', S.subscription({ id: sub, customer: cus, price: 'price_pro_monthly' })));
  await ok(env, S.event('invoice.paid', S.invoice({ id: inv, customer: cus, subscription: sub, price: 'price_pro_monthly', paymentIntent: pi })));
  const packPi = S.rid('pi');
  await ok(env, S.event('checkout.session.completed', S.checkoutSession({ mode: 'payment', paymentIntent: packPi, clientReferenceId: 'h_a', metadata: { product: 'credits_500' }, amountTotal: 500 })));
  await env.api('POST', '/v1/users/h_a/spend', { amount: 120, idempotency_key: 'x1', reason: 'use "quoted"' });
  await env.api('POST', '/v1/users/h_a/spend', { amount: 99999, idempotency_key: 'x2' });
  await env.api('POST', '/v1/users/h_a/trial');
  await env.api('POST', '/v1/users/h_a/plans', { product: 'plan_balance' });
  await env.api('POST', '/v1/users/h_a/promotions', { entitlement: 'vip', ends_at: new Date(Date.now() + 86400e3).toISOString(), reason: 'support' });
  await ok(env, S.event('charge.refunded', S.charge({ amount: 500, paymentIntent: packPi })));
  assert.strictEqual(env.tally(['credits', 'grant', 'h_b', '33', '--reason', 'sorry']).code, 0);
  assert.strictEqual(env.tally(['links', 'add', 'h_b', 'stripe', 'customer', 'cus_manual_1', '--reason', 'support']).code, 0);
  // An orphan, resolved later by a link.
  const cus2 = S.rid('cus');
  await ok(env, S.event('checkout.session.completed', S.checkoutSession({ mode: 'payment', customer: cus2, paymentIntent: S.rid('pi'), metadata: { product: 'credits_500' }, amountTotal: 500 })));
  await env.api('POST', '/v1/users/h_b/links', { provider: 'stripe', kind: 'customer', id: cus2 });
}

test('rebuild: every stored event replayed into a fresh database equals the live one', async (env) => {
  await history(env);
  const r = env.tally(['rebuild', '--json']);
  const doc = JSON.parse(r.stdout);
  assert.deepStrictEqual(doc.differences, [], JSON.stringify(doc.differences, null, 1));
  assert.strictEqual(doc.identical, true);
  assert.ok(doc.events >= 15, `${doc.events} events`);
  assert.strictEqual(r.code, 0);
  assert.ok(env.verify().ok);
});

test('rebuild reports a corrupted live row, on both sides, and exits 1', async (env) => {
  env.sql("UPDATE grants SET amount = amount + 7, remaining = remaining + 7 WHERE id = (SELECT max(id) FROM grants WHERE user_id = 'h_b')");
  env.sql("UPDATE subscriptions SET state = 'active' WHERE user_id = 'h_a' AND provider = 'app'");
  const r = env.tally(['rebuild', '--json']);
  assert.strictEqual(r.code, 1);
  const doc = JSON.parse(r.stdout);
  assert.strictEqual(doc.identical, false);
  const tables = doc.differences.map((d) => `${d.table}:${d.only_in}`).sort();
  assert.deepStrictEqual(tables, ['grants:live', 'grants:rebuilt', 'subscriptions:live', 'subscriptions:rebuilt']);
  const into = `${env.dir}/rebuilt.db`;
  assert.strictEqual(env.tally(['rebuild', '--into', into]).code, 1);
  assert.strictEqual(env.tally(['rebuild', '--into', into]).code, 1, 'an existing file is refused');
  assert.match(env.tally(['rebuild', '--into', into]).stderr, /exists/);
});

test('user history: events, ledger entries and audit rows in time order', async (env) => {
  const r = env.tallyJson(['user', 'history', 'h_a']);
  const kinds = new Set(r.map((x) => x.kind));
  assert.deepStrictEqual([...kinds].sort(), ['audit', 'event', 'ledger']);
  for (let i = 1; i < r.length; i++) assert.ok(Date.parse(r[i].at) >= Date.parse(r[i - 1].at));
  assert.ok(r.some((x) => x.kind === 'event' && /credits\.spend/.test(x.text)));
  assert.ok(r.some((x) => x.kind === 'ledger' && /spend/.test(x.text)));
  assert.strictEqual(env.tally(['user', 'history', 'nobody']).code, 1);
});

test('subscription set: an operator\'s state with a reason, audited; bad arguments refused', async (env) => {
  const sub = env.user('h_b').subscriptions.find((s) => s.provider === 'stripe');
  assert.strictEqual(env.tally(['subscription', 'set', String(sub.id), 'revoked']).code, 2, 'no reason');
  assert.strictEqual(env.tally(['subscription', 'set', String(sub.id), 'gone', '--reason', 'x']).code, 2);
  assert.strictEqual(env.tally(['subscription', 'set', '999999', 'revoked', '--reason', 'x']).code, 1);
  const r = env.tally(['subscription', 'set', String(sub.id), 'revoked', '--reason', 'fraud', '--operator', 'alice']);
  assert.strictEqual(r.code, 0, r.stderr);
  const after = env.user('h_b');
  assert.strictEqual(after.subscriptions.find((s) => s.id === sub.id).state, 'revoked');
  assert.ok(!after.entitlements.some((e) => e.name === 'pro'));
  const a = env.sql(`SELECT actor, reason FROM audit WHERE object = 'subscription:${sub.id}' AND action = 'subscription.update' ORDER BY id DESC LIMIT 1`)[0];
  assert.deepStrictEqual(a, { actor: 'operator:alice', reason: 'fraud' });
});

test('promo from the CLI: credits and an entitlement, with a reason', async (env) => {
  assert.strictEqual(env.tally(['promo', 'credits', 'h_b', '15']).code, 2);
  assert.strictEqual(env.tally(['promo', 'credits', 'h_b', '15', '--reason', 'beta tester']).code, 0);
  const until = new Date(Date.now() + 5 * 86400e3).toISOString();
  assert.strictEqual(env.tally(['promo', 'entitlement', 'h_b', 'team', '--until', until, '--reason', 'trial of team']).code, 0);
  const doc = env.user('h_b');
  assert.ok(doc.balance.grants.some((g) => g.source === 'promo' && g.granted === 15));
  assert.strictEqual(Date.parse(doc.entitlements.find((e) => e.name === 'team').ends_at), Date.parse(until));
  assert.strictEqual(env.tally(['promo', 'credits', 'nobody', '15', '--reason', 'x']).code, 1);
});

test('outbox list and retry of a dead delivery', async (env) => {
  const all = env.tallyJson(['outbox', 'list']);
  assert.ok(all.length > 0);
  const id = all[0].id;
  env.sql(`UPDATE outbox SET state = 'dead', attempts = 8, last_error = 'HTTP 500' WHERE id = ${id}`);
  const dead = env.tallyJson(['outbox', 'list', '--state', 'dead']);
  assert.deepStrictEqual(dead.map((d) => d.id), [id]);
  assert.strictEqual(dead[0].last_error, 'HTTP 500');
  assert.strictEqual(env.tally(['outbox', 'retry', String(id)]).code, 0);
  const row = env.sql(`SELECT state, attempts, last_error FROM outbox WHERE id = ${id}`)[0];
  assert.deepStrictEqual(row, { state: 'pending', attempts: 0, last_error: '' });
  assert.strictEqual(env.tally(['outbox', 'retry', String(id)]).code, 1, 'not dead any more');
  assert.strictEqual(env.tally(['outbox', 'list', '--state', 'lost']).code, 2);
});

test('export ledger: CSV of every entry since a time, quotes escaped', async (env) => {
  const r = env.tally(['export', 'ledger', '--since', '2000-01-01T00:00:00Z']);
  assert.strictEqual(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.strictEqual(lines[0], 'id,at,user_id,grant_id,amount,kind,actor,reason,inbox_id');
  assert.strictEqual(lines.length - 1, env.sql('SELECT count(*) AS n FROM ledger')[0].n);
  assert.ok(lines.some((l) => l.includes('"use ""quoted"""')));
  const future = env.tally(['export', 'ledger', '--since', '2999-01-01T00:00:00Z']);
  assert.strictEqual(future.stdout.trim().split('\n').length, 1);
  assert.strictEqual(env.tally(['export', 'ledger']).code, 2);
});

run({
  before: () => startApi(),
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
