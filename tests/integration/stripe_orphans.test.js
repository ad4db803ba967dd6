'use strict';
// Nothing authenticated is lost (invariant 1): events that cannot be finished
// (unknown product, unknown user, money that refers to a payment not yet seen)
// are stored with a reason and an alert, answered 200, and applied once the
// cause is fixed: automatically when a link or payment appears, or by replay.
const { test, run, assert } = require('../lib/t');
const { Env } = require('../lib/harness');
const S = require('../lib/stripe-events');

async function post(env, evt) {
  const r = await env.stripe(evt);
  assert.strictEqual(r.status, 200, `${evt.type}: ${r.status} ${r.text}`);
  return r.json;
}

function alerts(env, inboxId) {
  return env.sql(`SELECT topic, payload FROM outbox WHERE kind = 'alert' AND payload LIKE '%"inbox_id":${inboxId},%'`);
}

test('unknown product: stored with its reason, alerted, 200, nothing granted', async (env) => {
  const before = env.counts();
  const j = await post(env, S.event('invoice.paid', S.invoice({
    id: S.rid('in'), customer: S.rid('cus'), subscription: S.rid('sub'), price: 'price_not_in_catalog',
    subMetadata: { user_id: 'u_unknown_product' },
  })));
  assert.strictEqual(j.state, 'unknown_product');
  assert.match(j.reason, /price_not_in_catalog/);
  const after = env.counts();
  assert.strictEqual(after.inbox, before.inbox + 1);
  assert.strictEqual(after.grants, before.grants);
  assert.strictEqual(after.payments, before.payments);
  assert.strictEqual(after.subscriptions, before.subscriptions);
  assert.strictEqual(env.user('u_unknown_product'), null, 'effects of an unfinished event are rolled back');
  const a = alerts(env, j.inbox_id);
  assert.strictEqual(a.length, 1);
  assert.strictEqual(JSON.parse(a[0].payload).state, 'unknown_product');
  env.unknownProductInbox = j.inbox_id;
});

test('unknown product: replay after the catalog is fixed applies it', async (env) => {
  const id = env.unknownProductInbox;
  assert.ok(id, 'depends on the test before');
  // Still unknown: replay leaves it as it was.
  let r = env.tally(['events', 'replay', String(id), '--json']);
  assert.strictEqual(r.code, 1);
  assert.strictEqual(JSON.parse(r.stdout).state, 'unknown_product');
  // Fix the catalog, then replay.
  const cfg = JSON.parse(JSON.stringify(env.config));
  cfg.products.pro_monthly.match.stripe.push('price_not_in_catalog');
  env.writeConfig(cfg);
  r = env.tally(['events', 'replay', String(id), '--json', '--reason', 'catalog fixed']);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  assert.strictEqual(JSON.parse(r.stdout).state, 'applied');
  const doc = env.user('u_unknown_product');
  assert.strictEqual(doc.balance.available, 1000);
  assert.strictEqual(doc.subscriptions[0].product, 'pro_monthly');
  // Replaying again changes nothing.
  r = env.tally(['events', 'replay', String(id), '--json']);
  assert.strictEqual(r.code, 0);
  assert.strictEqual(JSON.parse(r.stdout).unchanged, true);
  assert.strictEqual(env.user('u_unknown_product').balance.available, 1000);
  assert.strictEqual(env.sql(`SELECT attempts FROM inbox WHERE id = ${id}`)[0].attempts, 3);
  // Each replay that ran is recorded with who and why, in its own transaction; the no-op is not.
  const audit = env.sql(`SELECT action, actor, detail, reason FROM audit WHERE inbox_id = ${id} AND action = 'event.replay' ORDER BY id`);
  assert.strictEqual(audit.length, 2, JSON.stringify(audit));
  assert.match(audit[0].detail, /^unknown_product -> unknown_product: .*price_not_in_catalog/);
  assert.strictEqual(audit[0].reason, '');
  assert.deepStrictEqual([audit[1].detail, audit[1].reason], ['unknown_product -> applied', 'catalog fixed']);
  assert.ok(audit.every((a) => a.actor.startsWith('operator:')), JSON.stringify(audit));
});

