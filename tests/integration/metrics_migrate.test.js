'use strict';
// Migration 7 on a database that already holds a history: a database written by tally's own
// handlers (subscriptions, a trial, a renewal, a full refund, a dispute, a partial refund, a
// pack, spends) is taken back to version 6 (the metrics' tables and triggers
// dropped, as a database of the version before holds none), then `tally migrate` fills them
// from what it holds, as docs/metrics.md ("How they are kept") says: payments and ledger
// entries exactly; each subscription as of its latest state; refunds, disputes and reversals
// from their audit rows (a partial refund without its amount). tally verify is clean after,
// and the figures the write path kept before equal those the migration made, where the
// history tells them.
const { test, run, assert } = require('../lib/t');
const { startApi } = require('../lib/api');
const S = require('../lib/stripe-events');

const DAY = 86400e3;
const sec = (ms) => Math.floor(ms / 1000);
const T = Math.floor(Date.now() / 1000) * 1000 - 40 * DAY;
const date = (day) => new Date(day * DAY).toISOString().slice(0, 10);
const FIRST = Math.floor(T / DAY) - 1;
const LAST = Math.floor(Date.now() / DAY) + 1;

async function send(env, type, object, t, o = {}) {
  const r = await env.stripe(S.event(type, object, { created: sec(t), livemode: true, version: S.PRE_BASIL, ...o }));
  assert.strictEqual(r.status, 200, `${type}: ${r.text}`);
  assert.strictEqual(r.json.state, 'applied', `${type}: ${r.json.reason}`);
}

// A subscription of user from t: its first invoice (amount 0: a trial), returned with its keys.
async function subscribe(env, user, t, { price = 'price_pro_monthly', amount = 1000, days = 30 } = {}) {
  const c = { cus: S.rid('cus'), sub: S.rid('sub'), pi: S.rid('pi'), ch: S.rid('ch') };
  const trial = amount === 0;
  await send(env, 'checkout.session.completed', S.checkoutSession({ mode: 'subscription', customer: c.cus, subscription: c.sub, clientReferenceId: user, livemode: true }), t);
  await send(env, 'customer.subscription.created', S.subscription({
    id: c.sub, customer: c.cus, price, status: trial ? 'trialing' : 'active', periodStart: sec(t), periodEnd: sec(t + days * DAY),
    livemode: true, version: S.PRE_BASIL, ...(trial ? { trialStart: sec(t), trialEnd: sec(t + days * DAY) } : {}),
  }), t);
  await send(env, 'invoice.paid', S.invoice({
    id: S.rid('in'), customer: c.cus, subscription: c.sub, price, amount, periodStart: sec(t), periodEnd: sec(t + days * DAY),
    paymentIntent: c.pi, charge: c.ch, livemode: true, version: S.PRE_BASIL,
  }), t);
  return c;
}

const metrics = (env) => {
  const r = env.tally(['metrics', '--from', date(FIRST), '--to', date(LAST), '--group', 'provider,product', '--json']);
  assert.strictEqual(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).rows;
};
const pick = (rows, cols) => rows.map((r) => Object.fromEntries(['start', 'provider', 'product', 'currency', ...cols].map((k) => [k, r[k]])))
  .filter((r) => cols.some((k) => r[k] !== 0));