test('unknown user: kept as orphaned, applied the moment an operator links the customer', async (env) => {
  const cus = S.rid('cus');
  const j = await post(env, S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', customer: cus, paymentIntent: S.rid('pi'), metadata: { product: 'credits_500' },
  })));
  assert.strictEqual(j.state, 'orphaned');
  assert.match(j.reason, new RegExp(`unknown user.*${cus}`));
  assert.strictEqual(alerts(env, j.inbox_id).length, 1);
  const list = env.tallyJson(['events', 'list', '--state', 'orphaned']);
  const row = list.find((e) => e.inbox_id === j.inbox_id);
  assert.ok(row, 'listed among orphaned events');
  assert.deepStrictEqual(row.waiting_for, { kind: 'customer', id: cus });

  const mk = env.tally(['credits', 'grant', 'u_orphan_owner', '1', '--reason', 'x']);
  assert.strictEqual(mk.code, 1, 'unknown users get no credits from the CLI');
  // The user exists once any event names them.
  await post(env, S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: 'u_orphan_owner', metadata: { product: 'credits_500' },
  })));
  const r = env.tally(['links', 'add', 'u_orphan_owner', 'stripe', 'customer', cus, '--reason', 'support ticket 42', '--operator', 'alice']);
  assert.strictEqual(r.code, 0, r.stderr);
  const doc = env.user('u_orphan_owner');
  assert.strictEqual(doc.balance.available, 1000);
  assert.ok(doc.links.find((l) => l.id === cus));
  assert.strictEqual(env.sql(`SELECT state FROM inbox WHERE id = ${j.inbox_id}`)[0].state, 'applied');
  const audit = doc.audit.find((a) => a.action === 'link.add');
  assert.strictEqual(audit.actor, 'operator:alice');
  assert.strictEqual(audit.reason, 'support ticket 42');
});

test('unknown user: an event with nothing to find the user by fails with a reason, stored', async (env) => {
  const j = await post(env, S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), metadata: { product: 'credits_500' },
  })));
  assert.strictEqual(j.state, 'failed');
  assert.match(j.reason, /no user/);
  assert.strictEqual(alerts(env, j.inbox_id).length, 1);
});

test('a refund that arrives before its payment waits, then claws back', async (env) => {
  const pi = S.rid('pi');
  const user = 'u_refund_first';
  const j = await post(env, S.event('charge.refunded', S.charge({ paymentIntent: pi, amount: 500 })));
  assert.strictEqual(j.state, 'orphaned');
  await post(env, S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: pi, clientReferenceId: user, metadata: { product: 'credits_500' },
  })));
  assert.strictEqual(env.user(user).balance.available, 0);
  assert.strictEqual(env.sql(`SELECT state FROM inbox WHERE id = ${j.inbox_id}`)[0].state, 'applied');
  assert.strictEqual(env.sql(`SELECT state FROM payments WHERE user_id = '${user}'`)[0].state, 'refunded');
});

test('basil: the invoice payment seen before its invoice is attached when the invoice arrives', async (env) => {
  const user = 'u_alias_first';
  const inv = S.rid('in');
  const pi = S.rid('pi');
  const cus = S.rid('cus');
  const sub = S.rid('sub');
  const j = await post(env, S.event('invoice_payment.paid', S.invoicePayment({ invoice: inv, paymentIntent: pi })));
  assert.strictEqual(j.state, 'orphaned');
  await post(env, S.event('invoice.paid', S.invoice({ id: inv, customer: cus, subscription: sub, price: 'price_pro_monthly', subMetadata: { user_id: user } })));
  assert.strictEqual(env.sql(`SELECT state FROM inbox WHERE id = ${j.inbox_id}`)[0].state, 'applied');
  // Now a refund naming only the payment intent finds the subscription's payment.
  await post(env, S.event('charge.refunded', S.charge({ paymentIntent: pi, amount: 1000, customer: cus })));
  const doc = env.user(user);
  assert.strictEqual(doc.subscriptions[0].state, 'refunded');
  assert.strictEqual(doc.balance.available, 0);
});

test('a customer linked to one user cannot be claimed by another', async (env) => {
  const cus = S.rid('cus');
  await post(env, S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', customer: cus, paymentIntent: S.rid('pi'), clientReferenceId: 'u_owner', metadata: { product: 'credits_500' },
  })));
  const j = await post(env, S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', customer: cus, paymentIntent: S.rid('pi'), clientReferenceId: 'u_claimant', metadata: { product: 'credits_500' },
  })));
  assert.strictEqual(j.state, 'failed');
  assert.match(j.reason, /conflict/);
  assert.strictEqual(env.user('u_claimant'), null);
  assert.strictEqual(env.user('u_owner').balance.available, 500);
  assert.strictEqual(alerts(env, j.inbox_id).length, 1);
});

test('replay by state applies every event the fix resolves', async (env) => {
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const j = await post(env, S.event('checkout.session.completed', S.checkoutSession({
      mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: `u_bulk_${i}`, metadata: { product: 'price_bulk_pack' },
    })));
    assert.strictEqual(j.state, 'unknown_product');
    ids.push(j.inbox_id);
  }
  const cfg = JSON.parse(JSON.stringify(env.config));
  cfg.products.credits_500.match.stripe.push('price_bulk_pack');
  env.writeConfig(cfg);
  const r = env.tally(['events', 'replay', '--state', 'unknown_product']);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.match(r.stdout, /now applied/);
  for (let i = 0; i < 3; i++) assert.strictEqual(env.user(`u_bulk_${i}`).balance.available, 500);
  for (const id of ids) assert.strictEqual(env.sql(`SELECT state FROM inbox WHERE id = ${id}`)[0].state, 'applied');
});

test('verify is clean after orphans and replays', async (env) => {
  const v = env.verify();
  assert.ok(v.ok, JSON.stringify(v.doc));
});

run({
  before: () => Env.start(),
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});