test('a history written before version 7 is counted by migration 7; verify is clean', async (env) => {
  const a = await subscribe(env, 'mg_a', T);
  await subscribe(env, 'mg_trial', T + DAY, { amount: 0, days: 7 });
  const r = await subscribe(env, 'mg_refund', T + 2 * DAY);
  await send(env, 'charge.refunded', S.charge({ id: r.ch, paymentIntent: r.pi, amount: 1000, customer: r.cus, livemode: true, version: S.PRE_BASIL }), T + 5 * DAY);
  const d = await subscribe(env, 'mg_dispute', T + 3 * DAY, { price: 'price_team_monthly', amount: 5000 });
  await send(env, 'charge.dispute.created', S.dispute({ charge: d.ch, paymentIntent: d.pi, amount: 5000, livemode: true }), T + 6 * DAY);
  const p = await subscribe(env, 'mg_partial', T + 4 * DAY);
  await send(env, 'charge.refunded', S.charge({ id: p.ch, paymentIntent: p.pi, amount: 1000, amountRefunded: 250, refunded: false, customer: p.cus, livemode: true, version: S.PRE_BASIL }), T + 9 * DAY);
  await send(env, 'invoice.paid', S.invoice({
    id: S.rid('in'), customer: a.cus, subscription: a.sub, price: 'price_pro_monthly', amount: 1000, billingReason: 'subscription_cycle',
    periodStart: sec(T + 30 * DAY), periodEnd: sec(T + 60 * DAY), paymentIntent: S.rid('pi'), charge: S.rid('ch'), livemode: true, version: S.PRE_BASIL,
  }), T + 30 * DAY);
  await send(env, 'checkout.session.completed', S.checkoutSession({ mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: 'mg_pack', metadata: { product: 'credits_500' }, amountTotal: 500, livemode: true }), T + 10 * DAY);
  for (const [user, amount] of [['mg_a', 40], ['mg_pack', 120]]) {
    const s = await env.api('POST', `/v1/users/${user}/spend`, { amount, idempotency_key: `k${amount}` });
    assert.strictEqual(s.status, 200, s.text);
  }
  assert.ok(env.verify().ok);
  const before = metrics(env);

  // Back to version 6: what the metrics keep did not exist.
  env.sql(`DROP TRIGGER kpi_sub_history; DROP TRIGGER kpi_payment; DROP TRIGGER kpi_refund; DROP TRIGGER kpi_ledger;
    DROP TABLE kpi_daily; DROP TABLE kpi_levels; DROP TABLE sub_history; DROP TABLE kpi_subs; DROP TABLE refunds;
    DROP INDEX payments_sub; DROP INDEX payment_keys_payment;
    DELETE FROM schema_migrations WHERE version > 6; PRAGMA user_version = 6;`);
  assert.strictEqual(env.tally(['metrics']).code, 1, 'a database of version 6 is refused');
  const m = env.tally(['migrate']);
  assert.strictEqual(m.code, 0, m.stderr);
  assert.match(m.stdout, /from version 6 to 7/);
  const v = env.verify();
  assert.ok(v.ok, JSON.stringify(v.doc));
  const after = metrics(env);

  // Payments and the ledger are the same histories: their figures, day by day, unchanged.
  const money = ['payments', 'revenue', 'credits_granted', 'credits_spent', 'credits_expired', 'credits_revoked'];
  assert.deepStrictEqual(pick(after, money), pick(before, money));
  // Refunds from the audit: the full refund and the dispute with their amounts, on their
  // days; the partial refund counted without its amount.
  const refunds = (rows) => pick(rows, ['refunds', 'refunded']);
  assert.deepStrictEqual(refunds(before).map((x) => [x.product, x.refunds, x.refunded]).sort(),
    [['pro_monthly', 1, 1000], ['pro_monthly', 1, 250], ['team_monthly', 1, 5000]].sort());
  assert.deepStrictEqual(refunds(after).map((x) => ({ ...x, refunded: x.refunded || 250 })), refunds(before));
  // Today's stocks equal: each subscription counted as it stands.
  const last = (rows) => pick(rows.filter((x) => x.start === date(LAST)), ['mrr', 'paying', 'trials']);
  assert.deepStrictEqual(last(after), last(before));
  // mg_a renewed and mg_partial pay (no job ran to end the periods over); the disputed and
  // the refunded ones ended; mg_trial is still in its trial.
  assert.deepStrictEqual(last(after).map((x) => [x.product, x.currency || '', x.mrr, x.paying, x.trials]).sort(), [
    ['pro_monthly', '', 0, 0, 1], ['pro_monthly', 'USD', 2000, 2, 0],
  ].sort());
  // Movements before version 7 are not known: none made up.
  assert.strictEqual(after.reduce((s, x) => s + x.new_subs + x.churn_voluntary + x.churn_billing + x.conversions, 0), 0);
  // The write path goes on from there: a new subscription counts as new.
  await subscribe(env, 'mg_b', Date.now() - 1000);
  assert.strictEqual(metrics(env).reduce((s, x) => s + x.new_subs, 0), 1);
  assert.ok(env.verify().ok);
});

run({
  before: async () => startApi(),
  after: async (env, failed) => { await env.stop(failed > 0 && process.env.KEEP); },
});
